WITH "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_base"."age" AS "age",
    NULLIF("segc_base"."score", CAST('NaN' AS DOUBLE)) AS "score"
  FROM "shop"."customers" AS "segc_base"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  )
  AND "age" <> 30
  AND "score" < 1.5
  AND "score" <= 2
  AND "age" > 10
  AND "age" >= 11
