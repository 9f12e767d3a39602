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
  AND (
    [last_login] >= CAST(DATEADD(
      DAY,
      -(
        DATEDIFF(DAY, CAST('1900-01-01' AS DATE), CAST(GETDATE() AS DATE)) % 7
      ),
      CAST(GETDATE() AS DATE)
    ) AS DATETIME2)
    AND [last_login] < CAST(DATEADD(
      DAY,
      7,
      DATEADD(
        DAY,
        -(
          DATEDIFF(DAY, CAST('1900-01-01' AS DATE), CAST(GETDATE() AS DATE)) % 7
        ),
        CAST(GETDATE() AS DATE)
      )
    ) AS DATETIME2)
    OR [last_login] >= CAST(DATEADD(YEAR, -1, DATEFROMPARTS(YEAR(CAST(GETDATE() AS DATE)), 1, 1)) AS DATETIME2)
    AND [last_login] < CAST(DATEFROMPARTS(YEAR(CAST(GETDATE() AS DATE)), 1, 1) AS DATETIME2)
  )
