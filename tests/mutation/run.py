"""Mutation check: does the executed test suite notice plausible lowering bugs?

    python tests/mutation/run.py                 # every mutant
    python tests/mutation/run.py --only ranking_strict --examples 300

Each mutant is a small text patch of compiler/lower.py (a NULL guard dropped under `not`,
a window bound made strict, NULLIF forgotten, ...). For each one, the repository is copied
to a temporary folder, the patch is applied there (the working tree is never touched), the
copy is made importable as `segc` (the installed wheel's layout: segc/, segc/cli/,
segc/grammar/ on PYTHONPATH, ahead of the editable install), and the relevant tests run
there: conformance, execution, time boundaries, regressions and differential (`pytest -x`:
the first failure kills).
A mutant that every test lets through SURVIVES. The unpatched copy runs first: it must
pass, or no verdict means anything.

Not collected by pytest (no `test_` prefix, no tests in it). Exit status 0 when every
mutant is killed, 1 otherwise.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the executed tests that pin down meaning: conformance cases, the example's segments, the
# time boundaries and the differential regressions worked out by hand, then the fuzzer
TESTS = ["tests/test_conformance.py", "tests/test_execution.py", "tests/test_time_boundaries.py",
         "tests/test_regressions.py", "tests/test_holdout.py", "tests/test_score.py",
         "tests/test_differential.py", "tests/test_segmentations.py", "tests/test_event_lowering.py"]

# name -> (what it breaks, [(old text, new text), ...] in compiler/lower.py, or (file, old, new))
MUTANTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "no_guard_under_not": (
        "a NULL guard dropped under `not` (NOT of NULL stays NULL: the complement loses missing values)",
        [("        if positive:\n            return core\n        return and_(",
          "        return core\n        return and_(")]),
    "window_lower_bound_strict": (
        "`>=` -> `>` on a window's lower bound (`as_of - w <= time`)",
        [("conds.append(exp.GTE(this=col(src.time), expression=self.value(a.window.lo)))",
          "conds.append(exp.GT(this=col(src.time), expression=self.value(a.window.lo)))")]),
    "no_nullif": (
        "division without NULLIF (DuckDB: x / 0 = inf instead of missing)",
        [("safe_right = right if _nonzero_const(v.right) else exp.Nullif(this=right, expression=exp.Literal.number(0))",
          "safe_right = right")]),
    "as_of_inclusive": (
        "off by one on the as-of bound: `time < as_of` -> `time <= as_of`",
        [("point_in_time = exp.LT(this=col(src.time), expression=self._as_of_bound())",
          "point_in_time = exp.LTE(this=col(src.time), expression=self._as_of_bound())")]),
    "not_without_parentheses": (
        "wrong `not` scope: NOT applied without parentheses (NOT a AND b)",
        [("    return exp.Not(this=paren(e))", "    return exp.Not(this=e)")]),
    "unquoted_identifiers": (
        "identifiers not quoted (reserved words, spaces, case)",
        [("return exp.to_identifier(name, quoted=True)", "return exp.to_identifier(name, quoted=False)")]),
    "ranking_strict": (
        "`top`'s cut with `<` for `<=` (values >= v) * denominator < numerator * total",
        [("test, pick = exp.LTE(this=times(b, ge), expression=times(a, total)), exp.Min",
          "test, pick = exp.LT(this=times(b, ge), expression=times(a, total)), exp.Min")]),
    "quantile_floor": (
        "quantile_score rounds down instead of up (a score s from n * le >= (s - 1) * total)",
        [("test, pick = exp.GT(this=times(a, le), expression=times(b - 1, total)), exp.Min",
          "test, pick = exp.GTE(this=times(a, le), expression=times(b - 1, total)), exp.Min")]),
    "sum_of_nothing_missing": (
        "sum of no events is missing instead of 0 (no COALESCE for sum)",
        [('if agg.func in ("count", "count_distinct", "sum"):', 'if agg.func in ("count", "count_distinct"):')]),
    "window_upper_bound_ignored": (
        "a window's upper bound is dropped (`during last month` keeps this month's events)",
        [("if a.window.hi is not None and not isinstance(a.window.hi, ir.AsOf):",
          "if False and a.window.hi is not None:")]),
    "days_since_reversed": (
        "days_since counts backwards (as_of - d swapped)",
        [('return exp.DateDiff(this=asof, expression=exp.Cast(this=args[0], to=datatype("DATE")),',
          'return exp.DateDiff(expression=asof, this=exp.Cast(this=args[0], to=datatype("DATE")),')]),
    "week_starts_sunday": (
        "`this week` starts on Sunday instead of Monday (pinned as-of)",
        [("return base - dt.timedelta(days=base.weekday())",
          "return base - dt.timedelta(days=base.isoweekday() % 7)")]),
    # the bugs the differential tests found, put back
    "date_vs_timestamp_text": (
        "a date expression compared with a timestamp as it is (SQLite: '2024-03-01' < '2024-03-01 00:00:00')",
        [("        folded = v.value if isinstance(v, ir.Const) else self._fold_date(v)",
          "        folded = v.value if isinstance(v, ir.Const) else None"),
         ('        return exp.Cast(this=lowered, to=datatype("TIMESTAMP"))', "        return lowered")]),
    "mixed_temporal_functions_text": (
        "least/greatest/coalesce of a date and a timestamp left as they are (SQLite compares texts)",
        [("        if v.type == \"timestamp\" and name in (\"coalesce\", \"least\", \"greatest\"):",
          "        if False:")]),
    "sqlite_round_negative_digits": (
        "render.py: SQLite's ROUND with negative digits passed through (it rounds to 0 digits)",
        [("compiler/render.py", "        if isinstance(digits, int) and digits < 0:", "        if False:")]),
    # ranks as cuts, split/pre-filtered event groups, holdout, scores
    "ranked_over_everyone": (
        "cuts found over every entity, not only the population (segc_values_N lost the population)",
        [("table(FEATURES), and_([pop, *self.guards(by)]))", "table(FEATURES), and_(self.guards(by)))")]),
    "top_ge_without_ties": (
        "`top`'s count of values >= v leaves out v's own count (ties)",
        [("ge = exp.Add(this=exp.Sub(this=total.copy(), expression=le.copy()), expression=n.copy())",
          "ge = exp.Sub(this=total.copy(), expression=le.copy())")]),
    "no_cut_under_not": (
        "`top` without its cut's NOT NULL test: `not top 5%` of 10 customers selects no one",
        [("return and_(self.guards(p.by) + [_is_not_null(cut.copy()), core])",
          "return and_(self.guards(p.by) + [core])")]),
    "score_range_upper_bound": (
        "`quantile_score(f, n) <= s` as a range of values: its upper cut taken at s, not s + 1",
        [("parts.append(self._score_test(q, hi + 1, exp.LT))", "parts.append(self._score_test(q, hi, exp.LT))")]),
    "timestamp_shift_as_date": (
        "a timestamp shifted as a date (SQLite DATE(ts, '+3 days'): the time of day is lost)",
        [('shift = exp.TimestampAdd if v.type == "timestamp" else exp.DateAdd', "shift = exp.DateAdd")]),
    "shared_filter_dropped": (
        "conditions shared by a GROUP BY's aggregates removed from the CASEs but not put in WHERE",
        [("        where = list(shared)\n", "        where = []\n")]),
    "earliest_bound_latest": (
        "the events of a GROUP BY filtered at the latest window start instead of the earliest",
        [("expression=literal(min(lows), \"date\")", "expression=literal(max(lows), \"date\")")]),
    "holdout_no_separator": (
        "holdout.py: the key hashed without the `:` after the seed (other engines' groups differ)",
        [("compiler/holdout.py", "exp.Literal.string(seed + \":\")", "exp.Literal.string(seed)")]),
    "score_term_sign": (
        "a score's negative terms added instead of subtracted",
        [("                z = exp.Sub(this=z, expression=paren(term.this)) if isinstance(a, ir.Neg) else \\",
          "                z = exp.Add(this=z, expression=paren(term.this)) if isinstance(a, ir.Neg) else \\")]),
    "floor_not_integer": (
        "floor/ceil not cast to an integer (PostgreSQL: double precision % bigint does not exist)",
        [('            return exp.Cast(this=simple[name](this=args[0]), to=datatype("BIGINT"))',
          "            return simple[name](this=args[0])")]),
}


def stage(copy: Path) -> Path:
    """The copy as the installed package lays it out: segc/, segc/cli/, segc/grammar/."""
    site = copy / ".mutation_site"
    pkg = site / "segc"
    shutil.copytree(copy / "compiler", pkg)
    shutil.copytree(copy / "cli", pkg / "cli")
    shutil.copytree(copy / "grammar", pkg / "grammar")
    return site


def make_copy(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", ".hypothesis", "*.pyc", ".venv",
                                    "venv", "build", "dist", "*.egg-info", "node_modules")
    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)
    return dest


def run_suite(copy: Path, examples: int, timeout: int) -> tuple[bool, str, float]:
    site = stage(copy)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env.update(PYTHONPATH=str(site), SEGC_FUZZ_EXAMPLES=str(examples), SEGC_FUZZ_NO_SHRINK="1",
               PYTHONDONTWRITEBYTECODE="1")
    # the copy must be what gets imported, not the editable install of the working tree
    probe = subprocess.run([sys.executable, "-c", "import segc, segc.cli.main, segc.lower; print(segc.lower.__file__)"],
                           cwd=copy, env=env, capture_output=True, text=True)
    if probe.returncode != 0 or not probe.stdout.strip().startswith(str(site)):
        raise RuntimeError(f"the copy is not what `import segc` finds: {probe.stdout}{probe.stderr}")
    start = time.perf_counter()
    try:
        result = subprocess.run([sys.executable, "-m", "pytest", *TESTS, "-x", "-q", "-p", "no:cacheprovider",
                                 "--no-header", "-rf"], cwd=copy, env=env, capture_output=True, text=True,
                                timeout=timeout)
    except subprocess.TimeoutExpired:
        return False, "timeout", time.perf_counter() - start
    elapsed = time.perf_counter() - start
    failed = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    return result.returncode == 0, (failed[0] if failed else result.stdout.strip().splitlines()[-1:] and
                                    result.stdout.strip().splitlines()[-1]), elapsed


def apply(copy: Path, patches: list[tuple]) -> None:
    """Patches are (old, new) in compiler/lower.py, or (path, old, new)."""
    for patch in patches:
        path, old, new = patch if len(patch) == 3 else ("compiler/lower.py", *patch)
        target = copy / path
        text = target.read_text(encoding="utf-8")
        if text.count(old) != 1:
            raise LookupError(f"the patch does not apply to {path} (found {text.count(old)} times): {old[:70]!r}")
        target.write_text(text.replace(old, new), encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="run only these mutants")
    parser.add_argument("--examples", type=int, default=2000,
                        help="SEGC_FUZZ_EXAMPLES for the differential tests in each run (default 2000, "
                             "as in the default test run)")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per run")
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)
    names = args.only or list(MUTANTS)
    unknown = [n for n in names if n not in MUTANTS]
    if unknown:
        parser.error(f"unknown mutants {unknown}; known: {', '.join(MUTANTS)}")

    with tempfile.TemporaryDirectory(prefix="segc-mutation-") as tmp:
        if not args.skip_baseline:
            copy = make_copy(Path(tmp) / "baseline")
            ok, detail, elapsed = run_suite(copy, args.examples, args.timeout)
            print(f"baseline (no mutation): {'passes' if ok else 'FAILS'} in {elapsed:.0f}s {'' if ok else detail}",
                  flush=True)
            if not ok:
                print("the unmutated suite must pass before mutants mean anything")
                return 2
        killed, survived, broken = [], [], []
        for name in names:
            what, patches = MUTANTS[name]
            copy = make_copy(Path(tmp) / name)
            try:
                apply(copy, patches)
            except LookupError as e:
                broken.append(name)
                print(f"{name:28} NOT APPLIED  {e}", flush=True)
                continue
            ok, detail, elapsed = run_suite(copy, args.examples, args.timeout)
            (survived if ok else killed).append(name)
            print(f"{name:28} {'SURVIVED' if ok else 'killed  '} {elapsed:5.0f}s  {what}"
                  + ("" if ok else f"\n{'':28} by {detail}"), flush=True)
            shutil.rmtree(copy, ignore_errors=True)
        tried = len(killed) + len(survived)
        print(f"\nkill rate: {len(killed)}/{tried}" + (f" ({100 * len(killed) / tried:.0f}%)" if tried else "")
              + (f"; survived: {', '.join(survived)}" if survived else "")
              + (f"; not applicable: {', '.join(broken)}" if broken else ""))
        return 0 if not survived and not broken else 1


if __name__ == "__main__":
    sys.exit(main())
