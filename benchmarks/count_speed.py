"""Count speed on 1 million customers: `project.count()` (one scan) vs hand-written SQL.

    python benchmarks/count_speed.py [--rounds 5] [--data DIR] [--customers N] [--no-memory]

Data: DIR/{customers,orders,carts}.parquet made by examples/retail/generate.py. By
default /tmp/retail1m when it holds the three files, else ~/.cache/segc-bench/retail-1m/data
(generated on first use with `generate.py --customers N --out DIR`, N = 1,000,000). The
project is benchmarks/count_speed_project/ (segc.yml and segments/: a frozen copy of
examples/retail as of 2026-11-23, 35 segments and branches, so that the hand-written
query stays their exact equivalent when the example changes), copied to
~/.cache/segc-bench/retail-1m with its `path:` entries pointing at the data.

Measured in this one process on one DuckDB connection (`project.duckdb()`), interleaved
(each round runs the three in another order: round_order), median wall time and median process CPU
time (all threads) of:

  segc      project.count(): compile the counts query + run it (all 35, one scan)
  hand      benchmarks/count_speed_hand.sql: the best single query written by hand
  per-seg   one query per segment: project.compile(name, form="count") for each (compiled
            before timing), each executed

Targets: segc within 1.1x of hand, and at least 3x faster than per-seg. The counts of the
three must agree. Peak memory: each method once more in a fresh child process (ru_maxrss
of that process, and the peak of DuckDB's own accounting, duckdb_memory(), sampled every
10 ms).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_data import FILES, ensure_data  # the benchmarks' folder is on sys.path: run as a script

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLE = ROOT / "examples" / "retail"
FROZEN = HERE / "count_speed_project"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "segc-bench" / "retail-1m"
DEFAULT_DATA = Path("/tmp/retail1m")
HAND_SQL = HERE / "count_speed_hand.sql"

# The hand-written query's columns after the population, in this order.
EXPECTED_NAMES = [
    "young_urban_fr", "dach_seniors", "new_signups", "age_unknown", "inactive_6m", "at_risk",
    "engaged_30d", "cart_abandoners", "shoe_fans", "serial_returners", "never_ordered",
    "winback_email", "cart_recovery", "big_spenders_fr_be", "shoe_launch_vip", "cross_sell",
    "loyal_big_basket", "loyal_small_basket", "occasional_big_basket", "occasional_small_basket",
    "quadrant.frequent_big", "quadrant.frequent_small", "quadrant.occasional_big",
    "quadrant.occasional_small", "rfm.champions", "rfm.loyal", "rfm.promising", "rfm.at_risk",
    "rfm.hibernating", "value_tier.very_good", "value_tier.good", "value_tier.average",
    "value_tier.occasional", "top_revenue_10pct", "high_value_reachable",
]


def round_order(names: list[str], r: int) -> list[str]:
    """Round r's order: a rotation, reversed every other round, so that each method runs
    after each of the others in turn. A query after a lighter one pays for growing
    DuckDB's memory again (page faults, counted as process CPU): with rotations only, the
    method after `per-seg` always paid it (segc/hand 1.19 instead of 1.05 at 1M)."""
    k = (r // 2) % len(names)
    order = names[k:] + names[:k]
    return order[::-1] if r % 2 else order


def interleaved(methods: dict, rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each method (a callable) once per round, in round_order: (wall s, CPU s of this
    process) per method, one value per round. Warm-up is the caller's."""
    import time

    wall: dict[str, list[float]] = {n: [] for n in methods}
    cpu: dict[str, list[float]] = {n: [] for n in methods}
    for r in range(rounds):
        for n in round_order(list(methods), r):
            w, c = time.perf_counter(), time.process_time()
            methods[n]()
            wall[n].append(time.perf_counter() - w)
            cpu[n].append(time.process_time() - c)
    return wall, cpu


def prepare(data: Path | None, customers: int) -> Path:
    """The benchmark project folder (data generated if missing)."""
    managed = data is None and not all((DEFAULT_DATA / f).is_file() for f in FILES)
    if data is None:
        data = CACHE / "data" if managed else DEFAULT_DATA
    data = ensure_data(data.resolve(), customers, managed)
    CACHE.mkdir(parents=True, exist_ok=True)
    config = (FROZEN / "segc.yml").read_text(encoding="utf-8")
    config = re.sub(r"path: data/(\w+\.parquet)", lambda m: f"path: {data / m.group(1)}", config)
    # the data lives outside the project folder (E709 unless allowed)
    (CACHE / "segc.yml").write_text(config + "\nallow_outside_paths: true\n", encoding="utf-8")
    if (CACHE / "segments").exists():
        shutil.rmtree(CACHE / "segments")
    shutil.copytree(FROZEN / "segments", CACHE / "segments")
    return CACHE


class Bench:
    def __init__(self, folder: Path):
        import segc

        self.project = segc.load_project(folder)
        self.names = self.project.segment_names
        if self.names != EXPECTED_NAMES:
            sys.exit(f"{FROZEN.name}'s segments changed; update {HAND_SQL.name} and EXPECTED_NAMES:\n{self.names}")
        self.con = self.project.duckdb()
        self.con.execute("SET enable_progress_bar = false")
        self.hand_sql = HAND_SQL.read_text(encoding="utf-8")
        self.per_segment_sql = [self.project.compile(n, form="count", pretty=False) for n in self.names]

    def segc(self) -> list[int]:
        result = self.project.count()
        return [result.population] + [s.count for s in result.segments]

    def hand(self) -> list[int]:
        return [int(v) for v in self.con.execute(self.hand_sql).fetchone()]

    def per_segment(self) -> list[int]:
        population = self.con.execute(
            self.project.compile_expression("true", form="count", pretty=False)).fetchone()[0]
        return [population] + [self.con.execute(sql).fetchone()[0] for sql in self.per_segment_sql]

    def methods(self):
        return {"segc": self.segc, "hand": self.hand, "per-seg": self.per_segment}


def child(folder: Path, method: str) -> None:
    """Run one method once; print peak RSS and DuckDB's peak accounted memory as JSON."""
    bench = Bench(folder)
    bench.con.execute("SELECT 1").fetchall()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_duck, stop = [0], threading.Event()
    sampler_con = bench.con.cursor()

    def sample():
        while not stop.is_set():
            v = sampler_con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]
            peak_duck[0] = max(peak_duck[0], int(v or 0))
            time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    bench.methods()[method]()
    stop.set()
    thread.join()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rss_before_kib": before, "rss_peak_kib": after, "hwm_kib": _vm_hwm(),
                      "duckdb_peak_bytes": peak_duck[0]}))


def _vm_hwm() -> int | None:
    """Peak RSS of this process from /proc (Linux), in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def memory(methods) -> list[str]:
    """Each method once in a fresh child process. Run before this process grows: on
    Linux a child's ru_maxrss starts from its parent's at fork."""
    lines = []
    for m in methods:
        out = subprocess.run([sys.executable, __file__, "--child", m], check=True, capture_output=True,
                             text=True).stdout
        mem = json.loads(out.strip().splitlines()[-1])
        lines.append(f"  {m:<9} peak RSS {mem['rss_peak_kib'] / 1024:6.0f} MiB "
                     f"(+{(mem['rss_peak_kib'] - mem['rss_before_kib']) / 1024:4.0f} MiB over the loaded project)   "
                     f"duckdb_memory() peak {mem['duckdb_peak_bytes'] / 2**20:6.0f} MiB")
    return lines


def compare(results: dict[str, list[list[int]]], names: list[str]) -> tuple[bool, list[str]]:
    """Every method and round should give the same counts. Float sums (revenue, basket
    average) are added in a thread-dependent order, so a customer sitting exactly on a
    tier boundary can fall either side from one run to the next: report such drift, and
    fail only on a difference larger than 0.01% of the population."""
    rows = ["population", *names]
    lines, ok = [], True
    population = results["segc"][0][0]
    for i, row in enumerate(rows):
        seen = {m: sorted({r[i] for r in rs}) for m, rs in results.items()}
        values = {v for vs in seen.values() for v in vs}
        if len(values) > 1:
            spread = max(values) - min(values)
            if spread > max(1, population // 10_000):
                ok = False
            lines.append(f"  {row:<28} " + "  ".join(f"{m}={'/'.join(map(str, vs))}" for m, vs in seen.items()))
    return ok, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--data", type=Path, default=None, help="folder with the three parquet files")
    ap.add_argument("--customers", type=int, default=1_000_000, help="when generating the data")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory child runs")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        child(CACHE, args.child)
        return
    folder = prepare(args.data, args.customers)
    mem_lines = [] if args.no_memory else memory(("segc", "hand", "per-seg"))
    bench = Bench(folder)
    methods = bench.methods()
    import duckdb

    print(f"project {folder}  data {bench.project.schema.sources['customers'].path.rsplit('/', 1)[0]}")
    print(f"duckdb {duckdb.__version__}, threads {bench.con.execute('SELECT current_setting(%s)' % repr('threads')).fetchone()[0]}, "
          f"{len(bench.names)} segments, {args.rounds} rounds (interleaved, after one warm-up round)")

    results: dict[str, list[list[int]]] = {m: [] for m in methods}
    for m, fn in methods.items():  # warm-up: parquet metadata, OS page cache
        results[m].append(fn())
    wall: dict[str, list[float]] = {m: [] for m in methods}
    cpu: dict[str, list[float]] = {m: [] for m in methods}
    for r in range(args.rounds):
        for m in round_order(list(methods), r):
            c0, t0 = time.process_time(), time.perf_counter()
            counts = methods[m]()
            wall[m].append(time.perf_counter() - t0)
            cpu[m].append(time.process_time() - c0)
            results[m].append(counts)

    med = {m: statistics.median(v) for m, v in wall.items()}
    med_cpu = {m: statistics.median(v) for m, v in cpu.items()}
    print(f"\n{'method':<16} {'wall s':>7} {'cpu s':>7} {'/hand':>6}   all rounds (wall s)")
    for m in methods:
        print(f"{m:<16} {med[m]:7.3f} {med_cpu[m]:7.3f} {med[m] / med['hand']:6.2f}   "
              + " ".join(f"{x:.2f}" for x in wall[m]))
    print(f"\nsegc / hand:     {med['segc'] / med['hand']:.2f} wall, {med_cpu['segc'] / med_cpu['hand']:.2f} cpu"
          "   (target <= 1.10)")
    print(f"per-seg / segc:  {med['per-seg'] / med['segc']:.2f} wall, {med_cpu['per-seg'] / med_cpu['segc']:.2f} cpu"
          "   (target >= 3)")

    ok, drift = compare(results, bench.names)
    population = results["segc"][0][0]
    if not drift:
        print(f"\ncounts: all three agree exactly in every round (population {population:,})")
    else:
        print(f"\ncounts: {'agree' if ok else 'DISAGREE'} (population {population:,}); "
              "rows whose value varied (method=values seen over the rounds):")
        print("\n".join(drift))

    if mem_lines:
        print("\npeak memory, each method once in a fresh process (ru_maxrss):")
        print("\n".join(mem_lines))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
