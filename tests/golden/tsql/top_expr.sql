WITH [segc_src_orders] AS (
  SELECT
    [customer_id] AS [segc_key],
    SUM(CASE WHEN [ordered_at] >= CAST('2023-07-16' AS DATE) THEN [amount] END) AS [revenue_365d],
    COUNT(CASE WHEN [ordered_at] >= CAST('2024-04-16' AS DATE) THEN 1 END) AS [purchases_90d]
  FROM [shop].[orders]
  WHERE
    [ordered_at] >= CAST('2023-07-16' AS DATE)
    AND [ordered_at] < CAST('2024-07-15' AS DATE)
  GROUP BY
    [customer_id]
), [segc_features] AS (
  SELECT
    [segc_base].[customer_id] AS [segc_key],
    [segc_base].[is_test] AS [is_test],
    COALESCE([segc_src_orders].[revenue_365d], 0) AS [revenue_365d],
    COALESCE([segc_src_orders].[purchases_90d], 0) AS [purchases_90d]
  FROM [shop].[customers] AS [segc_base]
  LEFT JOIN [segc_src_orders] AS [segc_src_orders]
    ON [segc_src_orders].[segc_key] = [segc_base].[customer_id]
), [segc_rank_values] AS (
  SELECT
    [segc_key] AS [segc_rank_key],
    CASE
      WHEN [purchases_90d] <> 0
      THEN CAST([revenue_365d] AS FLOAT) / NULLIF([purchases_90d], 0)
    END AS [segc_value_1]
  FROM [segc_features]
  WHERE
    NOT (
      [is_test] = 1
    )
), [segc_ranked] AS (
  SELECT
    [segc_rank_key] AS [segc_rank_key],
    COUNT(*) OVER () - RANK() OVER (ORDER BY [segc_value_1] ASC) + 1 AS [segc_rank_1],
    COUNT([segc_value_1]) OVER () AS [segc_rank_2]
  FROM [segc_rank_values]
)
SELECT
  [segc_key] AS [customer_id]
FROM [segc_features]
JOIN [segc_ranked]
  ON [segc_ranked].[segc_rank_key] = [segc_features].[segc_key]
WHERE
  [purchases_90d] <> 0 AND [segc_rank_1] * 8 <= 1 * [segc_rank_2]
