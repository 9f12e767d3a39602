WITH `segc_src_orders` AS (
  SELECT
    `customer_id` AS `segc_key`,
    COUNT(CASE WHEN `ordered_at` >= CAST('2024-04-16' AS DATE) THEN 1 END) AS `purchases_90d`,
    COUNT(
      CASE
        WHEN `ordered_at` >= CAST('2024-06-15' AS DATE) AND `category` = 'shoes'
        THEN 1
      END
    ) AS `shoes_30d`
  FROM `shop`.`orders`
  WHERE
    `ordered_at` >= CAST('2024-04-16' AS DATE)
    AND `ordered_at` < CAST('2024-07-15' AS DATE)
  GROUP BY
    `customer_id`
), `segc_distinct_1` AS (
  SELECT
    `customer_id` AS `segc_key`,
    COUNT(DISTINCT `category`) AS `categories_365d`
  FROM `shop`.`orders`
  WHERE
    `ordered_at` >= CAST('2023-07-16' AS DATE)
    AND `ordered_at` < CAST('2024-07-15' AS DATE)
  GROUP BY
    `customer_id`
), `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    COALESCE(`segc_src_orders`.`purchases_90d`, 0) AS `purchases_90d`,
    COALESCE(`segc_src_orders`.`shoes_30d`, 0) AS `shoes_30d`,
    COALESCE(`segc_distinct_1`.`categories_365d`, 0) AS `categories_365d`
  FROM `shop`.`customers` AS `segc_base`
  LEFT JOIN `segc_src_orders` AS `segc_src_orders`
    ON `segc_src_orders`.`segc_key` = `segc_base`.`customer_id`
  LEFT JOIN `segc_distinct_1` AS `segc_distinct_1`
    ON `segc_distinct_1`.`segc_key` = `segc_base`.`customer_id`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
WHERE
  NOT (
    `is_test` = TRUE
  )
  AND `purchases_90d` >= 2
  AND `shoes_30d` > 0
  AND `categories_365d` >= 3
