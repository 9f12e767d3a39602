WITH `segc_src_orders` AS (
  SELECT
    `customer_id` AS `segc_key`,
    COUNT(*) AS `segc_agg_1`
  FROM `shop`.`orders`
  WHERE
    `ordered_at` >= TRUNC(CURRENT_DATE, 'WEEK')
    AND `ordered_at` < DATEADD(DAY, 7, TRUNC(CURRENT_DATE, 'WEEK'))
    AND `ordered_at` < CURRENT_DATE
  GROUP BY
    `customer_id`
), `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    `segc_base`.`last_login` AS `last_login`,
    `segc_base`.`signup_date` AS `signup_date`,
    COALESCE(`segc_src_orders`.`segc_agg_1`, 0) AS `segc_agg_1`
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
  AND (
    `last_login` >= CAST(TRUNC(CURRENT_DATE, 'WEEK') AS TIMESTAMP)
    AND `last_login` < CAST(DATEADD(DAY, 7, TRUNC(CURRENT_DATE, 'WEEK')) AS TIMESTAMP)
    OR `segc_agg_1` >= 1
    OR `signup_date` >= CURRENT_DATE
    AND `signup_date` < DATEADD(DAY, 14, CURRENT_DATE)
  )
