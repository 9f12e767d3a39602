"""Cold start with the cache of parsed files (issue 16, session 5; benchmarks/README.md §1.5).

    python benchmarks/cold_start_cache.py [--runs 11]

Runs `segc compile -e 'age > 30' -p examples/retail --dialect postgres` (the installed
segc) in fresh processes, interleaved with `python -c "import sqlglot"`: with an empty
cache (each round a new XDG_CACHE_HOME: every file parsed and its entry written), then
with that cache filled (every file a hit), and with SEGC_NO_CACHE=1. Prints median wall
and CPU (user + system of the child, from wait4) and the CPU ratio to `import sqlglot`.
segc's modules are compiled to bytecode first, as installing the wheel does: under
PYTHONDONTWRITEBYTECODE a source tree's changed modules would be compiled on every run
(+20 ms, 1.51 -> 1.70, seen in session 6)."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPILE = ("import sys; sys.argv = ['segc', 'compile', '-e', 'age > 30', '-p', 'examples/retail', "
           "'--dialect', 'postgres']; from segc.cli.main import main; main()")


def run(code: str, env: dict) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, cwd=ROOT, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    assert status == 0
    return (time.perf_counter() - start) * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    import compileall

    for folder in ("compiler", "cli", "grammar"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    times: dict[str, list] = {"empty cache (miss)": [], "filled cache (hit)": [], "SEGC_NO_CACHE=1": [],
                              "import sqlglot": []}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "XDG_CACHE_HOME": tmp}
            env.pop("SEGC_NO_CACHE", None)
            times["empty cache (miss)"].append(run(COMPILE, env))
            times["filled cache (hit)"].append(run(COMPILE, env))
        times["SEGC_NO_CACHE=1"].append(run(COMPILE, {**os.environ, "SEGC_NO_CACHE": "1"}))
        times["import sqlglot"].append(run("import sqlglot", dict(os.environ)))
    base = statistics.median(c for _w, c in times["import sqlglot"])
    for name, runs in times.items():
        wall, cpu = statistics.median(w for w, _c in runs), statistics.median(c for _w, c in runs)
        print(f"{name:20s} wall {wall:6.0f} ms   cpu {cpu:6.0f} ms   cpu / import sqlglot {cpu / base:.2f}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
