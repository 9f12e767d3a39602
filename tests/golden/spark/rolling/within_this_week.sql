WITH `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    `segc_base`.`last_login` AS `last_login`
  FROM `shop`.`customers` AS `segc_base`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
WHERE
  NOT (
    `is_test` = TRUE
  )
  AND (
    `last_login` >= CAST(TRUNC(CURRENT_DATE, 'WEEK') AS TIMESTAMP)
    AND `last_login` < CAST(DATE_ADD(TRUNC(CURRENT_DATE, 'WEEK'), 7) AS TIMESTAMP)
    OR `last_login` >= CAST(ADD_MONTHS(TRUNC(CURRENT_DATE, 'YEAR'), -1 * 12) AS TIMESTAMP)
    AND `last_login` < CAST(TRUNC(CURRENT_DATE, 'YEAR') AS TIMESTAMP)
  )
