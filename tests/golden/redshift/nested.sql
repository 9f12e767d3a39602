WITH "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_base"."age" AS "age",
    "segc_base"."country" AS "country",
    "segc_base"."City Name" AS "city",
    NULLIF("segc_base"."score", CAST('NaN' AS DOUBLE PRECISION)) AS "score",
    "segc_base"."vip" AS "vip"
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
    "age" > 18
    AND (
      "country" = 'FR' OR "city" = 'Lyon'
    )
    OR NOT (
      NOT "score" IS NULL AND "score" >= 3 AND NOT "vip" IS NULL AND "vip" = TRUE
    )
  )
