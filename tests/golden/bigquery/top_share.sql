WITH `segc_src_orders` AS (
  SELECT
    `customer_id` AS `segc_key`,
    SUM(`amount`) AS `revenue_365d`
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
    COALESCE(`segc_src_orders`.`revenue_365d`, 0) AS `revenue_365d`
  FROM `shop`.`customers` AS `segc_base`
  LEFT JOIN `segc_src_orders` AS `segc_src_orders`
    ON `segc_src_orders`.`segc_key` = `segc_base`.`customer_id`
), `segc_rank_values` AS (
  SELECT
    `segc_key` AS `segc_rank_key`,
    `revenue_365d` AS `segc_value_1`
  FROM `segc_features`
  WHERE
    NOT (
      `is_test` = TRUE
    )
), `segc_ranked` AS (
  SELECT
    `segc_rank_key`,
    COUNT(*) OVER () - RANK() OVER (ORDER BY `segc_value_1` ASC) + 1 AS `segc_rank_1`,
    COUNT(`segc_value_1`) OVER () AS `segc_rank_2`
  FROM `segc_rank_values`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
JOIN `segc_ranked`
  ON `segc_ranked`.`segc_rank_key` = `segc_features`.`segc_key`
WHERE
  `segc_rank_1` * 10 <= 1 * `segc_rank_2`
