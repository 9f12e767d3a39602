WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    COUNT(*) AS "segc_agg_1",
    ARRAY_AGG("ordered_at") FILTER(WHERE
      "ordered_at" < CAST('2024-07-15' AS DATE) AND "category" = 'sneakers') AS "segc_xs_segc_seq_1",
    ARRAY_AGG("ordered_at") FILTER(WHERE
      "ordered_at" < CAST('2024-07-15' AS DATE) AND "category" = 'totes') AS "segc_ys_segc_seq_1"
  FROM "shop"."orders"
  WHERE
    "ordered_at" < CAST('2024-07-15' AS DATE)
  GROUP BY
    "customer_id"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    COALESCE("segc_src_orders"."segc_agg_1", 0) AS "segc_agg_1",
    COALESCE(
      COALESCE(
        LENGTH(
          LIST_FILTER(
            "segc_src_orders"."segc_xs_segc_seq_1",
            LAMBDA "segc_x" : LENGTH(
              LIST_FILTER(
                COALESCE("segc_src_orders"."segc_ys_segc_seq_1", []),
                LAMBDA "segc_y" : "segc_y" >= "segc_x" AND "segc_y" <= (
                  "segc_x" + INTERVAL 7 DAY
                )
              )
            ) > 0
          )
        ),
        0
      ),
      0
    ) AS "segc_agg_2"
  FROM "shop"."customers" AS "segc_base"
  LEFT JOIN "segc_src_orders" AS "segc_src_orders"
    ON "segc_src_orders"."segc_key" = "segc_base"."customer_id"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  ) AND "segc_agg_1" >= 2 AND "segc_agg_2" >= 1
