WITH "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_base"."last_login" AS "last_login",
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
  AND "last_login" > DATETIME(DATE(CURRENT_DATE, '-14 days'))
  AND "signup_date" > DATE(CURRENT_DATE, '-30 days')
