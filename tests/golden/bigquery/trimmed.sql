WITH `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    `segc_base`.`name` AS `name`,
    `segc_base`.`City Name` AS `city`
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
    TRIM(`name`, ' ') = 'Lea' OR LENGTH(TRIM(`city`, ' ')) > 3
  )
