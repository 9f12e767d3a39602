"""Big expressions: does each stage grow linearly with the size of one expression?

    python benchmarks/big_expression.py [--terms 15000] [--engine]

Two shapes over the retail example: `age = 0 or age = 1 or ...` (one `or` of equalities)
and a mixed `or` of `(age > i and country = "FR" or signup_date within last k days)`.
For n and 2n terms it times (process CPU) parse, check, lower and render, and with
`--engine` the count on DuckDB, and prints the ratio time(2n) / time(n) per stage: about
2 is linear, about 4 quadratic. Only the ratios mean something (machines differ); run it
alone, as the CLI runs (its garbage-collector threshold, segc.cli.main.GC_THRESHOLD).
"""
from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

import segc
from segc.backend.render import render
from segc.cli.main import GC_THRESHOLD
from segc.front.parser import parse_expression
from segc.front.source import Source

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "retail"
SHAPES = {
    "or of equalities": lambda n: " or ".join(f"age = {i}" for i in range(n)),
    "mixed or": lambda n: " or ".join(f'(age > {i} and country = "FR" or signup_date within last {i % 300 + 1} days)'
                                      for i in range(n)),
}


def stages(project, text: str, engine: bool) -> dict[str, float]:
    out = {}
    t = time.process_time()
    expr = parse_expression(Source("x", text))
    out["parse"], t = time.process_time() - t, time.process_time()
    pred, _used = project._checker.check_expression(expr)  # noqa: SLF001 (a benchmark of the stage)
    out["check"], t = time.process_time() - t, time.process_time()
    query = project.query(pred, "count")
    out["lower"], t = time.process_time() - t, time.process_time()
    render(query, "duckdb", pretty=False, copy=True)
    out["render"], t = time.process_time() - t, time.process_time()
    if engine:
        project.run(query)
        out["duckdb"] = time.process_time() - t
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--terms", type=int, default=15000)
    ap.add_argument("--engine", action="store_true", help="also count on DuckDB")
    args = ap.parse_args()
    gc.set_threshold(*GC_THRESHOLD)
    project = segc.load_project(EXAMPLE)
    for name, shape in SHAPES.items():
        small = stages(project, shape(args.terms), args.engine)
        large = stages(project, shape(2 * args.terms), args.engine)
        cells = ", ".join(f"{k} {small[k]:.2f}s -> {large[k]:.2f}s (x{large[k] / max(small[k], 1e-9):.1f})"
                          for k in small)
        print(f"{name}, {args.terms} -> {2 * args.terms} terms: {cells}", flush=True)


if __name__ == "__main__":
    main()
