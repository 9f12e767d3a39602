WITH `segc_src_orders` AS (
  SELECT
    `customer_id` AS `segc_key`,
    SUM(CASE WHEN `ordered_at` >= DATE_ADD(CURRENT_DATE, -365) THEN `amount` END) AS `revenue_365d`,
    AVG(CASE WHEN `status` = 'completed' THEN `amount` END) AS `basket_avg`
  FROM `shop`.`orders`
  WHERE
    `ordered_at` < CURRENT_DATE
  GROUP BY
    `customer_id`
), `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    COALESCE(`segc_src_orders`.`revenue_365d`, 0) AS `revenue_365d`,
    `segc_src_orders`.`basket_avg` AS `basket_avg`
  FROM `shop`.`customers` AS `segc_base`
  LEFT JOIN `segc_src_orders` AS `segc_src_orders`
    ON `segc_src_orders`.`segc_key` = `segc_base`.`customer_id`
), `segc_rank_values` AS (
  SELECT
    `segc_key` AS `segc_rank_key`,
    `revenue_365d` AS `segc_value_1`,
    CASE WHEN NOT `basket_avg` IS NULL THEN `basket_avg` END AS `segc_value_2`
  FROM `segc_features`
  WHERE
    NOT (
      `is_test` = TRUE
    )
), `segc_ranked` AS (
  SELECT
    `segc_rank_key`,
    COUNT(`segc_value_1`) OVER () AS `segc_rank_1`,
    COUNT(`segc_value_1`) OVER () - RANK() OVER (ORDER BY `segc_value_1` DESC) + 1 AS `segc_rank_2`,
    COUNT(`segc_value_2`) OVER () AS `segc_rank_3`,
    COUNT(`segc_value_2`) OVER () - RANK() OVER (ORDER BY `segc_value_2` DESC) + 1 AS `segc_rank_4`
  FROM `segc_rank_values`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
JOIN `segc_ranked`
  ON `segc_ranked`.`segc_rank_key` = `segc_features`.`segc_key`
WHERE
  (
    (
      5 * `segc_rank_2` + `segc_rank_1` - 1
    ) DIV `segc_rank_1`
  ) = 5
  AND CASE
    WHEN NOT `basket_avg` IS NULL
    THEN (
      4 * `segc_rank_4` + `segc_rank_3` - 1
    ) DIV `segc_rank_3`
  END >= 3
