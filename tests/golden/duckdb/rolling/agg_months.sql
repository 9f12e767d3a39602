WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    FSUM(NULLIF("amount", CAST('NaN' AS DOUBLE))) AS "revenue_6m"
  FROM "shop"."orders"
  WHERE
    "ordered_at" >= (
      CURRENT_DATE + INTERVAL (-6) MONTH
    )
    AND "ordered_at" < CURRENT_DATE
  GROUP BY
    "customer_id"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    COALESCE("segc_src_orders"."revenue_6m", 0) AS "revenue_6m"
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
  ) AND "revenue_6m" > 500
