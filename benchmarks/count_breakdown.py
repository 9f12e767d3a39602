"""Where `project.count()` spends its time above the hand-written query (count_speed.py's
segc / hand, benchmarks/README.md §8.13).

    python benchmarks/count_breakdown.py [--rounds 5] [--data DIR]

The project and data of count_speed.py (prepared the same way). In this one process on
one DuckDB connection, interleaved (count_speed.interleaved), after a warm-up, medians of
wall and process CPU time of:

  count()           project.count(): the key check (E715), the counts query, its compile
  keys              the key check alone (preview.require_unique_keys)
  query             the counts query alone, with the presence counts of W742
  query-no-present  the same without the presence counts
  query-sum         the counts query with DuckDB's SUM for FSUM: FSUM (Kahan-Babuska
                    summation) is what makes a sum of floats give the same members on
                    every run, whatever order the threads add in
  hand              benchmarks/count_speed_hand.sql

Each is printed with its ratio to the hand query. The counts of query, query-sum and
hand are compared first (query-sum and hand may differ on a customer whose float sum
lands on a threshold: printed, not an error).
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from count_speed import HAND_SQL, interleaved, prepare  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--customers", type=int, default=1_000_000)
    args = ap.parse_args()

    import segc
    from segc import preview
    from segc.backend.render import render

    project = segc.load_project(prepare(args.data, args.customers))
    con = project.duckdb()
    tree, targets, _present, _reads = preview.count_query(project)
    query = render(tree, "duckdb")
    no_present = render(project.counts_query(targets, None, []), "duckdb")
    summed = query.replace("FSUM(", "SUM(")
    hand = HAND_SQL.read_text(encoding="utf-8")

    def run(sql: str):
        return lambda: con.execute(sql).fetchall()

    methods = {"count()": lambda: preview.count(project), "keys": lambda: preview.require_unique_keys(project, None),
               "query": run(query), "query-no-present": run(no_present), "query-sum": run(summed), "hand": run(hand)}
    answers = {n: run(sql)()[0][:1 + len(targets)] for n, sql in (("query", query), ("query-sum", summed),
                                                                  ("hand", hand))}
    for n in ("query-sum", "hand"):
        differ = sum(a != b for a, b in zip(answers["query"], answers[n]))
        print(f"{n}: {differ} of {len(targets) + 1} counts differ from the counts query's")
    for m in methods.values():  # warm-up
        m()
    wall, cpu = interleaved(methods, args.rounds)
    w = {n: statistics.median(v) for n, v in wall.items()}
    c = {n: statistics.median(v) for n, v in cpu.items()}
    print(f"\n{len(targets)} segments and branches, {args.rounds} rounds; medians (wall s / CPU s, / hand):")
    for n in methods:
        print(f"  {n:<18} {w[n]:7.3f} {c[n]:7.3f}   {w[n] / w['hand']:5.2f} {c[n] / c['hand']:5.2f}")


if __name__ == "__main__":
    main()
