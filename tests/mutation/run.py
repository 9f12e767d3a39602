"""Mutation check: does the executed test suite notice plausible lowering bugs?

    python tests/mutation/run.py                 # every mutant
    python tests/mutation/run.py --only ranking_strict --examples 300
    python tests/mutation/run.py --list          # where each mutant applies; no test runs

A mutant is a small change to the compiler (a NULL guard dropped under `not`, a window bound
made strict, NULLIF forgotten, ...), given as (old code, new code) pairs. Each side is a whole
Python expression or a run of whole statements, and it is matched by structure, not by text:
every .py file under compiler/ and cli/ (subfolders included) is parsed, and the old code
matches an expression node, or a run of consecutive statements of one body, whose AST
(`ast.dump` without positions) equals the old code's. Where the code lives, its line breaks,
spacing and comments do not matter, so moving or reformatting it leaves the mutants working.
The old code must match exactly once in the whole package, or the mutant is NOT APPLIED (the
message says how many matches and where). The matched source span is then replaced by the new
code (an expression in parentheses, statements re-indented to the match's indentation), and
the mutated file must still parse.

For each mutant, the repository is copied to a temporary folder, the mutation is applied there
(the working tree is never touched), the copy is made importable as `segc` (the installed
wheel's layout: segc/, segc/cli/, segc/grammar/ on PYTHONPATH, ahead of the editable install),
and the relevant tests run there: conformance, execution, time boundaries, regressions and
differential (`pytest -x`: the first failure kills).
A mutant that every test lets through SURVIVES. The unpatched copy runs first: it must
pass, or no verdict means anything.

Not collected by pytest (no `test_` prefix, no tests in it; tests/test_mutation_harness.py
checks that every mutant applies). Exit status 0 when every mutant is killed (with --list:
when every mutant applies), 1 otherwise.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the folders that become the `segc` package: a mutant may apply anywhere in them
PACKAGE_DIRS = ("compiler", "cli")
# never mutated: the loader of the tests' own fixture tables (a mutant there breaks the
# tests' set-up, not the compiler, and would count as killed for the wrong reason)
NOT_MUTATED = ("compiler/run/memory.py",)
# the executed tests that pin down meaning: conformance cases, the example's segments, the
# time boundaries and the differential regressions worked out by hand, then the fuzzer
TESTS = ["tests/test_conformance.py", "tests/test_execution.py", "tests/test_time_boundaries.py",
         "tests/test_regressions.py", "tests/test_holdout.py", "tests/test_score.py",
         "tests/test_differential.py", "tests/test_segmentations.py", "tests/test_event_lowering.py",
         "tests/test_differential_sequences.py", "tests/test_differential_picks.py", "tests/test_picks.py",
         "tests/test_differential_picks_grouped.py", "tests/test_sequence_lists.py",
         "tests/test_conformance_strings_ranks.py", "tests/test_differential_strings_ranks.py"]

# name -> (what it breaks, [(old code, new code), ...]); each code a whole expression or
# whole statements, found by structure anywhere under compiler/ and cli/
MUTANTS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "no_guard_under_not": (
        "a NULL guard dropped under `not` (NOT of NULL stays NULL: the complement loses missing values)",
        [("if positive:\n    return core", "return core")]),
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
        [("return exp.Not(this=paren(e))", "return exp.Not(this=e)")]),
    "unquoted_identifiers": (
        "identifiers not quoted (reserved words, spaces, case)",
        [("return exp.Identifier(this=name, quoted=True)", "return exp.Identifier(this=name, quoted=False)")]),
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
        [('agg.func in ("count", "count_distinct", "sum")', 'agg.func in ("count", "count_distinct")')]),
    "window_upper_bound_ignored": (
        "a window's upper bound is dropped (`during last month` keeps this month's events)",
        [("a.window.hi is not None and not isinstance(a.window.hi, ir.AsOf)",
          "False and a.window.hi is not None")]),
    "days_since_reversed": (
        "days_since counts backwards (as_of - d swapped)",
        [('return exp.DateDiff(this=asof, expression=exp.Cast(this=args[0], to=datatype("DATE")), unit=exp.var("DAY"))',
          'return exp.DateDiff(expression=asof, this=exp.Cast(this=args[0], to=datatype("DATE")), unit=exp.var("DAY"))')]),
    "week_starts_sunday": (
        "`this week` starts on Sunday instead of Monday (pinned as-of)",
        [("return base - dt.timedelta(days=base.weekday())",
          "return base - dt.timedelta(days=base.isoweekday() % 7)")]),
    # the bugs the differential tests found, put back
    "date_vs_timestamp_text": (
        "a date expression compared with a timestamp as it is (SQLite: '2024-03-01' < '2024-03-01 00:00:00')",
        [("folded = v.value if isinstance(v, ir.Const) else self._fold_date(v)",
          "folded = v.value if isinstance(v, ir.Const) else None"),
         ('return exp.Cast(this=lowered, to=datatype("TIMESTAMP"))', "return lowered")]),
    "mixed_temporal_functions_text": (
        "least/greatest/coalesce of a date and a timestamp left as they are (SQLite compares texts)",
        [('v.type == "timestamp" and name in ("coalesce", "least", "greatest")', "False")]),
    "sqlite_round_negative_digits": (
        "SQLite's ROUND with negative digits passed through as it is (it rounds to 0 digits)",
        [("isinstance(digits, int) and digits < 0", "False")]),
    # ranks as cuts, split/pre-filtered event groups, holdout, scores
    "ranked_over_everyone": (
        "cuts found over every entity, not only the population (segc_values_N lost the population)",
        [("and_([pop, *self.guards(by)])", "and_(self.guards(by))")]),
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
        [("where = list(shared)", "where = []")]),
    "earliest_bound_latest": (
        "the events of a GROUP BY filtered at the latest window start instead of the earliest",
        [('literal(min(lows), "date")', 'literal(max(lows), "date")')]),
    "holdout_no_separator": (
        "the holdout's key hashed without the `:` after the seed (other engines' groups differ)",
        [('exp.Literal.string(seed + ":")', "exp.Literal.string(seed)")]),
    "score_term_sign": (
        "a score's negative terms added instead of subtracted",
        [("exp.Sub(this=z, expression=paren(term.this))", "exp.Add(this=z, expression=paren(term.this))")]),
    # absolute ranks and regexes (DESIGN §8.1)
    "rank_missing_qualifies": (
        "a missing value qualifies for a rank (`top 3 by f` takes the customers without f)",
        [("return and_(self.guards(p.by) + [_is_not_null(cut.copy()), core])",
          "return exp.Or(this=not_(and_(self.guards(p.by))), expression=and_([_is_not_null(cut.copy()), core]))")]),
    "top_n_ties_excluded": (
        "`top N`'s count of better values includes the ties (values >= v, not > v): ties left out",
        [("better = exp.Sub(this=total.copy(), expression=le.copy())",
          "better = exp.Add(this=exp.Sub(this=total.copy(), expression=le.copy()), expression=n.copy())")]),
    "regex_dot_matches_newline": (
        "`.` left as it is in the regex (PostgreSQL's `.` matches a newline)",
        [('out.append("[^" + NEWLINE + "]")', 'out.append(".")')]),
    "floor_not_integer": (
        "floor/ceil not cast to an integer (PostgreSQL: double precision % bigint does not exist)",
        [('return exp.Cast(this=simple[name](this=args[0]), to=datatype("BIGINT"))',
          "return simple[name](this=args[0])")]),
    "pick_ties_largest_first": (
        "a pick's tie order reversed: among events at one instant, the largest value first (DESIGN §8.1: smallest)",
        [("position.append(_asc(value.copy()))", "position.append(_desc(value.copy()))"),
         ("alias(exp.Min(this=value), column)", "alias(exp.Max(this=value), column)")]),  # the grouped form
    "pick_last_not_reversed": (
        "`last` ordered like `first` (the earliest event kept)",
        [("(_desc if last else _asc)(c.copy())", "_asc(c.copy())"),
         ('ir.Agg("max" if a.func == "last" else "min", a.source, time, a.where, a.window, time.type)',
          'ir.Agg("min", a.source, time, a.where, a.window, time.type)')]),  # the grouped form
    "pick_compared_tie_ignored": (
        "a first / last compared with a constant ignores a smaller value at the same instant "
        "(`last(c) = v` also when v only ties with a smaller value: DESIGN §8.1 keeps the smallest)",
        [('(("=",), ("<",))', '(("=",), ())')]),
    "pick_mode_largest": (
        "mode's tie of frequencies to the largest value",
        [("[exp.Ordered(this=col(COUNT), desc=True), _asc(col(VALUE))]",
          "[exp.Ordered(this=col(COUNT), desc=True), _desc(col(VALUE))]")]),
    "seq_bound_strict": (
        "a sequence's far bound made strict: `t_y <= t_x + D` -> `<` (a Y event exactly D later is lost)",
        [("exp.LTE(this=ty.copy(), expression=hi)", "exp.LT(this=ty.copy(), expression=hi)")]),
    "seq_follows_itself": (
        "an event following itself (same source: the X event not taken back out of its own Y events)",
        [('hits = exp.Sub(this=hits, expression=col("segc_self"))', "hits = hits"),
         ("own = exp.Sub(this=near.copy(), expression=exp.Literal.number(1))", "own = near.copy()")]),
    "seq_sorted_next_only": (
        "DuckDB's sorted-list form of a sequence of an event with its own kind looks at the next "
        "element only (an equal time before it, which follows too, is lost)",
        [("neighbours = (-1, 1)", "neighbours = (1,)")]),
    "seq_y_after_as_of": (
        "Y events not clipped at the as-of (an order at or after the as-of follows a cart)",
        [("y_conds = [exp.LT(this=col(ys.time), expression=as_of.copy())]", "y_conds = []")]),
}


@dataclass(frozen=True)
class Site:
    """Where an old code matched: a file (relative to the root) and the span's character offsets."""
    path: str
    line: int
    start: int
    end: int
    expression: bool  # else a run of statements
    indent: str  # what comes before the span on its first line, as blanks

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class Package:
    """The package's files, parsed once: the places an old code can match are its expressions
    (by node type) and its statement bodies."""

    def __init__(self, sources: dict[str, str]):
        self.sources = sources
        self.lines = {path: text.split("\n") for path, text in sources.items()}
        self.expressions: dict[type, list[tuple[str, ast.expr]]] = defaultdict(list)
        self.bodies: list[tuple[str, list[ast.stmt]]] = []
        self._dumps: dict[ast.AST, str] = {}
        for path, text in sources.items():
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.expr):
                    self.expressions[type(node)].append((path, node))
                self.bodies += [(path, body) for _field, body in ast.iter_fields(node)
                                if isinstance(body, list) and body and isinstance(body[0], ast.stmt)]

    @classmethod
    def read(cls, root: Path) -> Package:
        """Every .py file under the package folders, by its path relative to root."""
        files = [path for folder in PACKAGE_DIRS for path in sorted((root / folder).rglob("*.py"))]
        return cls({path.relative_to(root).as_posix(): path.read_text(encoding="utf-8") for path in files
                    if path.relative_to(root).as_posix() not in NOT_MUTATED})

    def find(self, old: str) -> list[Site]:
        """Every place where the old code's structure occurs."""
        expression, wanted = parse_code(old)
        dumps = [ast.dump(w, include_attributes=False) for w in wanted]
        size = len(wanted)
        if expression:
            runs = [(path, [node]) for path, node in self.expressions[type(wanted[0])]]
        else:
            runs = [(path, body[i:i + size]) for path, body in self.bodies
                    for i in range(len(body) - size + 1) if type(body[i]) is type(wanted[0])]
        return [self._site(path, nodes, expression) for path, nodes in runs if list(map(self._dump, nodes)) == dumps]

    def locate(self, old: str) -> Site:
        """The one place the old code occurs; LookupError when it is none or several."""
        sites = self.find(old)
        if len(sites) != 1:
            where = f": {', '.join(map(str, sites))}" if sites else ""
            first = textwrap.dedent(old).strip().splitlines()[0]
            raise LookupError(f"{first[:70]!r} matches {len(sites)} places in {'/, '.join(PACKAGE_DIRS)}/ "
                              f"(needs exactly 1){where}")
        return sites[0]

    def _dump(self, node: ast.AST) -> str:
        # memoised: the snippets of one node type all compare against the same nodes
        if node not in self._dumps:
            self._dumps[node] = ast.dump(node, include_attributes=False)
        return self._dumps[node]

    def _site(self, path: str, nodes: list[ast.AST], expression: bool) -> Site:
        first, last, lines = nodes[0], nodes[-1], self.lines[path]
        prefix = lines[first.lineno - 1].encode()[:first.col_offset].decode()
        # code before the match on its line (`if x: y`) becomes spaces: new statements on a
        # second line there fail to parse, rather than land outside the block
        return Site(path, first.lineno, _offset(lines, first.lineno, first.col_offset),
                    _offset(lines, last.end_lineno, last.end_col_offset), expression, re.sub(r"\S", " ", prefix))


def parse_code(code: str) -> tuple[bool, list[ast.AST]]:
    """(is an expression, its nodes): an expression if it parses as one, else its statements."""
    code = textwrap.dedent(code).strip()
    try:
        return True, [ast.parse(code, mode="eval").body]
    except SyntaxError:
        return False, ast.parse(code).body


def _offset(lines: list[str], line: int, col: int) -> int:
    """A character offset in the text from the AST's line (1-based) and column (UTF-8 bytes)."""
    return sum(len(text) + 1 for text in lines[:line - 1]) + len(lines[line - 1].encode()[:col].decode())


def replacement(new: str, site: Site) -> str:
    code = textwrap.dedent(new).strip()
    if site.expression:  # parenthesised: it binds as the old one did, whatever operator surrounds it
        return f"({code})"
    return code.replace("\n", "\n" + site.indent)


def mutate(package: Package, patches: list[tuple[str, str]]) -> dict[str, str]:
    """The files the patches change, path -> mutated text; LookupError when one does not apply
    or leaves a file that does not parse."""
    edits = [(package.locate(old), new) for old, new in patches]  # all found before any is applied
    mutated = {}
    # from the end of each file back: an edit leaves the offsets of the ones before it valid
    for site, new in sorted(edits, key=lambda e: (e[0].path, e[0].start), reverse=True):
        text = mutated.get(site.path, package.sources[site.path])
        mutated[site.path] = text[:site.start] + replacement(new, site) + text[site.end:]
    for path, text in mutated.items():
        try:
            ast.parse(text)
        except SyntaxError as e:
            raise LookupError(f"the mutated {path} does not parse: {e}") from None
    return mutated


def apply(copy: Path, patches: list[tuple[str, str]]) -> None:
    for path, text in mutate(Package.read(copy), patches).items():
        (copy / path).write_text(text, encoding="utf-8")


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
    # the copy must be what gets imported, not the editable install of the working tree; only
    # the package and its CLI are named, so the probe survives modules moving inside it
    probe = subprocess.run([sys.executable, "-c", "import segc, segc.cli.main; print(segc.__file__)"],
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


def list_mutants(names: list[str]) -> int:
    """Where each mutant applies in the working tree, without running anything."""
    package = Package.read(ROOT)
    broken = 0
    for name in names:
        what, patches = MUTANTS[name]
        try:
            where = ", ".join(str(package.locate(old)) for old, _new in patches)
        except LookupError as e:
            broken += 1
            print(f"{name:30} NOT APPLIED  {e}")
            continue
        print(f"{name:30} {where:26} {what}")
    return 1 if broken else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="print where each mutant applies; run no tests")
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
    if args.list:
        return list_mutants(names)

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
