WITH "segc_seq_1" AS (
  SELECT
    "segc_key",
    COALESCE(
      LENGTH(
        LIST_FILTER(
          "segc_xs_y",
          LAMBDA "segc_x" : LENGTH(
            LIST_FILTER(
              COALESCE("segc_ys", []),
              LAMBDA "segc_y" : "segc_y" >= (
                "segc_x" + INTERVAL (-1) MONTH
              ) AND "segc_y" <= "segc_x"
            )
          ) - 1 > 0
        )
      ),
      0
    ) AS "segc_agg_1"
  FROM (
    SELECT
      "customer_id" AS "segc_key",
      ARRAY_AGG("ordered_at") FILTER(WHERE
        "ordered_at" < CAST('2024-07-15' AS DATE) AND "category" = 'totes') AS "segc_xs_y",
      ARRAY_AGG("ordered_at") FILTER(WHERE
        "ordered_at" < CAST('2024-07-15' AS DATE)) AS "segc_ys"
    FROM "shop"."orders"
    WHERE
      (
        "ordered_at" < CAST('2024-07-15' AS DATE) AND "category" = 'totes'
      )
      OR (
        "ordered_at" < CAST('2024-07-15' AS DATE)
      )
    GROUP BY
      "customer_id"
  ) AS "segc_lists"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    COALESCE("segc_seq_1"."segc_agg_1", 0) AS "segc_agg_1"
  FROM "shop"."customers" AS "segc_base"
  LEFT JOIN "segc_seq_1" AS "segc_seq_1"
    ON "segc_seq_1"."segc_key" = "segc_base"."customer_id"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  ) AND "segc_agg_1" >= 2
