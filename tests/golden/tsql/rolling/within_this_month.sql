WITH [segc_features] AS (
  SELECT
    [segc_base].[customer_id] AS [segc_key],
    [segc_base].[is_test] AS [is_test],
    [segc_base].[last_login] AS [last_login]
  FROM [shop].[customers] AS [segc_base]
)
SELECT
  [segc_key] AS [customer_id]
FROM [segc_features]
WHERE
  NOT (
    [is_test] = 1
  )
  AND [last_login] >= CAST(DATEFROMPARTS(YEAR(CAST(GETDATE() AS DATE)), MONTH(CAST(GETDATE() AS DATE)), 1) AS DATETIME2)
  AND [last_login] < CAST(DATEADD(
    MONTH,
    1,
    DATEFROMPARTS(YEAR(CAST(GETDATE() AS DATE)), MONTH(CAST(GETDATE() AS DATE)), 1)
  ) AS DATETIME2)
