"""`segc snapshot` and `segc changes` against `segc count`, at 1M customers (issue 18).

    python benchmarks/snapshot_speed.py [--rounds 5] [--customers 1000000] [--data DIR]

Data: examples/retail/generate.py --customers N, written once to
~/.cache/segc-bench/snapshot/data/. The project is the retail example (its segments/,
models/ and segc.yml, every segment and segmentation) copied to
~/.cache/segc-bench/snapshot/project/ with its `path:` entries pointing at that data.

Methods, all in this one process on one DuckDB connection (`project.duckdb()`), after a
warm-up run, interleaved over the rounds (count_speed.round_order; median wall and
process CPU time):

  count     project.count(): every segment and branch, one scan (what `segc count` runs)
  snapshot  project.snapshot(): every segment and segmentation's membership at the as-of,
            written to .segc/snapshots/as_of=2024-07-01/part.parquet (replaced each round)
  changes   project.changes(since="2024-06-30"): against a snapshot of the day before,
            taken before timing (the daily loop: `segc changes --since last`),
            entered/exited of every segment and branch (rows fetched into Python)
  changes-30d  the same since 2024-06-01 (a month of churn: many more rows)

Target: snapshot <= 1.5x count and changes <= 1.5x count.
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
from count_speed import round_order  # noqa: E402

EXAMPLE = HERE.parent / "examples" / "retail"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "segc-bench" / "snapshot"
SINCE, MONTH = "2024-06-30", "2024-06-01"


def prepare(data: Path | None, customers: int) -> Path:
    """The project folder (a copy of the example pointing at the data, generated if missing)."""
    data = ensure_data((data or CACHE / "data").resolve(), customers, managed=data is None)
    folder = CACHE / "project"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for sub in ("segments", "models"):
        shutil.copytree(EXAMPLE / sub, folder / sub)
    config = (EXAMPLE / "segc.yml").read_text(encoding="utf-8")
    config = re.sub(r"path: data/(\w+\.parquet)", lambda m: f"path: {data / m.group(1)}", config)
    (folder / "segc.yml").write_text(config + "\nallow_outside_paths: true\n", encoding="utf-8")
    return folder


def timed(fn) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=None)
    args = ap.parse_args()

    import segc

    project = segc.load_project(prepare(args.data, args.customers))
    project.duckdb().execute("SET enable_progress_bar = false")
    project.snapshot(as_of=SINCE)  # what `changes` compares with
    project.snapshot(as_of=MONTH)
    methods = {
        "count": lambda: project.count(),
        "snapshot": lambda: project.snapshot(),
        "changes": lambda: project.changes(since=SINCE),
        "changes-30d": lambda: project.changes(since=MONTH),
    }
    for fn in methods.values():  # warm-up: file cache, DuckDB's memory
        fn()
    walls: dict[str, list[float]] = {m: [] for m in methods}
    cpus: dict[str, list[float]] = {m: [] for m in methods}
    sizes = {}
    for r in range(args.rounds):
        for m in round_order(list(methods), r):
            wall, cpu, result = timed(methods[m])
            walls[m].append(wall)
            cpus[m].append(cpu)
            sizes[m] = result
    population = sizes["count"].population
    stored = sum(n for *_x, n in sizes["snapshot"].counts)
    print(f"{population:,} customers in the population; snapshot: {len(sizes['snapshot'].counts)} definitions "
          f"and branches, {stored:,} rows; changes since {SINCE}: {len(sizes['changes'].rows):,} rows, "
          f"since {MONTH}: {len(sizes['changes-30d'].rows):,} rows")
    print(f"{'method':<12} {'wall (median)':>14} {'cpu (median)':>13} {'wall / count':>13} {'cpu / count':>12}")
    base, base_cpu = statistics.median(walls["count"]), statistics.median(cpus["count"])
    for m in methods:
        w, c = statistics.median(walls[m]), statistics.median(cpus[m])
        print(f"{m:<12} {w:>13.2f}s {c:>12.2f}s {w / base:>12.2f}x {c / base_cpu:>11.2f}x")
    print(f"rounds: {args.rounds}; walls: " + "; ".join(f"{m} " + ", ".join(f"{x:.2f}" for x in walls[m])
                                                       for m in methods))


if __name__ == "__main__":
    main()
