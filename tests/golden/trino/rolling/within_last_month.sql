WITH "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_base"."signup_date" AS "signup_date"
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
    "signup_date" >= DATE_ADD('MONTH', -1, DATE_TRUNC('MONTH', CURRENT_DATE))
    AND "signup_date" < DATE_TRUNC('MONTH', CURRENT_DATE)
    OR "signup_date" >= DATE_TRUNC('YEAR', CURRENT_DATE)
    AND "signup_date" < DATE_ADD('YEAR', 1, DATE_TRUNC('YEAR', CURRENT_DATE))
  )
