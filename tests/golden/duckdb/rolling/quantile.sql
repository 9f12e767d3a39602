WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    FSUM(
      CASE
        WHEN "ordered_at" >= (
          CURRENT_DATE + INTERVAL (-365) DAY
        )
        THEN NULLIF("amount", CAST('NaN' AS DOUBLE))
      END
    ) AS "revenue_365d",
    FSUM(
      CASE WHEN "status" = 'completed' THEN NULLIF("amount", CAST('NaN' AS DOUBLE)) END
    ) / COUNT(
      CASE WHEN "status" = 'completed' THEN NULLIF("amount", CAST('NaN' AS DOUBLE)) END
    ) AS "basket_avg"
  FROM "shop"."orders"
  WHERE
    "ordered_at" < CURRENT_DATE
  GROUP BY
    "customer_id"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    COALESCE("segc_src_orders"."revenue_365d", 0) AS "revenue_365d",
    "segc_src_orders"."basket_avg" AS "basket_avg"
  FROM "shop"."customers" AS "segc_base"
  LEFT JOIN "segc_src_orders" AS "segc_src_orders"
    ON "segc_src_orders"."segc_key" = "segc_base"."customer_id"
), "segc_values_1" AS (
  SELECT
    "revenue_365d" AS "segc_value"
  FROM "segc_features"
  WHERE
    NOT (
      "is_test" = TRUE
    )
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
    MIN(CASE WHEN 5 * "segc_le" > 4 * "segc_total" THEN "segc_value" END) AS "segc_cut_1"
  FROM "segc_dist_1"
), "segc_values_2" AS (
  SELECT
    "basket_avg" AS "segc_value"
  FROM "segc_features"
  WHERE
    NOT (
      "is_test" = TRUE
    ) AND NOT "basket_avg" IS NULL
), "segc_dist_2" AS (
  SELECT
    "segc_value",
    COUNT(*) AS "segc_n",
    SUM(COUNT(*)) OVER (
      ORDER BY "segc_value" NULLS FIRST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS "segc_le",
    SUM(COUNT(*)) OVER () AS "segc_total"
  FROM "segc_values_2"
  GROUP BY
    "segc_value"
), "segc_cuts_2" AS (
  SELECT
    MIN(CASE WHEN 4 * "segc_le" > 2 * "segc_total" THEN "segc_value" END) AS "segc_cut_2"
  FROM "segc_dist_2"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
CROSS JOIN "segc_cuts_1"
CROSS JOIN "segc_cuts_2"
WHERE
  NOT (
    "is_test" = TRUE
  )
  AND "revenue_365d" >= "segc_cut_1"
  AND "basket_avg" >= "segc_cut_2"
