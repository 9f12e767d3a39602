WITH `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
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
  AND `signup_date` >= CAST('2024-06-15' AS DATE)
  AND `signup_date` < CAST('2024-07-15' AS DATE)
