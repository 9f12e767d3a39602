WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    FSUM(NULLIF("amount", CAST('NaN' AS DOUBLE))) / COUNT(NULLIF("amount", CAST('NaN' AS DOUBLE))) AS "basket_avg"
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
), "segc_values_1" AS (
  SELECT
    "basket_avg" AS "segc_value"
  FROM "segc_features"
  WHERE
    NOT (
      "is_test" = TRUE
    ) AND NOT "basket_avg" IS NULL
), "segc_dist_1" AS (
  SELECT
    "segc_value",
    COUNT(*) AS "segc_n",
    SUM(COUNT(*)) OVER (
      ORDER BY "segc_value" NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "segc_le",
    SUM(COUNT(*)) OVER () AS "segc_total"
  FROM "segc_values_1"
  GROUP BY
    "segc_value"
), "segc_cuts_1" AS (
  SELECT
    MAX(CASE WHEN 5 * "segc_le" <= 1 * "segc_total" THEN "segc_value" END) AS "segc_cut_1"
  FROM "segc_dist_1"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
CROSS JOIN "segc_cuts_1"
WHERE
  NOT (
    "is_test" = TRUE
  )
  AND NOT "basket_avg" IS NULL
  AND NOT "segc_cut_1" IS NULL
  AND "basket_avg" <= "segc_cut_1"
  AND "country" = 'FR'
