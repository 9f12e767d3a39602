WITH `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    `segc_base`.`last_login` AS `last_login`,
    `segc_base`.`signup_date` AS `signup_date`
  FROM `shop`.`customers` AS `segc_base`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
WHERE
  NOT (
    `is_test` = TRUE
  )
  AND `last_login` > CAST(DATE_ADD(CURRENT_DATE, -14) AS TIMESTAMP)
  AND DATE_ADD(`signup_date`, 30) > CURRENT_DATE
