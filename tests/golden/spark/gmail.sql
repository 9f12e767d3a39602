WITH `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    `segc_base`.`email` AS `email`,
    `segc_base`.`name` AS `name`
  FROM `shop`.`customers` AS `segc_base`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
WHERE
  NOT (
    `is_test` = TRUE
  )
  AND `email` RLIKE '^[a-z.]+@gmail\\.com\\z'
  AND NOT (
    NOT `name` IS NULL AND `name` RLIKE '(x|y){2,3}[^\n]'
  )
