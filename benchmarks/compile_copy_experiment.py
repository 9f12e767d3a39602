"""Experiment: how fast would segc compile if its sqlglot trees were not copied?

    python benchmarks/compile_copy_experiment.py [--rounds 15]

Not a benchmark of segc as it is: it monkeypatches sqlglot and segc *in this process
only* (no file is changed) to estimate what each suggested change is worth, and checks
that every case still gives byte-identical SQL. Steps, cumulative:

  1. render without copies: `tree.transform(..., copy=False)` and `tree.sql(..., copy=False)`
     (segc builds a fresh tree per call, so nothing else holds it);
  2. sqlglot builders called with copy=False (`select`, `from_`, `where`, `group_by`,
     `with_`, `exp.alias_`) and joins built as `exp.Join(...)` instead of
     `Select.join(join_type="LEFT")`, which parses "FROM _ LEFT JOIN _" with the SQL parser;
  3. `exp.DataType.build("DATE")` (a parse each call) memoised.

Each step is timed against `sqlglot.transpile` of the hand-written SQL in the same
process, interleaved, as process CPU time (stable on a busy machine); medians of rounds.
"""
from __future__ import annotations

import argparse
import functools
import gc
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sqlglot  # noqa: E402
from sqlglot import ErrorLevel, exp  # noqa: E402

import segc  # noqa: E402
import segc.project as project_module  # noqa: E402
import segc.backend.render as render_module  # noqa: E402
from compile_speed_cases import CASES  # noqa: E402

project = segc.load_project(HERE.parent / "examples" / "retail")


def run_all() -> list[str]:
    return [project.compile_expression(text, dialect="postgres", pretty=False) for text, _ in CASES]


def measure(label: str, rounds: int, reference: list[str]) -> None:
    assert run_all() == reference, f"{label}: the SQL changed"
    for _ in range(2):
        run_all()
    a, b = [], []
    clock = time.process_time
    for r in range(rounds):
        gc.collect()
        for which in ("ab" if r % 2 == 0 else "ba"):
            t0 = clock()
            if which == "a":
                run_all()
            else:
                for _, sql in CASES:
                    sqlglot.transpile(sql, read="duckdb", write="postgres")
            (a if which == "a" else b).append(clock() - t0)
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{label:<44} segc {ma * 1e3:6.1f} ms   transpile {mb * 1e3:6.1f} ms   ratio {ma / mb:.2f}")


def render_without_copies(tree, dialect, pretty=True):
    """segc.render.render with copy=False (the dialect check is skipped: known dialect)."""
    transform = render_module.TRANSFORMS.get(dialect)
    if transform is not None:
        everywhere = getattr(render_module, "_everywhere", lambda f: f)
        tree = tree.transform(everywhere(transform), copy=False)
    return tree.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE, copy=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    reference = run_all()
    measure("as is", args.rounds, reference)

    project_module.render = render_without_copies
    measure("1. + render without copies", args.rounds, reference)

    for name in ("select", "from_", "where", "group_by", "with_"):
        setattr(exp.Select, name, functools.partialmethod(getattr(exp.Select, name), copy=False))
    exp.alias_ = functools.partial(exp.alias_, copy=False)

    def join(self, expression, on=None, join_type=None, **_):
        self.append("joins", exp.Join(this=expression, on=on, side=join_type))
        return self

    exp.Select.join = join
    measure("2. + builders copy=False, direct exp.Join", args.rounds, reference)

    built: dict[str, exp.DataType] = {}
    original_build = exp.DataType.build.__func__

    def build(cls, dtype, *a, **k):
        if isinstance(dtype, str) and not a and not k:
            if dtype not in built:
                built[dtype] = original_build(cls, dtype)
            return built[dtype].copy()
        return original_build(cls, dtype, *a, **k)

    exp.DataType.build = classmethod(build)
    measure("3. + DataType.build memoised", args.rounds, reference)


if __name__ == "__main__":
    main()
