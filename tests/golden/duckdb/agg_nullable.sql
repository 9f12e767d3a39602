WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    FSUM(
      CASE WHEN "status" = 'completed' THEN NULLIF("amount", CAST('NaN' AS DOUBLE)) END
    ) / COUNT(
      CASE WHEN "status" = 'completed' THEN NULLIF("amount", CAST('NaN' AS DOUBLE)) END
    ) AS "basket_avg",
    MAX("ordered_at") AS "last_order_at"
  FROM "shop"."orders"
  WHERE
    "ordered_at" < CAST('2024-07-15' AS DATE)
  GROUP BY
    "customer_id"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_src_orders"."basket_avg" AS "basket_avg",
    "segc_src_orders"."last_order_at" AS "last_order_at"
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
    "basket_avg" > 80.0
    OR NOT (
      NOT "last_order_at" IS NULL
      AND "last_order_at" >= CAST('2024-01-01 00:00:00' AS TIMESTAMP)
    )
  )
