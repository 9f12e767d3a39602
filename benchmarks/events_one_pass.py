"""One-pass forms of a sequence and of `last`, written by hand, against segc's forms (issue
17, session 5; benchmarks/README.md §8.5).

    python benchmarks/events_one_pass.py [--rounds 3]

The question: can `count(orders where category = "shoes" followed by orders where
category = "bags" within 7 days) >= 1`, or `last(orders.category)`, ride on the orders'
one GROUP BY of a count instead of a pass of its own? Each form below answers for all
customers (no population filter) on scale.py's 1M-customer data (~9.5M orders); the
answers of each construct's forms are compared first.

  join          the best hand-written query: EXISTS a bag order within 7 days of a shoe order
  group         the floor: one GROUP BY of the orders per customer (max time only)
  lists         the same GROUP BY also collecting each customer's shoe and bag times as lists
                (DuckDB `list(...) FILTER`), counted as customers with both (the lists' cost)
  list-lambda   the sequence from those lists: a shoe time with a bag time in [t, t + 7 days]
                (nested `list_filter` lambdas)
  guarded       the same, its lambdas only where both lists exist
  last-2pass    segc's `last` (grouped): the latest time per customer in the GROUP BY, then
                the smallest category among that customer's orders at that time (a join)
  last-struct   one pass: min({t: -epoch_us(time), v: category}) in the GROUP BY (a struct
                compares field by field, a NULL field last: exactly the tie rule)
Medians of wall and process CPU, interleaved rounds, one DuckDB connection."""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from events import copy_project  # noqa: E402
from count_speed import interleaved  # noqa: E402
from scale import prepare  # noqa: E402

AS_OF = "DATE '2024-07-01'"
LISTS = f"""WITH s AS (SELECT customer_id, max(ordered_at) AS m,
    list(ordered_at) FILTER (WHERE category = 'shoes') AS xs,
    list(ordered_at) FILTER (WHERE category = 'bags') AS ys
  FROM shop.orders WHERE ordered_at < {AS_OF} GROUP BY customer_id)
"""
INNER = "len(list_filter(xs, lambda x: len(list_filter(ys, lambda y: y >= x AND y <= x + INTERVAL 7 DAY)) > 0))"
FORMS = {
    "join": f"""SELECT count(DISTINCT x.customer_id) FROM shop.orders AS x
WHERE x.category = 'shoes' AND x.ordered_at < {AS_OF}
  AND EXISTS (SELECT 1 FROM shop.orders AS y WHERE y.customer_id = x.customer_id AND y.category = 'bags'
              AND y.ordered_at >= x.ordered_at AND y.ordered_at <= x.ordered_at + INTERVAL 7 DAY
              AND y.ordered_at < {AS_OF})""",
    "group": LISTS + "SELECT count(m) FROM s",
    "lists": LISTS + "SELECT count(*) FROM s WHERE xs IS NOT NULL AND ys IS NOT NULL",
    "list-lambda": LISTS + f"SELECT count(*) FROM s WHERE {INNER} >= 1",
    "guarded": LISTS + f"SELECT count(*) FROM s WHERE CASE WHEN len(xs) > 0 AND len(ys) > 0 THEN {INNER} ELSE 0 END >= 1",
    "last-2pass": f"""WITH g AS (SELECT customer_id, max(ordered_at) AS m FROM shop.orders
                    WHERE ordered_at < {AS_OF} GROUP BY customer_id),
  p AS (SELECT o.customer_id, min(o.category) AS v FROM shop.orders AS o
        JOIN g ON g.customer_id = o.customer_id AND o.ordered_at = g.m GROUP BY o.customer_id)
SELECT count(*) FILTER (WHERE p.v = 'shoes') FROM g LEFT JOIN p ON p.customer_id = g.customer_id""",
    "last-struct": f"""SELECT count(*) FILTER (WHERE k.v = 'shoes') FROM (SELECT customer_id,
    min({{'t': -epoch_us(ordered_at), 'v': category}}) AS k FROM shop.orders WHERE ordered_at < {AS_OF}
    GROUP BY customer_id)""",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import segc

    engine = segc.load_project(copy_project(prepare("1m"), "-forms")).engine
    answers = {name: engine.execute(sql)[0][0] for name, sql in FORMS.items()}
    print("answers:", answers)
    assert answers["join"] == answers["list-lambda"] == answers["guarded"]
    assert answers["last-2pass"] == answers["last-struct"]
    wall, cpu = interleaved({n: (lambda q=q: engine.execute(q)) for n, q in FORMS.items()}, args.rounds)
    base = statistics.median(cpu["group"])
    for name in FORMS:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"{name:12} wall {w:7.3f}  cpu {c:7.3f}   cpu / group {c / base:.2f}")


if __name__ == "__main__":
    main()
