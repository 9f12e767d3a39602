WITH "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
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
  AND ABS("score") > 1
  AND LIST_TRANSFORM(
    ["score"],
    LAMBDA segc_round : CASE
      WHEN ABS(segc_round) < 1e15
      THEN CAST(ROUND(CAST(CAST(segc_round AS TEXT) AS DECIMAL(38, 23)), 1) AS DOUBLE)
      ELSE ROUND(segc_round, 1)
    END
  )[1] = 2.5
  AND ROUND("score") = 3
  AND CAST(FLOOR("score") AS BIGINT) >= 1
  AND CAST(CEIL("score") AS BIGINT) <= 3
