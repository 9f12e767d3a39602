-- The best single query I could write by hand for the 35 segments and branches of
-- benchmarks/count_speed_project (a frozen copy of examples/retail: as-of 2024-07-01,
-- $min_basket = 80), for benchmarks/count_speed.py.
-- Output columns: the population, then one count per segment in project.segment_names order.
-- Hand optimisations over segc's counts query:
--   * the carts window (30 days, the only one used on carts) is pushed into WHERE;
--   * the windowed COUNT(DISTINCT category) gets its own pre-filtered GROUP BY instead of
--     a CASE inside the main orders aggregation;
--   * `top 10% by revenue` reuses the ascending revenue sort of the quantile score (a
--     frame from the current row to the end counts the values >= x): 3 sorts, not 4;
--   * quantile scores compared as integers once (5 * le > 3 * n means score >= 4),
--     RFM and quadrant flags computed once and reused; integer arithmetic for ratios.
WITH o AS (
  SELECT customer_id,
    max(ordered_at) AS last_order_at,
    count(CASE WHEN ordered_at >= DATE '2023-07-02' AND status = 'completed' THEN 1 END) AS purchases_365d,
    avg(CASE WHEN status = 'completed' THEN amount END) AS basket_avg,
    count(CASE WHEN ordered_at >= DATE '2024-06-01' THEN 1 END) AS orders_30d,
    count(CASE WHEN ordered_at >= DATE '2024-04-02' AND category = 'shoes' THEN 1 END) AS shoes_90d,
    count(CASE WHEN ordered_at >= DATE '2023-07-02' AND status = 'returned' THEN 1 END) AS returns_365d,
    sum(CASE WHEN ordered_at >= DATE '2023-07-02' AND status = 'completed' THEN amount END) AS revenue_365d,
    count(CASE WHEN ordered_at >= DATE '2024-06-01' AND category = 'shoes' THEN 1 END) AS shoes_30d
  FROM shop.orders
  WHERE ordered_at < DATE '2024-07-01'
  GROUP BY customer_id
), cat AS (
  SELECT customer_id, count(DISTINCT category) AS categories_365d
  FROM shop.orders
  WHERE ordered_at >= DATE '2023-07-02' AND ordered_at < DATE '2024-07-01'
  GROUP BY customer_id
), c AS (
  SELECT customer_id, sum(CASE WHEN abandoned THEN value END) AS abandoned_30d
  FROM shop.carts
  WHERE created_at >= DATE '2024-06-01' AND created_at < DATE '2024-07-01'
  GROUP BY customer_id
), f AS (
  SELECT b.country, b.age, b."City Name" AS city, b.signup_date, b.email_optin, b.sms_optin, b.loyalty_card,
    o.customer_id IS NOT NULL AS has_orders,
    c.customer_id IS NOT NULL AS has_carts_30d,
    o.last_order_at,
    coalesce(o.purchases_365d, 0) AS p365, o.basket_avg,
    coalesce(o.orders_30d, 0) AS orders_30d, coalesce(o.shoes_90d, 0) AS shoes_90d,
    coalesce(o.returns_365d, 0) AS returns_365d, coalesce(o.revenue_365d, 0) AS revenue_365d,
    coalesce(o.shoes_30d, 0) AS shoes_30d, coalesce(cat.categories_365d, 0) AS categories_365d,
    coalesce(c.abandoned_30d, 0) AS abandoned_30d
  FROM shop.customers b
  LEFT JOIN o ON o.customer_id = b.customer_id
  LEFT JOIN c ON c.customer_id = b.customer_id
  LEFT JOIN cat ON cat.customer_id = b.customer_id
  WHERE NOT b.is_test
), g AS (
  SELECT *,
    last_order_at < DATE '2024-01-03' AS inactive_6m,
    p365 >= 5 AND basket_avg > 80 AS lbb,
    p365 >= 5 AND basket_avg <= 80 AS lsb,
    p365 BETWEEN 1 AND 4 AND basket_avg > 80 AS obb,
    p365 BETWEEN 1 AND 4 AND basket_avg <= 80 AS osb,
    count(*) OVER (ORDER BY revenue_365d RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) * 10 <= count(*) OVER () AS top10,
    count(last_order_at) OVER (ORDER BY CAST(last_order_at AS DATE)) AS r_le,
    count(last_order_at) OVER () AS r_n,
    count(*) OVER (ORDER BY p365) AS f_le,
    count(*) OVER (ORDER BY revenue_365d) AS m_le,
    count(*) OVER () AS n
  FROM f
), h AS (
  SELECT *,
    coalesce(last_order_at IS NOT NULL AND 5 * r_le > 3 * r_n, false) AS r4,
    coalesce(last_order_at IS NOT NULL AND 5 * r_le <= 2 * r_n, false) AS r_le2,
    5 * f_le > 3 * n AS f4,
    5 * m_le > 3 * n AS m4,
    5 * m_le > 2 * n AS m3
  FROM g
)
SELECT
  count(*),
  sum(CASE WHEN country = 'FR' AND age BETWEEN 18 AND 30 AND city IN ('Paris', 'Lyon', 'Marseille') THEN 1 ELSE 0 END),
  sum(CASE WHEN country IN ('DE', 'CH') AND age >= 60 THEN 1 ELSE 0 END),
  sum(CASE WHEN signup_date >= DATE '2024-06-01' AND signup_date < DATE '2024-07-01' THEN 1 ELSE 0 END),
  sum(CASE WHEN age IS NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN inactive_6m THEN 1 ELSE 0 END),
  sum(CASE WHEN inactive_6m AND lbb IS NOT TRUE THEN 1 ELSE 0 END),
  sum(CASE WHEN orders_30d > 0 OR has_carts_30d THEN 1 ELSE 0 END),
  sum(CASE WHEN abandoned_30d > 100 THEN 1 ELSE 0 END),
  sum(CASE WHEN shoes_90d >= 2 THEN 1 ELSE 0 END),
  sum(CASE WHEN returns_365d >= 3 AND returns_365d * 10 >= 3 * (p365 + returns_365d) THEN 1 ELSE 0 END),
  sum(CASE WHEN NOT has_orders AND signup_date < DATE '2024-04-02' THEN 1 ELSE 0 END),
  sum(CASE WHEN inactive_6m AND lbb IS NOT TRUE AND email_optin THEN 1 ELSE 0 END),
  sum(CASE WHEN abandoned_30d > 100 AND (email_optin OR sms_optin) THEN 1 ELSE 0 END),
  sum(CASE WHEN top10 AND country IN ('FR', 'BE') THEN 1 ELSE 0 END),
  sum(CASE WHEN (shoes_30d >= 1 OR shoes_90d >= 2) AND loyalty_card THEN 1 ELSE 0 END),
  sum(CASE WHEN lsb AND categories_365d <= 2 THEN 1 ELSE 0 END),
  sum(CASE WHEN lbb THEN 1 ELSE 0 END),
  sum(CASE WHEN lsb THEN 1 ELSE 0 END),
  sum(CASE WHEN obb THEN 1 ELSE 0 END),
  sum(CASE WHEN osb THEN 1 ELSE 0 END),
  sum(CASE WHEN lbb THEN 1 ELSE 0 END),
  sum(CASE WHEN p365 >= 5 AND lbb IS NOT TRUE THEN 1 ELSE 0 END),
  sum(CASE WHEN obb THEN 1 ELSE 0 END),
  sum(CASE WHEN p365 BETWEEN 1 AND 4 AND obb IS NOT TRUE THEN 1 ELSE 0 END),
  sum(CASE WHEN r4 AND f4 AND m4 THEN 1 ELSE 0 END),
  sum(CASE WHEN f4 AND NOT (r4 AND m4) THEN 1 ELSE 0 END),
  sum(CASE WHEN r4 AND NOT f4 THEN 1 ELSE 0 END),
  sum(CASE WHEN r_le2 AND m3 AND NOT f4 THEN 1 ELSE 0 END),
  sum(CASE WHEN NOT (f4 OR r4 OR (r_le2 AND m3)) THEN 1 ELSE 0 END),
  sum(CASE WHEN revenue_365d >= 1000 THEN 1 ELSE 0 END),
  sum(CASE WHEN revenue_365d >= 300 AND revenue_365d < 1000 THEN 1 ELSE 0 END),
  sum(CASE WHEN revenue_365d >= 50 AND revenue_365d < 300 THEN 1 ELSE 0 END),
  sum(CASE WHEN revenue_365d < 50 THEN 1 ELSE 0 END),
  sum(CASE WHEN top10 THEN 1 ELSE 0 END),
  sum(CASE WHEN revenue_365d >= 300 AND email_optin THEN 1 ELSE 0 END)
FROM h
