WITH `segc_pick_1` AS (
  SELECT
    `segc_key`,
    `segc_v` AS `segc_agg_1`
  FROM (
    SELECT
      `customer_id` AS `segc_key`,
      NULLIF(`amount`, CAST('NaN' AS DOUBLE)) AS `segc_v`,
      ROW_NUMBER() OVER (
        PARTITION BY `customer_id`
        ORDER BY `ordered_at` DESC NULLS FIRST, NULLIF(`amount`, CAST('NaN' AS DOUBLE)) ASC NULLS LAST
      ) AS `segc_rn`
    FROM `shop`.`orders`
    WHERE
      `ordered_at` < CAST('2024-07-15' AS DATE)
  ) AS `segc_numbered`
  WHERE
    `segc_rn` = 1
), `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    `segc_pick_1`.`segc_agg_1` AS `segc_agg_1`
  FROM `shop`.`customers` AS `segc_base`
  LEFT JOIN `segc_pick_1` AS `segc_pick_1`
    ON `segc_pick_1`.`segc_key` = `segc_base`.`customer_id`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
WHERE
  NOT (
    `is_test` = TRUE
  ) AND `segc_agg_1` > 100
