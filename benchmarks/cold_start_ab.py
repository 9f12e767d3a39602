"""Cold start of two segc source trees, interleaved in one process (issue 16, session 4).

    python benchmarks/cold_start_ab.py BEFORE_COMMIT [--runs 21]

Exports BEFORE_COMMIT and HEAD (compiler/, cli/, grammar/ as the package `segc`, which
PYTHONPATH puts ahead of the editable install) into a temporary folder, compiles their
bytecode, then runs `segc compile -e 'age > 30' -p examples/retail --dialect postgres`
from each tree and `python -c "import sqlglot"`, the order reversed every other round.
Prints median wall and CPU (user + system of the child, from wait4) and the ratios to
`import sqlglot`, with the load average."""
from __future__ import annotations

import argparse
import compileall
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPILE = ("import sys; sys.argv = ['segc', 'compile', '-e', 'age > 30', '-p', 'examples/retail', "
           "'--dialect', 'postgres']; from segc.cli.main import main; main()")


def export(commit: str, into: Path) -> Path:
    data = subprocess.run(["git", "archive", commit, "compiler", "cli", "grammar"], cwd=ROOT, check=True,
                          capture_output=True).stdout
    tarfile.open(fileobj=io.BytesIO(data)).extractall(into)
    (into / "compiler").rename(into / "segc")
    (into / "cli").rename(into / "segc" / "cli")
    (into / "grammar").rename(into / "segc" / "grammar")
    compileall.compile_dir(into, quiet=1)
    return into


def run(cmd: list[str], env: dict) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, cwd=ROOT, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    assert status == 0, cmd
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = {}
        for label, commit in (("before", args.before), ("after", "HEAD")):
            tree = export(commit, Path(tmp) / label)
            cases[label] = ([sys.executable, "-c", COMPILE], {**os.environ, "PYTHONPATH": str(tree)})
        cases["import sqlglot"] = ([sys.executable, "-c", "import sqlglot"], dict(os.environ))
        for cmd, env in cases.values():
            run(cmd, env)  # warm-up
        times = {k: ([], []) for k in cases}
        for i in range(args.runs):
            for k in (list(cases) if i % 2 == 0 else list(cases)[::-1]):
                wall, cpu = run(*cases[k])
                times[k][0].append(wall)
                times[k][1].append(cpu)
    med = {k: (statistics.median(w) * 1000, statistics.median(c) * 1000) for k, (w, c) in times.items()}
    for k, (wall, cpu) in med.items():
        print(f"{k:15s} wall {wall:6.0f} ms   cpu {cpu:6.0f} ms")
    base_wall, base_cpu = med["import sqlglot"]
    for k in ("before", "after"):
        print(f"{k}: ratio to import sqlglot: wall {med[k][0] / base_wall:.2f}, cpu {med[k][1] / base_cpu:.2f}")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
