WITH `segc_src_orders` AS (
  SELECT
    `customer_id` AS `segc_key`,
    MAX(`ordered_at`) AS `last_order_at`
  FROM `shop`.`orders`
  WHERE
    `ordered_at` < CURRENT_DATE
  GROUP BY
    `customer_id`
), `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    `segc_base`.`signup_date` AS `signup_date`,
    `segc_src_orders`.`last_order_at` AS `last_order_at`
  FROM `shop`.`customers` AS `segc_base`
  LEFT JOIN `segc_src_orders` AS `segc_src_orders`
    ON `segc_src_orders`.`segc_key` = `segc_base`.`customer_id`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
WHERE
  NOT (
    `is_test` = TRUE
  )
  AND DATEDIFF(DAY, CAST(`last_order_at` AS DATE), CURRENT_DATE) > 180
  AND DATEDIFF(DAY, CAST(`signup_date` AS DATE), CURRENT_DATE) <= 30
