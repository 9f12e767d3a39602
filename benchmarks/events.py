"""Events at scale: the cart relaunch, a shoes -> bag sequence and `last(orders.category)`
on DuckDB, 1M customers.

    python benchmarks/events.py [--size 1m] [--rounds 5]

Data and project: those of benchmarks/scale.py (examples/retail/generate.py --customers N,
cached under ~/.cache/segc-bench/scale/; the frozen retail project of count_speed_project/,
population `not is_test`, as-of 2024-07-01). The example's categories have no sneakers or
totes: shoes -> bags is the same shape.

Methods, in this one process on one DuckDB connection, after a warm-up, interleaved over
the rounds (rotated and reversed, as scale.py does), medians of wall and process CPU time:

  segc-relaunch   project.compile_expression(RELAUNCH, form="count"), executed
  hand-relaunch   the best hand-written DuckDB query: abandoned carts of the last 7 days
                  of population customers, NOT EXISTS an order within 2 days (a semi-join
                  DuckDB plans as an anti-join), COUNT(DISTINCT customer_id)
  floor-relaunch  one grouped pass: the week's abandoned carts and the orders since the
                  week's start, each grouped per customer once (no join)
  segc-seq, hand-seq, floor-seq   the same for SHOES_BAG (hand: EXISTS a bag order
                  within 7 days of a shoe order)
  segc-last, hand-last, floor-last   the same for LAST (`last(orders.category) = "shoes"`;
                  hand: DuckDB's arg_max(category, ordered_at) per customer, which keeps
                  any row among ties — what an analyst writes —; floor: max(ordered_at)
                  per customer, one grouped pass); window-last: segc's earlier form of
                  LAST (ROW_NUMBER over the event order), its "before"
  count           project.count() of the frozen project (35 segments and branches)
  count+3         the same project with the three added as segments

Targets (issue 17): segc <= 1.5x hand for each; count+3 <= 1.3x count. Before timing, the
segc and hand answers are compared (equal; for LAST, up to the customers whose last
orders tie, where arg_max may keep either).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from count_speed import interleaved  # noqa: E402
from scale import SIZES, prepare  # noqa: E402  (the data and the frozen project)

RELAUNCH = "exists(carts where abandoned during last 7 days not followed by orders within 2 days)"
SHOES_BAG = 'count(orders where category = "shoes" followed by orders where category = "bags" within 7 days) >= 1'
_AS_OF, _WEEK = "DATE '2024-07-01'", "DATE '2024-06-24'"
HAND_RELAUNCH = f"""
SELECT count(DISTINCT c.customer_id) FROM shop.carts AS c
JOIN shop.customers AS u ON u.customer_id = c.customer_id AND NOT u.is_test
WHERE c.abandoned AND c.created_at >= {_WEEK} AND c.created_at < {_AS_OF}
  AND NOT EXISTS (SELECT 1 FROM shop.orders AS o WHERE o.customer_id = c.customer_id
                  AND o.ordered_at >= c.created_at AND o.ordered_at <= c.created_at + INTERVAL 2 DAY
                  AND o.ordered_at < {_AS_OF})"""
HAND_SEQ = f"""
SELECT count(DISTINCT x.customer_id) FROM shop.orders AS x
JOIN shop.customers AS u ON u.customer_id = x.customer_id AND NOT u.is_test
WHERE x.category = 'shoes' AND x.ordered_at < {_AS_OF}
  AND EXISTS (SELECT 1 FROM shop.orders AS y WHERE y.customer_id = x.customer_id AND y.category = 'bags'
              AND y.ordered_at >= x.ordered_at AND y.ordered_at <= x.ordered_at + INTERVAL 7 DAY
              AND y.ordered_at < {_AS_OF})"""
FLOOR_RELAUNCH = f"""
SELECT (SELECT count(*) FROM (SELECT customer_id, count(*) FROM shop.carts WHERE abandoned
        AND created_at >= {_WEEK} AND created_at < {_AS_OF} GROUP BY customer_id)),
       (SELECT count(*) FROM (SELECT customer_id, max(ordered_at) FROM shop.orders
        WHERE ordered_at >= {_WEEK} AND ordered_at < {_AS_OF} GROUP BY customer_id))"""
LAST = 'last(orders.category) = "shoes"'
HAND_LAST = f"""
SELECT count(*) FROM (SELECT customer_id, arg_max(category, ordered_at) AS category FROM shop.orders
                      WHERE ordered_at < {_AS_OF} GROUP BY customer_id) AS o
JOIN shop.customers AS u ON u.customer_id = o.customer_id AND NOT u.is_test
WHERE o.category = 'shoes'"""
# segc's form of LAST before 2026-12-04 16:00 (ROW_NUMBER over the event order, row 1): the
# "before" of benchmarks/README.md §8.2, measured in the same rounds as the grouped form
WINDOW_LAST = f"""
SELECT count(*) FROM (SELECT customer_id, category FROM (
    SELECT customer_id, category, ROW_NUMBER() OVER (PARTITION BY customer_id
                                                     ORDER BY ordered_at DESC NULLS FIRST, category ASC) AS rn
    FROM shop.orders WHERE ordered_at < {_AS_OF}) WHERE rn = 1) AS o
JOIN shop.customers AS u ON u.customer_id = o.customer_id AND NOT u.is_test
WHERE o.category = 'shoes'"""
FLOOR_LAST = f"""
SELECT count(*) FROM (SELECT customer_id, max(ordered_at) FROM shop.orders
                      WHERE ordered_at < {_AS_OF} GROUP BY customer_id)"""
FLOOR_SEQ = f"""
SELECT count(*) FROM (SELECT customer_id, count(CASE WHEN category = 'shoes' THEN 1 END),
       max(CASE WHEN category = 'bags' THEN ordered_at END)
       FROM shop.orders WHERE ordered_at < {_AS_OF} GROUP BY customer_id)"""


def copy_project(folder: Path, suffix: str, segments: str = "") -> Path:
    """A copy of scale.py's project (which may read its data outside its folder), with
    `segments` added."""
    out = folder.parent / (folder.name + suffix)
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(folder, out)
    if segments:
        (out / "segments" / "sequences.seg").write_text(segments, encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1m", choices=sorted(SIZES))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import segc

    folder = prepare(args.size)
    project = segc.load_project(copy_project(folder, "-base"))
    plus = segc.load_project(copy_project(folder, "-events",
                                          f"segment relaunch = {RELAUNCH}\nsegment shoes_then_bag = {SHOES_BAG}\n"
                                          f"segment last_shoes = {LAST}\n"))
    con = project.duckdb()
    con.execute("SET enable_progress_bar = false")
    plus_con = plus.duckdb()
    plus_con.execute("SET enable_progress_bar = false")
    rows = {t: con.execute(f"SELECT count(*) FROM shop.{t}").fetchone()[0] for t in ("customers", "orders", "carts")}
    print(f"{rows['customers']:,} customers, {rows['orders']:,} orders, {rows['carts']:,} carts; "
          f"DuckDB {con.execute('SELECT version()').fetchone()[0]}")

    def one(sql):
        return lambda: con.execute(sql).fetchone()[0]

    def segc_count(text):
        return lambda: con.execute(project.compile_expression(text, form="count", pretty=False)).fetchone()[0]

    methods = {
        "segc-relaunch": segc_count(RELAUNCH), "hand-relaunch": one(HAND_RELAUNCH), "floor-relaunch": one(FLOOR_RELAUNCH),
        "segc-seq": segc_count(SHOES_BAG), "hand-seq": one(HAND_SEQ), "floor-seq": one(FLOOR_SEQ),
        "segc-last": segc_count(LAST), "hand-last": one(HAND_LAST), "floor-last": one(FLOOR_LAST),
        "window-last": one(WINDOW_LAST),
        "count": lambda: project.count().population, "count+3": lambda: plus.count().population,
    }
    for a, b in (("segc-relaunch", "hand-relaunch"), ("segc-seq", "hand-seq"), ("segc-last", "hand-last"),
                 ("segc-last", "window-last")):
        got, want = methods[a](), methods[b]()
        print(f"{a}: {got:,} members, {b}: {want:,}")
        if got != want and b != "hand-last":
            sys.exit(f"{a} and {b} differ")
    ties = con.execute(f"SELECT count(*) FROM (SELECT customer_id FROM shop.orders WHERE ordered_at < {_AS_OF} "
                       "GROUP BY customer_id HAVING count(*) FILTER (WHERE ordered_at = (SELECT max(o.ordered_at) "
                       "FROM shop.orders o WHERE o.customer_id = orders.customer_id AND o.ordered_at < "
                       f"{_AS_OF})) > 1)").fetchone()[0]
    print(f"customers whose last orders tie (where arg_max keeps any): {ties:,}")
    extra = {s.name: s.count for s in plus.count().segments if s.name in ("relaunch", "shoes_then_bag", "last_shoes")}
    print(f"in count+3: {extra}")
    for name in methods:  # warm-up
        methods[name]()
    wall, cpu = interleaved(methods, args.rounds)
    med = {m: (statistics.median(wall[m]), statistics.median(cpu[m])) for m in methods}
    print(f"\nmedians over {args.rounds} rounds (wall s / CPU s):")
    for m, (w, c) in med.items():
        print(f"  {m:16} {w:7.3f} {c:7.3f}")

    def ratio(a, b):
        return f"{med[a][0] / med[b][0]:.2f} wall / {med[a][1] / med[b][1]:.2f} CPU"

    print("\nratios:")
    for what in ("relaunch", "seq", "last"):
        print(f"  segc-{what} / hand-{what}:  {ratio(f'segc-{what}', f'hand-{what}')}   (target <= 1.5)")
        print(f"  segc-{what} / floor-{what}: {ratio(f'segc-{what}', f'floor-{what}')}")
        print(f"  hand-{what} / floor-{what}: {ratio(f'hand-{what}', f'floor-{what}')}")
    print(f"  segc-last / window-last: {ratio('segc-last', 'window-last')}   (the grouped form / the window form)")
    print(f"  count+3 / count:         {ratio('count+3', 'count')}   (target <= 1.3)")


if __name__ == "__main__":
    main()
