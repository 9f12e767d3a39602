WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    AVG("amount") AS "basket_avg"
  FROM "shop"."orders"
  WHERE
    "status" = 'completed' AND "ordered_at" < CAST('2024-07-15' AS DATE)
  GROUP BY
    "customer_id"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_base"."country" AS "country",
    "segc_src_orders"."basket_avg" AS "basket_avg"
  FROM "shop"."customers" AS "segc_base"
  LEFT JOIN "segc_src_orders" AS "segc_src_orders"
    ON "segc_src_orders"."segc_key" = "segc_base"."customer_id"
), "segc_rank_values" AS (
  SELECT
    "segc_key" AS "segc_rank_key",
    CASE WHEN NOT "basket_avg" IS NULL THEN "basket_avg" END AS "segc_value_1"
  FROM "segc_features"
  WHERE
    NOT (
      "is_test" = TRUE
    )
), "segc_ranked" AS (
  SELECT
    "segc_rank_key",
    COUNT("segc_value_1") OVER () - RANK() OVER (ORDER BY "segc_value_1" DESC NULLS LAST) + 1 AS "segc_rank_1",
    COUNT("segc_value_1") OVER () AS "segc_rank_2"
  FROM "segc_rank_values"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
JOIN "segc_ranked"
  ON "segc_ranked"."segc_rank_key" = "segc_features"."segc_key"
WHERE
  NOT "basket_avg" IS NULL
  AND "segc_rank_1" * 5 <= 1 * "segc_rank_2"
  AND "country" = 'FR'
