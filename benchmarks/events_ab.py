"""DuckDB's list form of one-source sequences against the self-join it replaced, inside
project.count() (issue 17, benchmarks/README.md §8.6).

    python benchmarks/events_ab.py [--rounds 3]

The 1M-customer project of events.py with its three segments added, and without them;
count() of each with the list form ("lists", folded into the orders' GROUP BY) and without
it ("join": rewrites.py's DuckDB entries for it removed, as before 2026-12-04 20:15), interleaved over the rounds in this one
process; medians of wall and CPU and the ratio to the count without the three."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from events import LAST, RELAUNCH, SHOES_BAG, copy_project  # noqa: E402
from count_speed import interleaved  # noqa: E402
from scale import prepare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import segc
    from sqlglot import exp

    from segc.backend import render, rewrites

    folder = prepare("1m")
    base = segc.load_project(copy_project(folder, "-base"))
    plus = segc.load_project(copy_project(folder, "-events", f"segment relaunch = {RELAUNCH}\n"
                                          f"segment shoes_then_bag = {SHOES_BAG}\nsegment last_shoes = {LAST}\n"))
    forms = {c: rewrites.duckdb[c] for c in (exp.Select, exp.With)}  # the lists, and their fold

    def counted(project, lists: bool):
        def run():
            if lists:
                rewrites.duckdb.update(forms)
            else:
                for c in forms:
                    rewrites.duckdb.pop(c, None)
            render._DIALECTS.clear()  # the dialect tables are cached per dialect
            return project.count()
        return run

    methods = {"count": counted(base, True), "count+3 lists": counted(plus, True),
               "count+3 join": counted(plus, False)}
    answers = {n: [(s.name, s.count) for s in m().segments] for n, m in methods.items()}
    assert answers["count+3 lists"] == answers["count+3 join"], "the two forms differ"
    wall, cpu = interleaved(methods, args.rounds)
    rewrites.duckdb.update(forms)
    render._DIALECTS.clear()
    print(f"load average {os.getloadavg()[0]:.2f}; medians over {args.rounds} rounds (wall s / CPU s):")
    b = statistics.median(wall["count"]), statistics.median(cpu["count"])
    for n in methods:
        w, c = statistics.median(wall[n]), statistics.median(cpu[n])
        print(f"  {n:14} {w:7.3f} {c:7.3f}   / count {w / b[0]:.2f} wall {c / b[1]:.2f} CPU")


if __name__ == "__main__":
    main()
