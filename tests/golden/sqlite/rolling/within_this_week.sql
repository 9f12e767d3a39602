WITH "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_base"."last_login" AS "last_login"
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
    "last_login" >= DATETIME(DATE(CURRENT_DATE, '-6 days', 'weekday 1'))
    AND "last_login" < DATETIME(DATE(DATE(CURRENT_DATE, '-6 days', 'weekday 1'), '+7 days'))
    OR "last_login" >= DATETIME(DATE(DATE(CURRENT_DATE, 'start of year'), '-1 years'))
    AND "last_login" < DATETIME(DATE(CURRENT_DATE, 'start of year'))
  )
