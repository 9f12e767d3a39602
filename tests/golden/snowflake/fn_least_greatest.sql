WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    AVG(NULLIF("amount", CAST('NaN' AS DOUBLE))) AS "basket_avg"
  FROM "shop"."orders"
  WHERE
    "status" = 'completed' AND "ordered_at" < CAST('2024-07-15' AS DATE)
  GROUP BY
    "customer_id"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_base"."age" AS "age",
    NULLIF("segc_base"."score", CAST('NaN' AS DOUBLE)) AS "score",
    "segc_src_orders"."basket_avg" AS "basket_avg"
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
  AND CASE WHEN NOT "age" IS NULL THEN LEAST_IGNORE_NULLS("age", 40) END >= 30
  AND CASE
    WHEN NOT "score" IS NULL AND NOT "basket_avg" IS NULL
    THEN GREATEST_IGNORE_NULLS("score", 0.5, "basket_avg" / 100)
  END < 3
