"""Scale: `segc count` on DuckDB from 1 million to 10 million customers (~95M orders).

    python benchmarks/scale.py [--sizes 1m,3m,10m] [--rounds 3] [--per-seg-rounds 1] [--no-memory]

Data: examples/retail/generate.py --customers N, written once to
~/.cache/segc-bench/scale/c<size>/ (10m: 10M customers, 95M orders, 24M carts, 1.2 GB of
parquet; generating it takes ~3 min of CPU and ~16 GB of RAM at peak). The project is
benchmarks/count_speed_project/ (the frozen retail example: 35 segments and branches,
behavioural ones included), copied to ~/.cache/segc-bench/scale/project-<size>/ with its
`path:` entries pointing at that data.

Methods, all in this one process on one DuckDB connection (`project.duckdb()`), after a
warm-up run, interleaved over the rounds (median wall and process CPU time):

  segc      project.count(): compile the counts query + run it (one scan)
  hand      benchmarks/count_speed_hand.sql: the best single query written by hand
  per-seg   one query per segment (project.compile(name, form="count"), each executed)
  floor     the least work any answer needs: one GROUP BY pass over each event table
            computing exactly the aggregates the segments use (as segc computes them),
            plus one scan of the base's used columns; no join, no ranking, no predicate.
  floor-2   the same with the windowed COUNT(DISTINCT) in its own pre-filtered pass (as
            the hand query does); the FLOOR is the faster of floor and floor-2.

Targets: segc <= 1.5x the floor, <= 1.05x hand, >= 3x faster than per-seg. Counts of segc,
hand and per-seg must agree. Peak memory: each method once more in a fresh child process
(ru_maxrss, and DuckDB's own accounting: the peak of duckdb_memory() sampled every 10 ms).
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

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_data import ensure_data  # noqa: E402
from count_speed import EXPECTED_NAMES, FROZEN, HAND_SQL, round_order  # noqa: E402  (the frozen project + its hand query)

ROOT = HERE.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "segc-bench" / "scale"
SIZES = {"1m": 1_000_000, "3m": 3_000_000, "10m": 10_000_000}

_AS_OF, _Y, _M, _Q = "DATE '2024-07-01'", "DATE '2023-07-02'", "DATE '2024-06-01'", "DATE '2024-04-02'"
# The aggregates the 35 segments need, exactly as segc's counts query computes them.
ORDERS_AGGS = f"""
    max(ordered_at) AS last_order_at,
    count(CASE WHEN ordered_at >= {_Y} AND status = 'completed' THEN 1 END) AS purchases_365d,
    avg(CASE WHEN status = 'completed' THEN amount END) AS basket_avg,
    count(CASE WHEN ordered_at >= {_M} THEN 1 END) AS orders_30d,
    count(CASE WHEN ordered_at >= {_Q} AND category = 'shoes' THEN 1 END) AS shoes_90d,
    count(CASE WHEN ordered_at >= {_Y} AND status = 'returned' THEN 1 END) AS returns_365d,
    count(*) AS orders_total,
    sum(CASE WHEN ordered_at >= {_Y} AND status = 'completed' THEN amount END) AS revenue_365d,
    count(CASE WHEN ordered_at >= {_M} AND category = 'shoes' THEN 1 END) AS shoes_30d"""
CONSUME = ("count(*) AS n, max(last_order_at) AS a, sum(purchases_365d) AS b, sum(basket_avg) AS c, "
           "sum(orders_30d) AS d, sum(shoes_90d) AS e, sum(returns_365d) AS f, sum(orders_total) AS g, "
           "sum(revenue_365d) AS h, sum(shoes_30d) AS i")
CARTS = (f"SELECT count(*) AS n, sum(carts_30d) AS a, sum(abandoned_30d) AS b FROM ("
         f"SELECT customer_id, count(CASE WHEN created_at >= {_M} THEN 1 END) AS carts_30d, "
         f"sum(CASE WHEN created_at >= {_M} AND abandoned THEN value END) AS abandoned_30d "
         f"FROM shop.carts WHERE created_at < {_AS_OF} GROUP BY customer_id)")
BASE = ('SELECT count(*) AS n, count_if(is_test) AS a, count(DISTINCT country) AS b, sum(age) AS c, '
        'count("City Name") AS d, max(signup_date) AS e, count_if(email_optin) AS f, count_if(sms_optin) AS g, '
        'count_if(loyalty_card) AS h FROM shop.customers')
FLOOR_SQL = f"""SELECT * FROM (
  SELECT {CONSUME}, sum(categories_365d) AS j FROM (
    SELECT customer_id, {ORDERS_AGGS},
      count(DISTINCT CASE WHEN ordered_at >= {_Y} THEN category END) AS categories_365d
    FROM shop.orders WHERE ordered_at < {_AS_OF} GROUP BY customer_id)
) AS o, ({CARTS}) AS c, ({BASE}) AS b"""
FLOOR2_SQL = f"""SELECT * FROM (
  SELECT {CONSUME} FROM (
    SELECT customer_id, {ORDERS_AGGS} FROM shop.orders WHERE ordered_at < {_AS_OF} GROUP BY customer_id)
) AS o, (
  SELECT count(*) AS n, sum(categories_365d) AS j FROM (
    SELECT customer_id, count(DISTINCT category) AS categories_365d FROM shop.orders
    WHERE ordered_at >= {_Y} AND ordered_at < {_AS_OF} GROUP BY customer_id)
) AS d, ({CARTS}) AS c, ({BASE}) AS b"""


def prepare(size: str) -> Path:
    """The project folder for one size (its data generated when missing)."""
    data = ensure_data(CACHE / f"c{size}", SIZES[size])
    folder = CACHE / f"project-{size}"
    folder.mkdir(parents=True, exist_ok=True)
    config = (FROZEN / "segc.yml").read_text(encoding="utf-8")
    config = re.sub(r"path: data/(\w+\.parquet)", lambda m: f"path: {data / m.group(1)}", config)
    # the data lives outside the project folder (E709 unless allowed)
    (folder / "segc.yml").write_text(config + "\nallow_outside_paths: true\n", encoding="utf-8")
    shutil.rmtree(folder / "segments", ignore_errors=True)
    shutil.copytree(FROZEN / "segments", folder / "segments")
    return folder


class Methods:
    def __init__(self, folder: Path):
        import segc

        self.project = segc.load_project(folder)
        self.names = self.project.segment_names
        if self.names != EXPECTED_NAMES:
            sys.exit(f"{FROZEN.name}'s segments changed; update {HAND_SQL.name} and count_speed.EXPECTED_NAMES")
        self.con = self.project.duckdb()
        self.con.execute("SET enable_progress_bar = false")
        self.hand_sql = HAND_SQL.read_text(encoding="utf-8")
        self.population_sql = self.project.compile_expression("true", form="count", pretty=False)
        self.per_segment_sql = [self.project.compile(n, form="count", pretty=False) for n in self.names]

    def segc(self):
        r = self.project.count()
        return [r.population] + [s.count for s in r.segments]

    def hand(self):
        return [int(v) for v in self.con.execute(self.hand_sql).fetchone()]

    def per_segment(self):
        return [self.con.execute(sql).fetchone()[0] for sql in [self.population_sql, *self.per_segment_sql]]

    def floor(self):
        self.con.execute(FLOOR_SQL).fetchall()

    def floor2(self):
        self.con.execute(FLOOR2_SQL).fetchall()

    def table(self):
        return {"segc": self.segc, "hand": self.hand, "per-seg": self.per_segment,
                "floor": self.floor, "floor-2": self.floor2}


def child(size: str, method: str) -> None:
    """One method once in this fresh process: peak RSS and DuckDB's peak memory, as JSON."""
    m = Methods(CACHE / f"project-{size}")
    m.con.execute("SELECT 1").fetchall()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak, stop = [0], threading.Event()
    sampler = m.con.cursor()

    def sample():
        while not stop.is_set():
            v = sampler.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]
            peak[0] = max(peak[0], int(v or 0))
            time.sleep(0.01)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    m.table()[method]()
    wall = time.perf_counter() - t0
    stop.set()
    thread.join()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rss_before_kib": before, "rss_peak_kib": after, "hwm_kib": _vm_hwm(),
                      "duckdb_peak_bytes": peak[0], "wall_s": wall}))


def _vm_hwm() -> int:
    """Peak RSS of this process since its exec (VmHWM, KiB). ru_maxrss is not enough: on
    Linux it survives exec, so a child started by a grown parent reports the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory(size: str, methods: list[str]) -> dict[str, dict]:
    out = {}
    for method in methods:
        text = subprocess.run([sys.executable, __file__, "--child", size, method], check=True,
                              capture_output=True, text=True).stdout
        out[method] = json.loads(text.strip().splitlines()[-1])
    return out


def measure(size: str, rounds: int, per_seg_rounds: int, with_memory: bool) -> dict:
    folder = prepare(size)
    methods_names = ["segc", "hand", "per-seg", "floor", "floor-2"]
    mem = memory(size, methods_names) if with_memory else {}
    m = Methods(folder)
    fns = m.table()
    if per_seg_rounds < 1:
        del fns["per-seg"]
    import duckdb

    threads = m.con.execute("SELECT current_setting('threads')").fetchone()[0]
    limit = m.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    rows = {t: m.con.execute(f"SELECT count(*) FROM shop.{t}").fetchone()[0] for t in ("customers", "orders", "carts")}
    print(f"\n== {size}: {rows['customers']:,} customers, {rows['orders']:,} orders, {rows['carts']:,} carts "
          f"(duckdb {duckdb.__version__}, threads {threads}, memory_limit {limit})", flush=True)
    counts: dict[str, list] = {k: [] for k in ("segc", "hand", "per-seg") if k in fns}
    wall: dict[str, list[float]] = {k: [] for k in fns}
    cpu: dict[str, list[float]] = {k: [] for k in fns}
    for name, fn in fns.items():  # warm-up: parquet metadata, page cache
        if name != "per-seg" or per_seg_rounds >= rounds:
            r = fn()
            if name in counts:
                counts[name].append(r)
    for r in range(rounds):
        for name in round_order(list(fns), r):
            if name == "per-seg" and r >= per_seg_rounds:
                continue
            c0, t0 = time.process_time(), time.perf_counter()
            result = fns[name]()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
            if name in counts:
                counts[name].append(result)
    med = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    floor = min(med["floor"], med["floor-2"])
    print(f"{'method':<9} {'wall s':>8} {'cpu s':>8} {'/floor':>7}   rounds (wall s)")
    for k in fns:
        print(f"{k:<9} {med[k]:8.2f} {med_cpu[k]:8.2f} {med[k] / floor:7.2f}   " + " ".join(f"{x:.2f}" for x in wall[k]))
    floor_cpu = min(med_cpu["floor"], med_cpu["floor-2"])
    ratios = {"segc/floor": med["segc"] / floor, "segc/hand": med["segc"] / med["hand"]}
    cpu_ratios = {"segc/floor": med_cpu["segc"] / floor_cpu, "segc/hand": med_cpu["segc"] / med_cpu["hand"]}
    if "per-seg" in med:
        ratios["per-seg/segc"] = med["per-seg"] / med["segc"]
        cpu_ratios["per-seg/segc"] = med_cpu["per-seg"] / med_cpu["segc"]
    targets = {"segc/floor": "<= 1.5", "segc/hand": "<= 1.05", "per-seg/segc": ">= 3"}
    for k, v in ratios.items():
        print(f"{k:<13} {v:5.2f} wall  {cpu_ratios[k]:5.2f} cpu   (target {targets[k]})")
    reference = counts["segc"][0]
    agree = all(c == reference for rs in counts.values() for c in rs)
    if agree:
        print(f"counts: segc, hand and per-seg agree in every run (population {reference[0]:,})")
    else:
        tolerance = max(1, reference[0] // 10_000)
        worst = max(abs(a - b) for rs in counts.values() for c in rs for a, b in zip(c, reference))
        print(f"counts: differ by at most {worst} (float sums on tier boundaries; tolerance {tolerance})")
        agree = worst <= tolerance
    print_memory(mem)
    result = {"size": size, "rows": rows, "wall": wall, "cpu": cpu, "median_wall": med, "median_cpu": med_cpu,
              "floor": floor, "ratios": ratios, "cpu_ratios": cpu_ratios, "memory": mem, "counts_agree": agree, "threads": threads}
    (CACHE / f"results-{size}.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    return result


def print_memory(mem: dict[str, dict]) -> None:
    for k, v in mem.items():
        print(f"  memory {k:<8} peak RSS {v.get('hwm_kib', v['rss_peak_kib']) / 1024:7.0f} MiB   "
              f"duckdb_memory() peak {v['duckdb_peak_bytes'] / 2**20:7.0f} MiB   (that run: {v['wall_s']:.1f} s)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1m,3m,10m", help="comma-separated: " + ", ".join(SIZES))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--per-seg-rounds", type=int, default=1, help="rounds that also time per-seg (slow)")
    ap.add_argument("--no-memory", action="store_true", help="skip the peak-memory child runs")
    ap.add_argument("--memory-only", action="store_true", help="only the peak-memory child runs")
    ap.add_argument("--methods", default="segc,hand,per-seg,floor,floor-2", help="with --memory-only")
    ap.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.memory_only:
        for size in (s.strip() for s in args.sizes.split(",")):
            prepare(size)
            print(f"== {size}", flush=True)
            print_memory(memory(size, args.methods.split(",")))
        return
    CACHE.mkdir(parents=True, exist_ok=True)
    sizes = [s.strip() for s in args.sizes.split(",")]
    results = [measure(s, args.rounds, args.per_seg_rounds, not args.no_memory) for s in sizes]
    if len(results) > 1:
        print("\ngrowth (median wall; per million customers):")
        first = results[0]
        n0 = first["rows"]["customers"]
        for r in results:
            n = r["rows"]["customers"]
            line = "  ".join(f"{k} {r['median_wall'][k]:7.2f} s ({r['median_wall'][k] / (n / 1e6):.2f}/M, "
                             f"x{r['median_wall'][k] / first['median_wall'][k]:.1f})"
                             for k in ("segc", "hand", "floor"))
            print(f"  {r['size']:>4} (x{n / n0:.0f} customers): {line}")
    if not all(r["counts_agree"] for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
