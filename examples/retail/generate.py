"""Generate the synthetic data of the segc retail example.

    python generate.py [--customers N] [--out DIR] [--seed S] [--no-effect]

Writes customers.parquet, orders.parquet and carts.parquet into DIR (default: data/
next to this script). Every row is built inside DuckDB with SQL, so 20 thousand and
1 million customers go through the same code path and neither needs a Python loop.

Randomness is a pure function of (seed, row key, purpose): `hash()` of those values,
never `random()`. The same seed and N therefore give byte-identical files regardless of
thread count or scheduling, on the same DuckDB version (the hash function and the
parquet writer are DuckDB's own and may change between versions).

The data is shaped around the example's as-of date (2024-07-01, see segc.yml): some
customers stop buying more than six months before it (churn risk) and events continue
for a month after it, so a query that forgets the point-in-time cut counts them.

The data holds a real, modest effect of the spring campaign (segc.yml's experiment
spring_loyalty): 40% of its target arm at 2024-03-01 place one more completed order before
2024-05-01, so `segc lift spring_loyalty` has something to find. The arm is computed by
segc itself on the data without the campaign (then the campaign's orders are added), so
it is exactly the arm the readout uses; this needs segc installed. `--no-effect` leaves
the campaign out.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

AS_OF = "2024-07-01"
SIGNUP_FIRST, SIGNUP_LAST = "2018-01-01", "2024-06-30"
ORDERS_FIRST = "2022-01-01"
CARTS_FIRST = "2023-01-01"
EVENTS_END = "2024-08-01"  # exclusive: events run through 2024-07-31, past the as-of

# (country, share of customers, cities from most to least common). The city lists are
# real cities of each country; names keep their accents to exercise non-ASCII text.
COUNTRIES = [
    ("FR", 0.45, ["Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux", "Lille", "Nantes",
                  "Nice", "Strasbourg", "Montpellier", "Rennes", "Saint-Étienne"]),
    ("DE", 0.18, ["Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Stuttgart",
                  "Düsseldorf", "Leipzig"]),
    ("BE", 0.15, ["Bruxelles", "Antwerpen", "Gent", "Liège", "Charleroi", "Brugge", "Namur"]),
    ("ES", 0.12, ["Madrid", "Barcelona", "Valencia", "Sevilla", "Málaga", "Bilbao",
                  "Zaragoza"]),
    ("CH", 0.10, ["Zürich", "Genève", "Basel", "Lausanne", "Bern", "Lugano", "Winterthur"]),
]

# (category, share of orders, price factor applied to the customer's usual basket).
CATEGORIES = [
    ("clothing", 0.38, 1.00),
    ("shoes", 0.22, 1.35),
    ("accessories", 0.17, 0.55),
    ("beauty", 0.13, 0.45),
    ("bags", 0.10, 1.80),
]

RELIGIONS = ["christian", "none", "muslim", "jewish", "other"]

# points of sale (orders.store); the shop's own site among them
STORES = ["Paris Rivoli", "Lyon Part-Dieu", "Lille Europe", "Bruxelles Louise", "Online"]
STORES_SQL = "[" + ", ".join(f"'{s}'" for s in STORES) + "]"

# first names for the e-mail payload (`segc changes --with email,first_name`); the e-mail
# address is made from the name and the key, at example.com (reserved: it reaches no one)
FIRST_NAMES = ["Léa", "Emma", "Louis", "Gabriel", "Chloé", "Lukas", "Mia", "Noah", "Sofía",
               "Hugo", "Lucía", "Elias", "Inès", "Jules", "Anna", "Matteo", "Zoé", "Lina"]


def _cumulative(rows):
    """Turn (name, share, ...) rows into (name, lo, hi, ...) with [lo, hi) covering [0, 1)."""
    out, lo = [], 0.0
    for name, share, *rest in rows:
        out.append((name, lo, lo + share, *rest))
        lo += share
    # The last bucket ends at 1.0 exactly so no draw in [0, 1) falls through rounding.
    out[-1] = (*out[-1][:2], 1.0, *out[-1][3:])
    return out


def _setup(con: duckdb.DuckDBPyConnection, seed: int) -> None:
    """Lookup tables and the deterministic random macros."""
    con.execute("CREATE TEMP TABLE geo (country VARCHAR, lo DOUBLE, hi DOUBLE, cities VARCHAR[])")
    con.executemany("INSERT INTO geo VALUES (?, ?, ?, ?)", _cumulative(COUNTRIES))
    con.execute("CREATE TEMP TABLE cats (category VARCHAR, lo DOUBLE, hi DOUBLE, price DOUBLE)")
    con.executemany("INSERT INTO cats VALUES (?, ?, ?, ?)", _cumulative(CATEGORIES))
    # Uniform draw in [0, 1): the top 53 bits of a 64-bit hash, exactly representable.
    # `a`, `b` identify the row, `tag` the purpose, so every draw is independent.
    con.execute(f"""
        CREATE TEMP MACRO rnd(a, b, tag) AS
            (hash(a, b, tag, {int(seed)}::BIGINT) >> 11)::DOUBLE / 9007199254740992.0
    """)
    # Standard normal draw (Box-Muller); 1 - rnd is in (0, 1] so ln() stays finite.
    con.execute("""
        CREATE TEMP MACRO gauss(a, b, tag) AS
            sqrt(-2 * ln(1 - rnd(a, b, tag || '.r'))) * cos(2 * pi() * rnd(a, b, tag || '.t'))
    """)
    con.execute("SET VARIABLE religions = ?", [RELIGIONS])
    con.execute("SET VARIABLE first_names = ?", [FIRST_NAMES])


# One row per customer with the public columns and the hidden traits that drive their
# behaviour (persona, activity span, basket level...). Personas make the base
# heterogeneous: ~20% never order, many order occasionally, a few are heavy buyers.
PEOPLE_SQL = f"""
CREATE TEMP TABLE people AS
WITH ids AS (
    SELECT range + 1 AS customer_id FROM range($n)
), traits AS (
    SELECT
        customer_id,
        rnd(customer_id, 0, 'persona') AS u_persona,
        DATE '{SIGNUP_FIRST}' + floor(
            -- sqrt skews signups to recent years, as for a growing shop
            sqrt(rnd(customer_id, 0, 'signup'))
            * (date_diff('day', DATE '{SIGNUP_FIRST}', DATE '{SIGNUP_LAST}') + 1)
        )::INTEGER AS signup_date
    FROM ids
), personas AS (
    SELECT
        *,
        CASE
            WHEN u_persona < 0.20 THEN 'none'
            WHEN u_persona < 0.62 THEN 'occasional'
            WHEN u_persona < 0.89 THEN 'regular'
            ELSE 'heavy'
        END AS persona
    FROM traits
), spans AS (
    SELECT
        *,
        greatest(signup_date, DATE '{ORDERS_FIRST}')::TIMESTAMP AS active_from,
        -- ~30% of buyers stop at a random point at least 200 days before the as-of, so
        -- their last order is always more than 6 months old (the churn-risk segment)
        CASE
            WHEN persona <> 'none'
                 AND rnd(customer_id, 0, 'churn') < 0.30
                 AND greatest(signup_date, DATE '{ORDERS_FIRST}') < DATE '{AS_OF}' - 200
            THEN greatest(signup_date, DATE '{ORDERS_FIRST}')::TIMESTAMP
                 + to_seconds((rnd(customer_id, 0, 'churn_at') * date_diff('second',
                       greatest(signup_date, DATE '{ORDERS_FIRST}')::TIMESTAMP,
                       (DATE '{AS_OF}' - 200)::TIMESTAMP))::BIGINT)
            ELSE TIMESTAMP '{EVENTS_END}'
        END AS active_until
    FROM personas
)
SELECT
    s.customer_id,
    g.country,
    CASE WHEN rnd(s.customer_id, 0, 'city_missing') >= 0.02
         -- squaring the draw favours the first (largest) cities of the list
         THEN g.cities[1 + floor(len(g.cities) * pow(rnd(s.customer_id, 0, 'city'), 2))::INTEGER]
    END AS city,
    -- right-skewed ages (median ~40) in 18..90, missing for ~15%; the rare tail past 90
    -- wraps around to young ages rather than piling up at 90
    CASE WHEN rnd(s.customer_id, 0, 'age_missing') >= 0.15
         THEN (18 + (floor(exp(ln(22) + 0.5 * gauss(s.customer_id, 0, 'age'))) % 73))::INTEGER
    END AS age,
    s.signup_date,
    rnd(s.customer_id, 0, 'email') < 0.62 AS email_optin,
    -- SMS consent is mostly given together with e-mail consent
    rnd(s.customer_id, 0, 'sms')
        < CASE WHEN rnd(s.customer_id, 0, 'email') < 0.62 THEN 0.45 ELSE 0.10 END AS sms_optin,
    rnd(s.customer_id, 0, 'test') < 0.005 AS is_test,
    CASE WHEN rnd(s.customer_id, 0, 'religion_missing') >= 0.40
         THEN getvariable('religions')[1 + floor(
             len(getvariable('religions')) * pow(rnd(s.customer_id, 0, 'religion'), 1.5))::INTEGER]
    END AS religion,
    -- frequent buyers hold the loyalty card more often
    rnd(s.customer_id, 0, 'loyalty') < CASE s.persona
        WHEN 'heavy' THEN 0.70 WHEN 'regular' THEN 0.45 WHEN 'occasional' THEN 0.20 ELSE 0.08
    END AS loyalty_card,
    s.persona,
    s.active_from,
    s.active_until,
    -- orders per year of activity, by persona
    CASE s.persona
        WHEN 'heavy' THEN 18 + 30 * rnd(s.customer_id, 0, 'rate')
        WHEN 'regular' THEN 5 + 8 * rnd(s.customer_id, 0, 'rate')
        WHEN 'occasional' THEN 0.5 + 2 * rnd(s.customer_id, 0, 'rate')
        ELSE 0
    END AS orders_per_year,
    -- log of the customer's usual basket: median 55 EUR, varying between customers
    ln(55) + 0.45 * gauss(s.customer_id, 0, 'basket') AS basket_mu,
    -- the category the customer buys most; it gets 45% of their orders
    c.category AS favourite,
    -- ~8% of customers return a third of what they buy
    CASE WHEN rnd(s.customer_id, 0, 'returner') < 0.08 THEN 0.33 ELSE 0.05 END AS return_rate
FROM spans AS s
JOIN geo AS g ON rnd(s.customer_id, 0, 'country') >= g.lo AND rnd(s.customer_id, 0, 'country') < g.hi
JOIN cats AS c ON rnd(s.customer_id, 0, 'favourite') >= c.lo AND rnd(s.customer_id, 0, 'favourite') < c.hi
"""

CUSTOMERS_SQL = """
WITH named AS (
    SELECT *, getvariable('first_names')[1 + floor(
        len(getvariable('first_names')) * rnd(customer_id, 0, 'first_name'))::INTEGER] AS first_name
    FROM people
)
SELECT customer_id, country, city AS "City Name", age, signup_date, email_optin,
       sms_optin, is_test, religion, loyalty_card, first_name,
       lower(strip_accents(first_name)) || '.' || customer_id || '@example.com' AS email
FROM named
ORDER BY customer_id
"""

# Orders are spread uniformly over each customer's activity span; their count follows
# the persona's yearly rate times the length of that span (buyers order at least once).
# Without ids yet: the campaign's orders (below) join them before ids are given.
ORDER_ROWS_SQL = f"""
CREATE TEMP TABLE order_rows AS
WITH counts AS (
    SELECT *,
        CASE WHEN persona = 'none' THEN 0 ELSE greatest(1, round(
            orders_per_year * date_diff('day', active_from, active_until) / 365.25
            * (0.75 + 0.5 * rnd(customer_id, 0, 'n_orders'))))::INTEGER
        END AS n_orders
    FROM people
), slots AS (
    SELECT customer_id, active_from, active_until, basket_mu, favourite, return_rate,
           unnest(range(n_orders)) AS j
    FROM counts
), drawn AS (
    SELECT
        r.customer_id, r.j,
        r.active_from + to_seconds(floor(rnd(r.customer_id, r.j, 'ordered_at')
            * date_diff('second', r.active_from, r.active_until))::BIGINT) AS ordered_at,
        CASE WHEN rnd(r.customer_id, r.j, 'is_favourite') < 0.45
             THEN r.favourite ELSE c.category END AS category,
        r.basket_mu,
        r.return_rate
    FROM slots AS r
    JOIN cats AS c
      ON rnd(r.customer_id, r.j, 'category') >= c.lo AND rnd(r.customer_id, r.j, 'category') < c.hi
)
SELECT
    d.customer_id, d.j, d.ordered_at,
    -- log-normal basket around the customer's level, scaled by the category's price
    greatest(4.99, round(exp(d.basket_mu + 0.5 * gauss(d.customer_id, d.j, 'amount'))
                         * c.price, 2)) AS amount,
    d.category,
    -- the point of sale: most of a customer's orders at their home store (`agg: mode`)
    {STORES_SQL}[1 + floor(CASE WHEN rnd(d.customer_id, d.j, 'at_home_store') < 0.7
                                THEN rnd(d.customer_id, 0, 'home_store')
                                ELSE rnd(d.customer_id, d.j, 'store') END * {len(STORES)})::INTEGER] AS store,
    CASE
        WHEN rnd(d.customer_id, d.j, 'status') < 0.04 THEN 'cancelled'
        WHEN rnd(d.customer_id, d.j, 'status') < 0.04 + d.return_rate THEN 'returned'
        ELSE 'completed'
    END AS status
FROM drawn AS d JOIN cats AS c USING (category)
"""

# The spring campaign's effect (segc.yml's experiment spring_loyalty): a share UPLIFT of
# the customers in its target arm at assigned_at (table `treated`, computed by segc itself
# on the data written so far) answer it with one more completed order, at a time drawn in
# [assigned_at, until), at their home store, in their favourite category. The control arm
# and everyone else are untouched. j = -1 keeps the draws apart from the regular orders'.
CAMPAIGN_SQL = f"""
INSERT INTO order_rows
SELECT
    p.customer_id, -1 AS j,
    $start::TIMESTAMP + to_seconds(floor(rnd(p.customer_id, -1, 'ordered_at')
        * date_diff('second', $start::TIMESTAMP, $stop::TIMESTAMP))::BIGINT) AS ordered_at,
    greatest(4.99, round(exp(p.basket_mu + 0.5 * gauss(p.customer_id, -1, 'amount'))
                         * c.price, 2)) AS amount,
    p.favourite AS category,
    {STORES_SQL}[1 + floor(rnd(p.customer_id, 0, 'home_store') * {len(STORES)})::INTEGER] AS store,
    'completed' AS status
FROM people AS p
JOIN treated AS t USING (customer_id)
JOIN cats AS c ON c.category = p.favourite
WHERE rnd(p.customer_id, 0, 'campaign') < $uplift
"""

ORDERS_SQL = """
SELECT
    -- ids grow with time, as in a real order system; ties broken by the row's key
    row_number() OVER (ORDER BY ordered_at, customer_id, j) AS order_id,
    customer_id, ordered_at, amount, category, store, status
FROM order_rows
ORDER BY order_id
"""

# Carts, from 2023 on: browsers who never order fill carts too. Most are abandoned.
CARTS_SQL = f"""
WITH spans AS (
    SELECT customer_id, basket_mu, active_until,
           greatest(active_from, TIMESTAMP '{CARTS_FIRST}') AS carts_from,
           CASE persona WHEN 'heavy' THEN 10 WHEN 'regular' THEN 6 ELSE 3 END AS max_per_year
    FROM people
), counts AS (
    SELECT *,
        CASE WHEN active_until > carts_from THEN floor(
            rnd(customer_id, 0, 'n_carts') * (max_per_year + 1)
            * date_diff('day', carts_from, active_until) / 365.25)::INTEGER
        ELSE 0 END AS n_carts
    FROM spans
), slots AS (
    SELECT customer_id, basket_mu, carts_from, active_until, unnest(range(n_carts)) AS j
    FROM counts
), drawn AS (
    SELECT
        customer_id, j,
        carts_from + to_seconds(floor(rnd(customer_id, j, 'created_at')
            * date_diff('second', carts_from, active_until))::BIGINT) AS created_at,
        greatest(4.99, round(exp(basket_mu + 0.2 + 0.6 * gauss(customer_id, j, 'value')), 2))
            AS value,
        rnd(customer_id, j, 'abandoned') < 0.62 AS abandoned
    FROM slots
)
SELECT
    row_number() OVER (ORDER BY created_at, customer_id, j) AS cart_id,
    customer_id, created_at, value, abandoned
FROM drawn
ORDER BY cart_id
"""

# Output files: table name -> query.
TABLES = {"customers": CUSTOMERS_SQL, "orders": ORDERS_SQL, "carts": CARTS_SQL}

EXAMPLE = Path(__file__).resolve().parent
EXPERIMENT = "spring_loyalty"  # segc.yml's experiment whose target arm gets the campaign's orders
UPLIFT = 0.40  # share of its target arm who answer the campaign with one more order


def _write(con, sql: str, path: Path) -> int:
    """COPY a query to a parquet file; its row count."""
    # ZSTD is deterministic; the ORDER BY fixes row order and row groups.
    con.execute(f"COPY ({sql}) TO $path (FORMAT parquet, COMPRESSION zstd)", {"path": str(path)})
    return con.execute("SELECT count(*) FROM read_parquet($path)", {"path": str(path)}).fetchone()[0]


def target_arm(data_root: Path) -> tuple[list[int], object]:
    """The keys of the experiment's target arm at its assigned_at (in the target, not in
    the control: a member of both belongs to neither, as in `segc lift`), and the
    experiment, evaluated by segc itself on the files under data_root (the example's
    segc.yml with its `path:`s read relative to data_root). Exact by construction: the
    same rules, the same holdout hash and the same point-in-time cut as the readout."""
    from segc.project import load_project
    from segc.run.duckdb_engine import DuckDBEngine

    project = load_project(EXAMPLE)
    project.use_engine(DuckDBEngine(project.schema, data_root))
    e = project.experiments[EXPERIMENT]
    control = set(project.members(e.control.name, e.assigned_at))
    return [k for k in project.members(e.target.name, e.assigned_at) if k not in control], e


def generate(n_customers: int, out: Path, seed: int, effect: bool = True) -> dict[str, int]:
    """Write the three parquet files into `out`; return the row count of each. With
    `effect`, the campaign's orders are added (see CAMPAIGN_SQL)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    # Files are written into a temporary folder on the same file system, then each is
    # moved into place with an atomic rename: a reader never sees a half-written file
    # and a failed run leaves the previous data untouched.
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        # data/ as in segc.yml's `path:`s, so that segc reads the files written so far
        (tmp / "data").mkdir()
        con = duckdb.connect()
        _setup(con, seed)
        con.execute(PEOPLE_SQL, {"n": n_customers})
        con.execute(ORDER_ROWS_SQL)
        rows = {table: _write(con, sql, tmp / "data" / f"{table}.parquet") for table, sql in TABLES.items()}
        if effect:
            # The arm is known only from the data without the campaign: its orders fall on
            # or after assigned_at, which membership at assigned_at does not see.
            keys, e = target_arm(tmp)
            con.execute("CREATE TEMP TABLE treated AS SELECT unnest($keys::BIGINT[]) AS customer_id",
                        {"keys": keys})
            con.execute(CAMPAIGN_SQL, {"start": e.assigned_at, "stop": e.until, "uplift": UPLIFT})
            rows["orders"] = _write(con, ORDERS_SQL, tmp / "data" / "orders.parquet")
        con.close()
        out.mkdir(exist_ok=True)
        for table in TABLES:
            os.replace(tmp / "data" / f"{table}.parquet", out / f"{table}.parquet")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=20_000, metavar="N",
                        help="number of customers (default: 20000)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "data",
                        metavar="DIR", help="output folder (default: data/ next to this script)")
    parser.add_argument("--seed", type=int, default=42, metavar="S", help="random seed (default: 42)")
    parser.add_argument("--no-effect", action="store_true",
                        help="leave out the spring campaign's orders (data with no effect to measure)")
    args = parser.parse_args(argv)
    if args.customers < 1:
        parser.error("--customers must be at least 1")

    started = time.perf_counter()
    rows = generate(args.customers, args.out, args.seed, effect=not args.no_effect)
    elapsed = time.perf_counter() - started
    for table in TABLES:
        size = (args.out / f"{table}.parquet").stat().st_size
        print(f"{table:<10} {rows[table]:>12,} rows  {size / 1e6:8.2f} MB")
    print(f"wrote {args.out} in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
