WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    FSUM(NULLIF("amount", CAST('NaN' AS DOUBLE))) / COUNT(NULLIF("amount", CAST('NaN' AS DOUBLE))) AS "segc_agg_1",
    MAX("ordered_at") AS "segc_agg_3",
    MIN(
      CASE WHEN "status" <> 'returned' THEN NULLIF("amount", CAST('NaN' AS DOUBLE)) END
    ) AS "segc_agg_4"
  FROM "shop"."orders"
  WHERE
    "ordered_at" < CAST('2024-07-15' AS DATE)
  GROUP BY
    "customer_id"
), "segc_distinct_1" AS (
  SELECT
    "customer_id" AS "segc_key",
    COUNT(DISTINCT "category") AS "segc_agg_2"
  FROM "shop"."orders"
  WHERE
    "ordered_at" >= CAST('2024-01-01' AS DATE)
    AND "ordered_at" < CAST('2025-01-01' AS DATE)
    AND "ordered_at" < CAST('2024-07-15' AS DATE)
  GROUP BY
    "customer_id"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_src_orders"."segc_agg_1" AS "segc_agg_1",
    "segc_src_orders"."segc_agg_3" AS "segc_agg_3",
    "segc_src_orders"."segc_agg_4" AS "segc_agg_4",
    COALESCE("segc_distinct_1"."segc_agg_2", 0) AS "segc_agg_2"
  FROM "shop"."customers" AS "segc_base"
  LEFT JOIN "segc_src_orders" AS "segc_src_orders"
    ON "segc_src_orders"."segc_key" = "segc_base"."customer_id"
  LEFT JOIN "segc_distinct_1" AS "segc_distinct_1"
    ON "segc_distinct_1"."segc_key" = "segc_base"."customer_id"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  )
  AND "segc_agg_1" > 50
  AND "segc_agg_2" >= 3
  AND "segc_agg_3" >= CAST('2024-07-01 00:00:00' AS TIMESTAMP)
  AND "segc_agg_4" < 50
