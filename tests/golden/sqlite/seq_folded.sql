WITH "segc_src_orders" AS (
  SELECT
    "customer_id" AS "segc_key",
    COUNT(*) AS "segc_agg_1"
  FROM "shop"."orders"
  WHERE
    "ordered_at" < '2024-07-15'
  GROUP BY
    "customer_id"
), "segc_seq_1" AS (
  SELECT
    "segc_key",
    SUM(CASE WHEN "segc_hits" - "segc_self" > 0 THEN "segc_n" ELSE 0 END) AS "segc_agg_2"
  FROM (
    SELECT
      "x"."segc_key",
      "x"."segc_t",
      "x"."segc_n",
      "x"."segc_self",
      COUNT("y"."segc_key") AS "segc_hits"
    FROM (
      SELECT
        "customer_id" AS "segc_key",
        "ordered_at" AS "segc_t",
        CASE WHEN "category" = 'totes' THEN 1 ELSE 0 END AS "segc_self",
        COUNT(*) AS "segc_n"
      FROM "shop"."orders"
      WHERE
        "ordered_at" < '2024-07-15' AND "category" = 'sneakers'
      GROUP BY
        "customer_id",
        "ordered_at",
        CASE WHEN "category" = 'totes' THEN 1 ELSE 0 END
    ) AS "x"
    LEFT JOIN (
      SELECT
        "customer_id" AS "segc_key",
        "ordered_at" AS "segc_t"
      FROM "shop"."orders"
      WHERE
        "ordered_at" < '2024-07-15' AND "category" = 'totes'
    ) AS "y"
      ON "y"."segc_key" = "x"."segc_key"
      AND "y"."segc_t" >= "x"."segc_t"
      AND "y"."segc_t" <= (
        DATE("x"."segc_t", '+7 days') || SUBSTRING("x"."segc_t", 11)
      )
    GROUP BY
      "x"."segc_key",
      "x"."segc_t",
      "x"."segc_n",
      "x"."segc_self"
  ) AS "segc_pairs"
  GROUP BY
    "segc_key"
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    COALESCE("segc_src_orders"."segc_agg_1", 0) AS "segc_agg_1",
    COALESCE("segc_seq_1"."segc_agg_2", 0) AS "segc_agg_2"
  FROM "shop"."customers" AS "segc_base"
  LEFT JOIN "segc_src_orders" AS "segc_src_orders"
    ON "segc_src_orders"."segc_key" = "segc_base"."customer_id"
  LEFT JOIN "segc_seq_1" AS "segc_seq_1"
    ON "segc_seq_1"."segc_key" = "segc_base"."customer_id"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  ) AND "segc_agg_1" >= 2 AND "segc_agg_2" >= 1
