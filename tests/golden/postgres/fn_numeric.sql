WITH "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    NULLIF("segc_base"."score", CAST('NaN' AS DOUBLE PRECISION)) AS "score"
  FROM "shop"."customers" AS "segc_base"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  )
  AND ABS("score") > 1
  AND ROUND(CAST(CAST("score" AS TEXT) AS DECIMAL), 1) = 2.5
  AND ROUND(CAST(CAST("score" AS TEXT) AS DECIMAL)) = 3
  AND CAST(FLOOR("score") AS BIGINT) >= 1
  AND CAST(CEIL("score") AS BIGINT) <= 3
