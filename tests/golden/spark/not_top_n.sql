WITH `segc_features` AS (
  SELECT
    `segc_base`.`customer_id` AS `segc_key`,
    `segc_base`.`is_test` AS `is_test`,
    `segc_base`.`age` AS `age`
  FROM `shop`.`customers` AS `segc_base`
), `segc_values_1` AS (
  SELECT
    `age` AS `segc_value`
  FROM `segc_features`
  WHERE
    NOT (
      `is_test` = TRUE
    ) AND NOT `age` IS NULL
), `segc_dist_1` AS (
  SELECT
    `segc_value`,
    COUNT(*) AS `segc_n`,
    SUM(COUNT(*)) OVER (ORDER BY `segc_value` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `segc_le`,
    SUM(COUNT(*)) OVER () AS `segc_total`
  FROM `segc_values_1`
  GROUP BY
    `segc_value`
), `segc_cuts_1` AS (
  SELECT
    MIN(CASE WHEN `segc_total` - `segc_le` < 3 THEN `segc_value` END) AS `segc_cut_1`
  FROM `segc_dist_1`
)
SELECT
  `segc_key` AS `customer_id`
FROM `segc_features`
CROSS JOIN `segc_cuts_1`
WHERE
  NOT (
    `is_test` = TRUE
  )
  AND NOT (
    NOT `age` IS NULL AND NOT `segc_cut_1` IS NULL AND `age` >= `segc_cut_1`
  )
