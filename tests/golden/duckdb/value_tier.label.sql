WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    FSUM(NULLIF("amount", CAST('NaN' AS DOUBLE))) AS "revenue_365d"
  FROM "shop"."orders"
  WHERE
    "ordered_at" >= CAST('2023-07-16' AS DATE)
    AND "ordered_at" < CAST('2024-07-15' AS DATE)
  GROUP BY
    "customer_id"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    COALESCE("segc_src_orders"."revenue_365d", 0) AS "revenue_365d"
  FROM "shop"."customers" AS "segc_base"
  LEFT JOIN "segc_src_orders" AS "segc_src_orders"
    ON "segc_src_orders"."segc_key" = "segc_base"."customer_id"
)
SELECT
  "segc_key" AS "customer_id",
  CASE
    WHEN "revenue_365d" >= 1000
    THEN 'very_good'
    WHEN "revenue_365d" >= 300
    THEN 'good'
    WHEN "revenue_365d" >= 50
    THEN 'average'
    ELSE 'occasional'
  END AS "segment"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  )
