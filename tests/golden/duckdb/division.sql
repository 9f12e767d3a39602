WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    FSUM(
      CASE
        WHEN "ordered_at" >= CAST('2023-07-16' AS DATE)
        THEN NULLIF("amount", CAST('NaN' AS DOUBLE))
      END
    ) AS "revenue_365d",
    COUNT(CASE WHEN "ordered_at" >= CAST('2024-04-16' AS DATE) THEN 1 END) AS "purchases_90d"
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
    "segc_base"."age" AS "age",
    COALESCE("segc_src_orders"."revenue_365d", 0) AS "revenue_365d",
    COALESCE("segc_src_orders"."purchases_90d", 0) AS "purchases_90d"
  FROM "shop"."customers" AS "segc_base"
  LEFT JOIN "segc_src_orders" AS "segc_src_orders"
    ON "segc_src_orders"."segc_key" = "segc_base"."customer_id"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  )
  AND (
    "revenue_365d" / NULLIF("purchases_90d", 0)
  ) > 50
  AND (
    "age" / 2
  ) >= 10
