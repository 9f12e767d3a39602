WITH `segc_src_orders` AS (
  SELECT
    `customer_id` AS `segc_key`,
    MIN(`ordered_at`) AS `segc_agg_2`
  FROM `shop`.`orders`
  WHERE
    `ordered_at` < CAST('2024-07-15' AS DATE)
  GROUP BY
    `customer_id`
), `segc_pick_1` AS (
  SELECT
    `segc_events`.`customer_id` AS `segc_key`,
    MIN(`segc_events`.`ordered_at`) AS `segc_agg_1`
  FROM `shop`.`orders` AS `segc_events`
  JOIN (
    SELECT
      `segc_key`,
      `segc_agg_2` AS `segc_t`
    FROM `segc_src_orders`
  ) AS `segc_latest`
    ON `segc_latest`.`segc_key` = `segc_events`.`customer_id`
    AND `segc_latest`.`segc_t` = `segc_events`.`ordered_at`
  WHERE
    `segc_events`.`ordered_at` < CAST('2024-07-15' AS DATE)
  GROUP BY
    `segc_events`.`customer_id`
), `segc_pick_2` AS (
  SELECT
    `segc_key`,
    `segc_v` AS `segc_agg_3`
  FROM (
    SELECT
      `customer_id` AS `segc_key`,
      `ordered_at` AS `segc_v`,
      ROW_NUMBER() OVER (PARTITION BY `customer_id` ORDER BY `ordered_at` ASC NULLS LAST) AS `segc_rn`
    FROM `shop`.`orders`
    WHERE
      `ordered_at` < CAST('2024-07-15' AS DATE)
  ) AS `segc_numbered`
  WHERE
    `segc_rn` = 2
), `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    `segc_src_orders`.`segc_agg_2` AS `segc_agg_2`,
    `segc_pick_1`.`segc_agg_1` AS `segc_agg_1`,
    `segc_pick_2`.`segc_agg_3` AS `segc_agg_3`
  FROM `shop`.`customers` AS `segc_base`
  LEFT JOIN `segc_src_orders` AS `segc_src_orders`
    ON `segc_src_orders`.`segc_key` = `segc_base`.`customer_id`
  LEFT JOIN `segc_pick_1` AS `segc_pick_1`
    ON `segc_pick_1`.`segc_key` = `segc_base`.`customer_id`
  LEFT JOIN `segc_pick_2` AS `segc_pick_2`
    ON `segc_pick_2`.`segc_key` = `segc_base`.`customer_id`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
WHERE
  NOT (
    `is_test` = TRUE
  )
  AND DATEDIFF(DAY, CAST(`segc_agg_1` AS DATE), CAST(`segc_agg_3` AS DATE)) <= 30
