-- The best single query I could write by hand for the 35 segments and branches of
-- benchmarks/count_speed_project (a frozen copy of examples/retail: as-of 2024-07-01,
-- $min_basket = 80), for benchmarks/count_speed.py.
-- Output columns: the population, then one count per segment in project.segment_names order.
-- Hand optimisations over segc's counts query:
--   * the carts window (30 days, the only one used on carts) is pushed into WHERE;
--   * the windowed COUNT(DISTINCT category) gets its own pre-filtered GROUP BY instead of
--     a CASE inside the main orders aggregation;
--   * ranks as cuts (as segc does since 2026-11-23; the window version is in git history):
--     `top 10%` and "quantile score >= s" only depend on whether a value reaches one value
--     of the distribution, found over the distinct values (running count), not per row;
--     the recency, frequency and monetary cuts each once;
--   * RFM and quadrant flags computed once and reused; integer arithmetic for ratios.
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
), rv AS (
  SELECT v, sum(c) OVER (ORDER BY v ROWS UNBOUNDED PRECEDING) AS le, sum(c) OVER () AS n, c
  FROM (SELECT revenue_365d AS v, count(*) AS c FROM f GROUP BY revenue_365d)
), dv AS (
  SELECT v, sum(c) OVER (ORDER BY v ROWS UNBOUNDED PRECEDING) AS le, sum(c) OVER () AS n
  FROM (SELECT CAST(last_order_at AS DATE) AS v, count(*) AS c FROM f WHERE last_order_at IS NOT NULL GROUP BY 1)
), pv AS (
  SELECT v, sum(c) OVER (ORDER BY v ROWS UNBOUNDED PRECEDING) AS le, sum(c) OVER () AS n
  FROM (SELECT p365 AS v, count(*) AS c FROM f GROUP BY p365)
), cuts AS (
  SELECT *
  FROM (SELECT min(CASE WHEN (n - le + c) * 10 <= n THEN v END) AS top10_cut,
               min(CASE WHEN 5 * le > 3 * n THEN v END) AS m4_cut,
               min(CASE WHEN 5 * le > 2 * n THEN v END) AS m3_cut FROM rv),
       (SELECT min(CASE WHEN 5 * le > 3 * n THEN v END) AS r4_cut,
               min(CASE WHEN 5 * le > 2 * n THEN v END) AS r3_cut FROM dv),
       (SELECT min(CASE WHEN 5 * le > 3 * n THEN v END) AS f4_cut FROM pv)
), h AS (
  SELECT f.*,
    last_order_at < DATE '2024-01-03' AS inactive_6m,
    p365 >= 5 AND basket_avg > 80 AS lbb,
    p365 >= 5 AND basket_avg <= 80 AS lsb,
    p365 BETWEEN 1 AND 4 AND basket_avg > 80 AS obb,
    p365 BETWEEN 1 AND 4 AND basket_avg <= 80 AS osb,
    coalesce(revenue_365d >= top10_cut, false) AS top10,
    coalesce(CAST(last_order_at AS DATE) >= r4_cut, false) AS r4,
    coalesce(CAST(last_order_at AS DATE) < r3_cut, false) AS r_le2,
    p365 >= f4_cut AS f4,
    revenue_365d >= m4_cut AS m4,
    revenue_365d >= m3_cut AS m3
  FROM f, cuts
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
