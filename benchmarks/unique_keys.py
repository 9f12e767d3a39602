"""The cost of refusing duplicate base keys (DESIGN §8.2), against a count, at 1M customers.

    python benchmarks/unique_keys.py [--rounds 9] [--data DIR] [--customers N]

Data and project as count_speed.py (its frozen copy of the example, 35 segments and
branches; the data generated on first use), in a folder of its own. Measured in one
process on one DuckDB connection, interleaved (count_speed.round_order), median wall and
process CPU time of executing (compiled before timing):

  plain     the counts query without the check (what `count` ran before)
  folded    the counts query with COUNT(key) - COUNT(DISTINCT key) in the same scan
            (what `segc count` runs)
  separate  plain, then the check as a query of its own (preview.require_unique_keys:
            the base and what the population reads; what sample/overlap/profile/
            transitions/report add)

Target (issue 15): the check costs at most 5% of a count: folded / plain <= 1.05, and the
separate query's own time / plain <= 0.05 where a command runs it beside its query.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_data import ensure_data  # noqa: E402
from count_speed import FROZEN, round_order  # noqa: E402

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "segc-bench" / "unique-keys"


def prepare(data: Path | None, customers: int) -> Path:
    """The project folder (a copy of the frozen project pointing at the data)."""
    data = ensure_data((data or CACHE / "data").resolve(), customers, managed=data is None)
    folder = CACHE / "project"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(FROZEN, folder)
    config = (folder / "segc.yml").read_text(encoding="utf-8")
    (folder / "segc.yml").write_text(re.sub(r"path: data/(\w+\.parquet)", lambda m: f"path: {data / m.group(1)}",
                                            config) + "\nallow_outside_paths: true\n", encoding="utf-8")
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--data", type=Path, default=None, help="folder with the three parquet files")
    ap.add_argument("--customers", type=int, default=1_000_000, help="when generating the data")
    args = ap.parse_args()

    import duckdb

    import segc
    from segc.backend.lower import KEY
    from segc.backend.trees import col
    from segc.backend.render import render
    from segc.run.datacheck import duplicates

    project = segc.load_project(prepare(args.data, args.customers))
    con = project.duckdb()
    con.execute("SET enable_progress_bar = false")
    names = project.segment_names
    folded_q = project.counts_query(names)
    plain_q = folded_q.copy()
    plain_q.set("expressions", [e for e in plain_q.expressions if e.alias != "segc_duplicates"])
    assert len(plain_q.expressions) == len(folded_q.expressions) - 1
    check_q = project.lowerer().query(project.checked.population, lambda lw: ([duplicates(col(KEY))], None))
    sql = {name: render(q, "duckdb", pretty=False) for name, q in
           (("plain", plain_q), ("folded", folded_q), ("check", check_q))}

    def plain():
        return con.execute(sql["plain"]).fetchone()

    def folded():
        row = con.execute(sql["folded"]).fetchone()
        return (row[0], *row[2:])

    def separate():
        row = con.execute(sql["plain"]).fetchone()
        con.execute(sql["check"]).fetchone()
        return row

    def check_alone():
        con.execute(sql["check"]).fetchone()
        return None

    methods = {"plain": plain, "folded": folded, "separate": separate, "check": check_alone}
    results = {m: fn() for m, fn in methods.items()}  # warm-up: parquet metadata, page cache
    wall = {m: [] for m in methods}
    cpu = {m: [] for m in methods}
    for r in range(args.rounds):
        for m in round_order(list(methods), r):
            c0, t0 = time.process_time(), time.perf_counter()
            out = methods[m]()
            wall[m].append(time.perf_counter() - t0)
            cpu[m].append(time.process_time() - c0)
            # float sums are added in a thread-dependent order: a customer on a tier boundary
            # may move between rounds (count_speed.compare); more than 0.01% is a real difference
            if out is not None and max(abs(a - b) for a, b in zip(out, results["plain"])) > out[0] // 10_000:
                sys.exit(f"{m}: the counts differ from plain's")
    med = {m: statistics.median(v) for m, v in wall.items()}
    med_cpu = {m: statistics.median(v) for m, v in cpu.items()}
    print(f"duckdb {duckdb.__version__}, {len(names)} segments, population {results['plain'][0]:,}, "
          f"{args.rounds} rounds (interleaved, after one warm-up round); load average {os.getloadavg()[0]:.2f}")
    print(f"\n{'method':<10} {'wall s':>7} {'cpu s':>7} {'/plain':>7}   all rounds (wall s)")
    for m in methods:
        print(f"{m:<10} {med[m]:7.3f} {med_cpu[m]:7.3f} {med[m] / med['plain']:7.3f}   "
              + " ".join(f"{x:.3f}" for x in wall[m]))
    print(f"\nfolded / plain:    {med['folded'] / med['plain']:.3f} wall, {med_cpu['folded'] / med_cpu['plain']:.3f} cpu"
          "   (target <= 1.05)")
    print(f"separate / plain:  {med['separate'] / med['plain']:.3f} wall, "
          f"{med_cpu['separate'] / med_cpu['plain']:.3f} cpu")
    print(f"check / plain:     {med['check'] / med['plain']:.3f} wall, {med_cpu['check'] / med_cpu['plain']:.3f} cpu"
          "   (target <= 0.05)")


if __name__ == "__main__":
    main()
