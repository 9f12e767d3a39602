WITH "segc_pick_1" AS (
  SELECT
    "segc_key",
    "segc_v" AS "favourite_category"
  FROM (
    SELECT
      "segc_key",
      "segc_v",
      ROW_NUMBER() OVER (PARTITION BY "segc_key" ORDER BY "segc_n" DESC, "segc_v" ASC) AS "segc_rn"
    FROM (
      SELECT
        "customer_id" AS "segc_key",
        "category" AS "segc_v",
        COUNT(*) AS "segc_n"
      FROM "shop"."orders"
      WHERE
        "ordered_at" < CAST('2024-07-15' AS DATE) AND NOT "category" IS NULL
      GROUP BY
        "customer_id",
        "category"
    ) AS "segc_counted"
  ) AS "segc_numbered"
  WHERE
    "segc_rn" = 1
), "segc_features" AS (
  SELECT
    "segc_base"."customer_id" AS "segc_key",
    "segc_base"."is_test" AS "is_test",
    "segc_pick_1"."favourite_category" AS "favourite_category"
  FROM "shop"."customers" AS "segc_base"
  LEFT JOIN "segc_pick_1" AS "segc_pick_1"
    ON "segc_pick_1"."segc_key" = "segc_base"."customer_id"
)
SELECT
  "segc_key" AS "customer_id"
FROM "segc_features"
WHERE
  NOT (
    "is_test" = TRUE
  ) AND "favourite_category" = 'shoes'
