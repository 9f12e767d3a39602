WITH "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    NULLIF("segc_base"."score", CAST('NaN' AS DOUBLE PRECISION)) AS "score",
    "segc_base"."age" AS "age"
  FROM "shop"."customers" AS "segc_base"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  )
  AND (
    -"score"
  ) < (
    -1.5
  )
  AND (
    -(
      "age" - 100
    )
  ) > 40
