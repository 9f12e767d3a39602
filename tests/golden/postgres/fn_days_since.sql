WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
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
    "segc_base"."signup_date" AS "signup_date",
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
  AND CAST(EXTRACT(epoch FROM CAST(CAST('2024-07-15' AS DATE) AS TIMESTAMP) - CAST(CAST("last_order_at" AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT) > 180
  AND CAST(EXTRACT(epoch FROM CAST(CAST('2024-07-15' AS DATE) AS TIMESTAMP) - CAST(CAST("signup_date" AS DATE) AS TIMESTAMP)) / 86400 AS BIGINT) <= 30
