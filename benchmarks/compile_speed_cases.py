"""The compile benchmark's cases: 50 typical segment expressions over the retail example
and, for each, the shortest correct query a good analyst would write by hand for DuckDB
(as of the example's pinned 2024-07-01): one table scan, or one join with the events and
a GROUP BY ... HAVING, or IN / NOT IN subqueries; no CTEs, no aliases, dates folded to
literals, conditions implied by others left out. Written independently of segc's output;
`compile_speed.py` (and tests/test_compile_speed_cases.py) execute both on the example
data and check that they select the same customers.

What they rely on, as an analyst would: `is_test`, `country`, `email_optin`, `sms_optin`
and `loyalty_card` are never NULL (segc.yml says so), nor are the events' `customer_id`
(hence NOT IN); the orders' `status` is one of completed, returned, cancelled.
"""

_PEOPLE = "SELECT customer_id FROM shop.customers WHERE NOT is_test"
_ORDERS = "SELECT customer_id FROM shop.customers JOIN shop.orders USING (customer_id) WHERE NOT is_test"
_CARTS = "SELECT customer_id FROM shop.customers JOIN shop.carts USING (customer_id) WHERE NOT is_test"

CASES = [
    # comparisons
    ('age > 30',
     f"{_PEOPLE} AND age > 30"),
    ('age >= 18 and age < 65',
     f"{_PEOPLE} AND age >= 18 AND age < 65"),
    ('country = "FR"',
     f"{_PEOPLE} AND country = 'FR'"),
    ('country != "DE"',
     f"{_PEOPLE} AND country <> 'DE'"),
    ('signup_date >= 2023-01-01',
     f"{_PEOPLE} AND signup_date >= '2023-01-01'"),
    ('basket_avg > $min_basket',
     f"{_ORDERS} AND status = 'completed' AND ordered_at < '2024-07-01' "
     "GROUP BY customer_id HAVING AVG(amount) > 80"),
    ('purchases_90d >= 3',
     f"{_ORDERS} AND status = 'completed' AND ordered_at >= '2024-04-02' AND ordered_at < '2024-07-01' "
     "GROUP BY customer_id HAVING COUNT(*) >= 3"),
    ('revenue_365d > 500',
     f"{_ORDERS} AND status = 'completed' AND ordered_at >= '2023-07-02' AND ordered_at < '2024-07-01' "
     "GROUP BY customer_id HAVING SUM(amount) > 500"),
    # and / or / not
    ('country = "FR" and age >= 30 and email_optin',
     f"{_PEOPLE} AND country = 'FR' AND age >= 30 AND email_optin"),
    ('email_optin or sms_optin',
     f"{_PEOPLE} AND (email_optin OR sms_optin)"),
    ('not loyalty_card and purchases_365d >= 2',
     f"{_ORDERS} AND NOT loyalty_card AND status = 'completed' AND ordered_at >= '2023-07-02' "
     "AND ordered_at < '2024-07-01' GROUP BY customer_id HAVING COUNT(*) >= 2"),
    ('not (age < 25 or age > 60)',  # `not` is the complement: a missing age is in it
     f"{_PEOPLE} AND (age IS NULL OR age BETWEEN 25 AND 60)"),
    ('(country = "FR" or country = "BE") and not is_test and sms_optin',
     f"{_PEOPLE} AND country IN ('FR', 'BE') AND sms_optin"),
    ('loyalty_card and not (email_optin and sms_optin)',
     f"{_PEOPLE} AND loyalty_card AND NOT (email_optin AND sms_optin)"),
    # in-lists, between
    ('country in ["FR", "BE", "CH"]',
     f"{_PEOPLE} AND country IN ('FR', 'BE', 'CH')"),
    ('country not in ["DE", "ES"]',
     f"{_PEOPLE} AND country NOT IN ('DE', 'ES')"),
    ('city in ["Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux"]',
     f"""{_PEOPLE} AND "City Name" IN ('Paris', 'Lyon', 'Marseille', 'Toulouse', 'Bordeaux')"""),
    ('age between 25 and 34',
     f"{_PEOPLE} AND age BETWEEN 25 AND 34"),
    ('revenue_365d between 100 and 1000 and country in ["FR", "BE"]',
     f"{_ORDERS} AND country IN ('FR', 'BE') AND status = 'completed' AND ordered_at >= '2023-07-02' "
     "AND ordered_at < '2024-07-01' GROUP BY customer_id HAVING SUM(amount) BETWEEN 100 AND 1000"),
    ('purchases_365d between 1 and 4 and basket_avg <= $min_basket',
     f"{_ORDERS} AND status = 'completed' AND ordered_at < '2024-07-01' GROUP BY customer_id "
     "HAVING COUNT(*) FILTER (WHERE ordered_at >= '2023-07-02') BETWEEN 1 AND 4 AND AVG(amount) <= 80"),
    # missing / present
    ('age is missing',
     f"{_PEOPLE} AND age IS NULL"),
    ('city is present and age is present',
     f'{_PEOPLE} AND "City Name" IS NOT NULL AND age IS NOT NULL'),
    # string matching (the patterns hold no LIKE wildcard)
    ('city contains "aint"',
     f"""{_PEOPLE} AND "City Name" LIKE '%aint%'"""),
    ('city starts with "Saint"',
     f"""{_PEOPLE} AND "City Name" LIKE 'Saint%'"""),
    ('city ends with "burg" or city ends with "bourg"',
     f"""{_PEOPLE} AND ("City Name" LIKE '%burg' OR "City Name" LIKE '%bourg')"""),
    ('lower(city) contains "lyon"',
     f"""{_PEOPLE} AND LOWER("City Name") LIKE '%lyon%'"""),
    # functions
    ('length(city) > 8',
     f'{_PEOPLE} AND LENGTH("City Name") > 8'),
    ('days_since(last_order_at) > 180',  # 180 days before 2024-07-01 is 2024-01-03
     f"{_ORDERS} AND ordered_at < '2024-07-01' GROUP BY customer_id HAVING MAX(ordered_at) < '2024-01-03'"),
    ('days_since(signup_date) <= 365 and orders_total = 0',
     f"{_PEOPLE} AND signup_date >= '2023-07-02' "
     "AND customer_id NOT IN (SELECT customer_id FROM shop.orders WHERE ordered_at < '2024-07-01')"),
    ('year_of(signup_date) = 2023',
     f"{_PEOPLE} AND YEAR(signup_date) = 2023"),
    ('month_of(signup_date) in [11, 12]',
     f"{_PEOPLE} AND MONTH(signup_date) IN (11, 12)"),
    ('round(basket_avg) >= 100',
     f"{_ORDERS} AND status = 'completed' AND ordered_at < '2024-07-01' "
     "GROUP BY customer_id HAVING ROUND(AVG(amount)) >= 100"),
    ('abs(age - 40) <= 5',
     f"{_PEOPLE} AND age BETWEEN 35 AND 45"),
    ('coalesce(age, 0) < 18',
     f"{_PEOPLE} AND COALESCE(age, 0) < 18"),
    ('greatest(purchases_90d, shoes_30d) >= 2',
     f"{_ORDERS} AND ordered_at >= '2024-04-02' AND ordered_at < '2024-07-01' GROUP BY customer_id "
     "HAVING COUNT(*) FILTER (WHERE status = 'completed') >= 2 "
     "OR COUNT(*) FILTER (WHERE category = 'shoes' AND ordered_at >= '2024-06-01') >= 2"),
    ('upper(country) = "FR" and floor(basket_avg / 10) = 5',
     f"{_ORDERS} AND UPPER(country) = 'FR' AND status = 'completed' AND ordered_at < '2024-07-01' "
     "GROUP BY customer_id HAVING FLOOR(AVG(amount) / 10) = 5"),
    # dates
    ('signup_date within last 30 days',
     f"{_PEOPLE} AND signup_date >= '2024-06-01' AND signup_date < '2024-07-01'"),
    ('signup_date < today - 2 years',
     f"{_PEOPLE} AND signup_date < '2022-07-01'"),
    ('last_order_at within last 6 months',
     "SELECT DISTINCT customer_id FROM shop.customers JOIN shop.orders USING (customer_id) "
     "WHERE NOT is_test AND ordered_at >= '2024-01-01' AND ordered_at < '2024-07-01'"),
    ('first_order_at within this year',
     f"{_ORDERS} AND ordered_at < '2024-07-01' GROUP BY customer_id HAVING MIN(ordered_at) >= '2024-01-01'"),
    # aggregate features with windows
    ('purchases_365d >= 5 and basket_avg > 80',
     f"{_ORDERS} AND status = 'completed' AND ordered_at < '2024-07-01' GROUP BY customer_id "
     "HAVING COUNT(*) FILTER (WHERE ordered_at >= '2023-07-02') >= 5 AND AVG(amount) > 80"),
    ('returns_365d >= 3 and returns_365d / (purchases_365d + returns_365d) >= 0.3',
     f"{_ORDERS} AND ordered_at >= '2023-07-02' AND ordered_at < '2024-07-01' GROUP BY customer_id "
     "HAVING COUNT(*) FILTER (WHERE status = 'returned') >= 3 AND COUNT(*) FILTER (WHERE status = 'returned') "
     "/ COUNT(*) FILTER (WHERE status IN ('completed', 'returned')) >= 0.3"),
    ('categories_365d >= 3 and shoes_30d >= 1',
     f"{_ORDERS} AND ordered_at >= '2023-07-02' AND ordered_at < '2024-07-01' GROUP BY customer_id "
     "HAVING COUNT(DISTINCT category) >= 3 AND COUNT(*) FILTER (WHERE category = 'shoes' "
     "AND ordered_at >= '2024-06-01') >= 1"),
    ('abandoned_cart_value_30d > 100 and (email_optin or sms_optin)',
     f"{_CARTS} AND (email_optin OR sms_optin) AND abandoned AND created_at >= '2024-06-01' "
     "AND created_at < '2024-07-01' GROUP BY customer_id HAVING SUM(value) > 100"),
    # inline aggregates
    ('count(orders where category = "shoes" during last 90 days) >= 2',
     f"{_ORDERS} AND category = 'shoes' AND ordered_at >= '2024-04-02' AND ordered_at < '2024-07-01' "
     "GROUP BY customer_id HAVING COUNT(*) >= 2"),
    ('sum(orders.amount where status = "completed" during last 90 days) > 300',
     f"{_ORDERS} AND status = 'completed' AND ordered_at >= '2024-04-02' AND ordered_at < '2024-07-01' "
     "GROUP BY customer_id HAVING SUM(amount) > 300"),
    ('exists(carts where abandoned during last 7 days) and not exists(orders during last 7 days)',
     f"{_PEOPLE} AND customer_id IN (SELECT customer_id FROM shop.carts WHERE abandoned "
     "AND created_at >= '2024-06-24' AND created_at < '2024-07-01') AND customer_id NOT IN "
     "(SELECT customer_id FROM shop.orders WHERE ordered_at >= '2024-06-24' AND ordered_at < '2024-07-01')"),
    ('avg(orders.amount during last 365 days) > 120 and count_distinct(orders.category) >= 2',
     f"{_ORDERS} AND ordered_at < '2024-07-01' GROUP BY customer_id "
     "HAVING AVG(amount) FILTER (WHERE ordered_at >= '2023-07-02') > 120 AND COUNT(DISTINCT category) >= 2"),
    # references to defined segments
    ('loyal_big_basket and country = "FR"',
     f"{_ORDERS} AND country = 'FR' AND status = 'completed' AND ordered_at < '2024-07-01' GROUP BY customer_id "
     "HAVING COUNT(*) FILTER (WHERE ordered_at >= '2023-07-02') >= 5 AND AVG(amount) > 80"),
    # at_risk = no order since 2024-01-03 and not loyal_big_basket; then no shoe order in
    # the last 90 days either, so `not shoe_fans` always holds
    ('at_risk and email_optin and not shoe_fans',
     f"{_ORDERS} AND email_optin AND ordered_at < '2024-07-01' GROUP BY customer_id "
     "HAVING MAX(ordered_at) < '2024-01-03' AND NOT (COUNT(*) FILTER (WHERE status = 'completed' "
     "AND ordered_at >= '2023-07-02') >= 5 AND AVG(amount) FILTER (WHERE status = 'completed') > 80)"),
]
