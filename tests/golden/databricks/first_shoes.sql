WITH `segc_src_orders` AS (
  SELECT
    `customer_id` AS `segc_key`,
    MIN(CASE WHEN `status` = 'completed' THEN `ordered_at` END) AS `segc_agg_1`,
    MIN(CASE WHEN `status` = 'completed' AND `category` = 'shoes' THEN `ordered_at` END) AS `segc_agg_2`,
    MIN(CASE WHEN `status` = 'completed' AND `category` < 'shoes' THEN `ordered_at` END) AS `segc_agg_3`
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
    `segc_src_orders`.`segc_agg_1` AS `segc_agg_1`,
    `segc_src_orders`.`segc_agg_2` AS `segc_agg_2`,
    `segc_src_orders`.`segc_agg_3` AS `segc_agg_3`
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
  AND `segc_agg_2` = `segc_agg_1`
  AND (
    `segc_agg_3` IS NULL OR `segc_agg_3` <> `segc_agg_1`
  )
