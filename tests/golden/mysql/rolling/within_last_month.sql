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
  AND (
    `signup_date` >= DATE_ADD(
      STR_TO_DATE(CONCAT(YEAR(CURRENT_DATE), ' ', MONTH(CURRENT_DATE), ' 1'), '%Y %c %e'),
      INTERVAL -1 MONTH
    )
    AND `signup_date` < STR_TO_DATE(CONCAT(YEAR(CURRENT_DATE), ' ', MONTH(CURRENT_DATE), ' 1'), '%Y %c %e')
    OR `signup_date` >= STR_TO_DATE(CONCAT(YEAR(CURRENT_DATE), ' 1 1'), '%Y %c %e')
    AND `signup_date` < DATE_ADD(STR_TO_DATE(CONCAT(YEAR(CURRENT_DATE), ' 1 1'), '%Y %c %e'), INTERVAL 1 YEAR)
  )
