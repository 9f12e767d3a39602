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
    `last_login` >= CAST(STR_TO_DATE(CONCAT(YEAR(CURRENT_DATE), ' ', WEEK(CURRENT_DATE, 1), ' 1'), '%Y %u %w') AS DATETIME)
    AND `last_login` < CAST(DATE_ADD(
      STR_TO_DATE(CONCAT(YEAR(CURRENT_DATE), ' ', WEEK(CURRENT_DATE, 1), ' 1'), '%Y %u %w'),
      INTERVAL 7 DAY
    ) AS DATETIME)
    OR `last_login` >= CAST(DATE_ADD(STR_TO_DATE(CONCAT(YEAR(CURRENT_DATE), ' 1 1'), '%Y %c %e'), INTERVAL -1 YEAR) AS DATETIME)
    AND `last_login` < CAST(STR_TO_DATE(CONCAT(YEAR(CURRENT_DATE), ' 1 1'), '%Y %c %e') AS DATETIME)
  )
