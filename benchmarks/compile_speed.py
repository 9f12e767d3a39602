"""Compile speed: segc end-to-end vs sqlglot transpiling the equivalent hand-written SQL.

    python benchmarks/compile_speed.py [--rounds 20] [--cold-runs 10] [--stages] [--profile N]

(a) `project.compile_expression(text, dialect="postgres", pretty=False)`: parse + check +
    lower + render of one segment expression of the retail example;
(b) `sqlglot.transpile(hand_sql, read="duckdb", write="postgres")` of the same segment
    written by hand as the shortest correct DuckDB query (benchmarks/compile_speed_cases.py;
    not segc's output: a short query is cheaper to transpile).

Before timing, both are executed on the example's data (DuckDB) and must select the same
customers (`differences`), so the hand SQL is a correct equivalent, not just a parseable one.

Both are measured in this one process, interleaved (each round times every case with
both, alternating which goes first), after a warm-up. The headline is the ratio a/b of
the median round totals (all cases, garbage collections included; target <= 0.5, issue
16); the table shows each case's median over the rounds, and the ratio of the summed
per-case medians is printed too (it leaves out the calls a collection lands in). Only
ratios are meaningful: machines are noisy and differ.

Cold start: `segc compile -e 'age > 30' -p examples/retail --dialect postgres` as a fresh
process vs `python -c "import sqlglot"`, interleaved, median wall time of each (target
<= 1.6). segc's modules are compiled to bytecode first, as installing the wheel does
(sqlglot's are): in a source tree under PYTHONDONTWRITEBYTECODE, every run would compile
them again.

`--stages` also splits segc's time into parse + check / lower / render (medians), the
transpile into sqlglot's parse / generation, and estimates the floor of segc's pipeline:
its cost if it produced the hand queries' trees. `--profile N` prints cProfile's top
functions over N passes of all cases, and `--cold-breakdown N` where a cold `compile -e`
spends its time: each step timed in N fresh processes (medians), in the order the command
takes them.
"""
from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROJECT = ROOT / "examples" / "retail"
sys.path.insert(0, str(HERE))

import sqlglot  # noqa: E402

import segc  # noqa: E402
from compile_speed_cases import CASES  # noqa: E402

DIALECT = "postgres"


def segc_compile(project, text: str) -> str:
    return project.compile_expression(text, dialect=DIALECT, pretty=False)


def hand_transpile(sql: str) -> str:
    return sqlglot.transpile(sql, read="duckdb", write=DIALECT)[0]


def differences(project) -> list[str]:
    """The cases whose hand SQL does not select exactly segc's members (each customer
    once) on the example's DuckDB data."""
    con = project.duckdb()
    out = []
    for text, sql in CASES:
        segc_rows = [r[0] for r in con.execute(project.compile_expression(text, dialect="duckdb")).fetchall()]
        hand_rows = [r[0] for r in con.execute(sql).fetchall()]
        if len(hand_rows) != len(set(hand_rows)) or sorted(hand_rows) != sorted(segc_rows):
            out.append(f"{text}: segc {len(segc_rows)} rows, hand {len(hand_rows)} "
                       f"({len(set(hand_rows) ^ set(segc_rows))} customers differ)")
    con.close()
    return out


def measure(project, rounds: int):
    """Per case: (median s of segc, median s of transpile); per round the total of each
    over all cases (medians skip the calls a garbage collection lands in, round totals
    include them), as wall time and as CPU time of this process."""
    a_times = [[] for _ in CASES]
    b_times = [[] for _ in CASES]
    totals = {"a": [], "b": [], "a_cpu": [], "b_cpu": []}
    wall, cpu = time.perf_counter, time.process_time
    for r in range(rounds):
        gc.collect()
        sums = dict.fromkeys(totals, 0.0)
        for i, (text, sql) in enumerate(CASES):
            for which in ("ab" if (r + i) % 2 == 0 else "ba"):
                c0, t0 = cpu(), wall()
                if which == "a":
                    segc_compile(project, text)
                else:
                    hand_transpile(sql)
                t1, c1 = wall(), cpu()
                (a_times if which == "a" else b_times)[i].append(t1 - t0)
                sums[which] += t1 - t0
                sums[which + "_cpu"] += c1 - c0
        for k, v in sums.items():
            totals[k].append(v)
    per_case = [(statistics.median(a), statistics.median(b)) for a, b in zip(a_times, b_times)]
    return per_case, {k: statistics.median(v) for k, v in totals.items()}


def measure_stages(project, rounds: int) -> dict[str, float]:
    """segc's pipeline split into its stages as compile_expression runs them (internal
    API, for diagnosis only): parse + check is project.check_expression (the project's
    checker is not public, so the two are one stage here; --profile splits them). And
    the transpile's two: sqlglot's parse of the hand SQL, its generation. And segc's
    render of the hand query's tree, for `floor` (see main). And the two library calls
    segc cannot do without, alone: Lark's parse of the expression (its own parse tree, no
    callbacks) and sqlglot's generation of segc's tree (no dialect rewrites)."""
    from segc.backend.render import render
    from segc.front.shared_lexer import share_scanners
    from segc.grammar import segment_parser

    lark = segment_parser.Lark_StandAlone()
    share_scanners(lark.parser.lexer)
    totals = {"parse+check": [], "lower": [], "render": [], "transpile: parse": [], "transpile: generate": [],
              "render of hand tree": [], "Lark's parse alone": [], "sqlglot's generation of segc's tree": []}
    clock = time.perf_counter
    for _ in range(rounds):
        gc.collect()
        sums = dict.fromkeys(totals, 0.0)
        for text, sql in CASES:
            t0 = clock()
            pred, _used = project.check_expression(text)
            t1 = clock()
            tree = project.query(pred, "select")
            t2 = clock()
            render(tree, DIALECT, pretty=False, copy=False)
            t3 = clock()
            hand = sqlglot.parse_one(sql, read="duckdb")
            t4 = clock()
            hand_copy = hand.copy()
            t5 = clock()
            render(hand_copy, DIALECT, pretty=False, copy=False)
            t6 = clock()
            hand.sql(dialect=DIALECT, copy=False)
            t7 = clock()
            lark.parse(text, start="expr_file")
            t8 = clock()
            again = project.query(pred, "select")
            t9 = clock()
            again.sql(dialect=DIALECT, copy=False)
            t10 = clock()
            sums["Lark's parse alone"] += t8 - t7
            sums["sqlglot's generation of segc's tree"] += t10 - t9
            sums["parse+check"] += t1 - t0
            sums["lower"] += t2 - t1
            sums["render"] += t3 - t2
            sums["transpile: parse"] += t4 - t3
            sums["transpile: generate"] += t7 - t6
            sums["render of hand tree"] += t6 - t5
        for k, v in sums.items():
            totals[k].append(v)
    return {k: statistics.median(v) for k, v in totals.items()}


def profile(project, passes: int) -> None:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(passes):
        for text, _sql in CASES:
            segc_compile(project, text)
    prof.disable()
    stats = pstats.Stats(prof).strip_dirs()
    print(f"\ncProfile of segc over {passes} passes of {len(CASES)} cases (cumulative, top 30):")
    stats.sort_stats("cumulative").print_stats(30)
    print("cProfile (internal time, top 25):")
    stats.sort_stats("tottime").print_stats(25)


def cold_start(runs: int) -> tuple[float, float, float]:
    """Median wall seconds: segc compile CLI, `python -c "import sqlglot"`, `python -c pass`."""
    import compileall

    for folder in ("compiler", "cli", "grammar"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    script = Path(sys.executable).with_name("segc")
    segc_cmd = ([str(script)] if script.exists() else
                [shutil.which("segc") or sys.executable, *([] if shutil.which("segc") else ["-m", "segc.cli.main"])])
    commands = {
        "segc": [*segc_cmd, "compile", "-e", "age > 30", "-p", str(PROJECT), "--dialect", DIALECT],
        "sqlglot": [sys.executable, "-c", "import sqlglot"],
        "python": [sys.executable, "-c", "pass"],
    }
    env = dict(os.environ)
    times = {k: [] for k in commands}
    for name, cmd in commands.items():  # warm-up: page cache, Lark's grammar cache
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=ROOT)
    for r in range(runs):
        order = list(commands) if r % 2 == 0 else list(reversed(commands))
        for name in order:
            t0 = time.perf_counter()
            subprocess.run(commands[name], check=True, capture_output=True, env=env, cwd=ROOT)
            times[name].append(time.perf_counter() - t0)
    return tuple(statistics.median(times[k]) for k in ("segc", "sqlglot", "python"))


# one fresh process: each import and step of `segc compile -e 'age > 30'`, timed in turn
# (an import lists what it adds to the ones before it)
BREAKDOWN = """
import time
marks = [time.perf_counter()]
def step(): marks.append(time.perf_counter())
import sqlglot; step()
import yaml; step()
import segc.front.errors; step()
import segc.front.ast; step()
import segc.ir; step()
import segc.schema.segc_yml; step()
import segc.check.checker; step()
import segc.backend.lower, segc.backend.render; step()
import segc.front.parser; step()
import segc.project, segc.cli.plain; step()
segc.front.parser.get_parser(); step()
from pathlib import Path
from segc.front.source import Source
for f in sorted(Path(PROJECT, "segments").glob("**/*.seg")):
    segc.front.parser.parse_module(Source(f.name, f.read_text(encoding="utf-8")))
step()
segc.schema.segc_yml.load_schema(Source("segc.yml", Path(PROJECT, "segc.yml").read_text(encoding="utf-8"))); step()
import segc.schema.score_model, segc.check.scores, segc.check.kpis; step()
p = segc.project.load_project(PROJECT); step()
p.compile_expression("age > 30", dialect="postgres"); step()
print([b - a for a, b in zip(marks, marks[1:])])
"""
BREAKDOWN_STEPS = [
    "import sqlglot", "import yaml", "import segc, front.errors, front.source", "import front.ast",
    "import ir", "import schema.segc_yml, front.yamlpos", "import check.*", "import backend.lower, render",
    "import front.parser (with the shipped tables)", "import project, cli.plain", "make the parser",
    "parse the .seg files (lexer regexes on first use)", "segc.yml: YAML and its reading",
    "import score_model, check.scores, check.kpis", "load_project (parses again, checks)",
    "compile_expression('age > 30', postgres)",
]


def cold_breakdown(runs: int) -> None:
    import json

    code = f"PROJECT = {str(PROJECT)!r}\n" + BREAKDOWN
    samples = [json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                                         cwd=ROOT).stdout) for _ in range(runs)]
    print(f"\ncold compile -e, step by step (median ms of {runs} fresh processes; the interpreter's own start "
          "is not in it):")
    medians = [statistics.median(s[i] for s in samples) for i in range(len(BREAKDOWN_STEPS))]
    for name, t in zip(BREAKDOWN_STEPS, medians):
        print(f"  {name:<52} {t * 1e3:6.1f}")
    print(f"  {'total':<52} {sum(medians) * 1e3:6.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--cold-runs", type=int, default=10, help="0 skips the cold-start measurement")
    ap.add_argument("--stages", action="store_true", help="also time parse+check / lower / render")
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile N passes of segc")
    ap.add_argument("--quiet", action="store_true", help="no per-case table")
    ap.add_argument("--cold-breakdown", type=int, default=0, metavar="N",
                    help="time each step of a cold compile -e in N fresh processes")
    args = ap.parse_args()

    project = segc.load_project(PROJECT)
    wrong = differences(project)
    if wrong:
        sys.exit("hand SQL not equivalent to segc's query:\n  " + "\n  ".join(wrong))
    for _ in range(3):  # warm-up
        for text, sql in CASES:
            segc_compile(project, text)
            hand_transpile(sql)

    results, totals = measure(project, args.rounds)
    total_a, total_b = totals["a"], totals["b"]
    if not args.quiet:
        print(f"{'#':>2}  {'expression':<52} {'segc us':>8} {'sqlglot us':>10} {'a/b':>5}")
        for i, ((text, _), (a, b)) in enumerate(zip(CASES, results), 1):
            short = text if len(text) <= 52 else text[:49] + "..."
            print(f"{i:>2}  {short:<52} {a * 1e6:8.0f} {b * 1e6:10.0f} {a / b:5.2f}")
    sum_a = sum(a for a, _ in results)
    sum_b = sum(b for _, b in results)
    ratios = [a / b for a, b in results]
    print(f"\nsqlglot {sqlglot.__version__}, python {sys.version.split()[0]}, "
          f"{len(CASES)} cases x {args.rounds} rounds (interleaved per case)")
    print(f"(a) segc compile_expression -> {DIALECT}:   {total_a * 1e3:7.2f} ms per round of all cases "
          f"(median), {total_a / len(CASES) * 1e6:.0f} us/case")
    print(f"(b) sqlglot.transpile duckdb -> {DIALECT}: {total_b * 1e3:7.2f} ms per round of all cases "
          f"(median), {total_b / len(CASES) * 1e6:.0f} us/case")
    print(f"ratio a/b: {total_a / total_b:.2f} (round totals, GC included)   "
          f"{sum_a / sum_b:.2f} (summed per-case medians)   "
          f"per-case median {statistics.median(ratios):.2f}, range {min(ratios):.2f}..{max(ratios):.2f}"
          "   (target <= 0.5)")
    print(f"CPU time of this process, round totals: a {totals['a_cpu'] * 1e3:.2f} ms, "
          f"b {totals['b_cpu'] * 1e3:.2f} ms, ratio a/b {totals['a_cpu'] / totals['b_cpu']:.2f}")

    if args.stages:
        stages = measure_stages(project, args.rounds)
        segc_stages = ("parse+check", "lower", "render")
        total = sum(stages[k] for k in segc_stages)
        print("\nstages (all cases, median of rounds; segc's % of its own total):")
        for k, v in stages.items():
            share = f"{v / total:5.1%}" if k in segc_stages else ""
            print(f"  {k:<36} {v * 1e3:7.2f} ms  {share:>5}   ({v / total_b:.2f} x the transpile round)")
        # what segc would cost if it produced the hand query's tree, with this pipeline
        # (Lark, sqlglot trees, sqlglot's generator): its parse+check, its lowering per
        # node times the hand trees' nodes, its render of the hand trees
        segc_nodes = sum(len(list(project.query(project.check_expression(t)[0]).walk())) for t, _ in CASES)
        hand_nodes = sum(len(list(sqlglot.parse_one(s, read="duckdb").walk())) for _, s in CASES)
        floor = stages["parse+check"] + stages["lower"] * hand_nodes / segc_nodes + stages["render of hand tree"]
        print(f"  sqlglot nodes: segc's trees {segc_nodes}, the hand queries' {hand_nodes} "
              f"({segc_nodes / hand_nodes:.1f}x)")
        print(f"  floor, segc producing the hand queries' trees (parse+check + lower x {hand_nodes}/{segc_nodes} "
              f"+ render of them): {floor * 1e3:.2f} ms, {floor / total_b:.2f} x the transpile round")
        # the libraries alone, with no checking, lowering or rewriting: what any pipeline that
        # parses with Lark and writes segc's SQL (or the hand query's) with sqlglot pays
        libs = stages["Lark's parse alone"] + stages["sqlglot's generation of segc's tree"]
        libs_hand = stages["Lark's parse alone"] + stages["transpile: generate"]
        print(f"  the libraries alone: Lark's parse + sqlglot's generation of segc's tree {libs / total_b:.2f} x "
              f"the transpile round; of the hand query's tree {libs_hand / total_b:.2f} (target for all of segc <= 0.5)")

    if args.profile:
        profile(project, args.profile)

    if args.cold_breakdown:
        cold_breakdown(args.cold_breakdown)

    if args.cold_runs:
        c_segc, c_sqlglot, c_python = cold_start(args.cold_runs)
        print(f"\ncold start, median of {args.cold_runs} fresh processes (interleaved):")
        print(f"  segc compile -e 'age > 30' -p examples/retail --dialect {DIALECT}: {c_segc * 1e3:6.0f} ms")
        print(f"  python -c 'import sqlglot':                                       {c_sqlglot * 1e3:6.0f} ms")
        print(f"  python -c 'pass' (interpreter alone):                             {c_python * 1e3:6.0f} ms")
        print(f"  ratio segc/import sqlglot: {c_segc / c_sqlglot:.2f}   "
              f"net of the interpreter: {(c_segc - c_python) / (c_sqlglot - c_python):.2f}   (target <= 1.6)")
        print(f"  load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
