"""A project: segc.yml and segments/*.seg, and the compile API over it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path

from segc.front import ast

from segc import ir
from segc.check.checker import Checker
from segc.check.definitions import Checked
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.backend.lower import KEY, Lowerer, alias, col, flag, ident, or_
from segc.front.parser import parse_expression, parse_module
from segc.backend.render import render
from segc.schema.segc_yml import coerce_param, load_schema
from segc.front.source import Source, Span

FORMS = ("select", "count", "label")
MISSING_WARNING = 0.20  # warn when a feature a segment uses is missing this often


@dataclass(frozen=True)
class SegmentCount:
    name: str
    count: int
    share: float  # of the population
    min_size: int | None = None

    @property
    def too_small(self) -> bool:
        return self.min_size is not None and self.count < self.min_size


@dataclass(frozen=True)
class CountResult:
    as_of: str  # the pinned date, or "today" when rolling
    population: int
    segments: list[SegmentCount]
    missing: dict[str, float] = field(default_factory=dict)  # features missing for > 20%

    @property
    def empty_branches(self) -> list[str]:
        """Segmentation branches (`name.branch`) that no one is in: a useless tier."""
        return [s.name for s in self.segments if "." in s.name and s.count == 0]

    def to_dict(self) -> dict:
        return {"as_of": self.as_of, "population": self.population,
                "segments": [{"name": s.name, "count": s.count, "share": s.share} for s in self.segments]}


def find_root(start: Path) -> Path | None:
    """The nearest folder upward holding segc.yml (as git finds .git)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / "segc.yml").is_file():
            return folder
    return None


def _read(path: Path, display: str) -> Source:
    try:
        return Source(display, path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SegcError(Diagnostic("E007", "file not found", file=display)) from None
    except UnicodeDecodeError:
        raise SegcError(_not_utf8(path, display)) from None
    except OSError as e:
        raise SegcError(Diagnostic("E007", f"cannot read: {e.strerror}", file=display)) from None


def _not_utf8(path: Path, display: str) -> Diagnostic:
    """E007 pointing at the first byte that is not UTF-8 (read_text's offset is relative
    to a buffered chunk, so decode the whole file again to find it)."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        bad = len(raw)
    except UnicodeDecodeError as e:
        bad = e.start

    def text(data: bytes) -> str:  # as read_text would: universal newlines
        return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")

    at = len(text(raw[:bad]))
    return Diagnostic("E007", f"not UTF-8 text (byte {bad})", Span(Source(display, text(raw)), at, at + 1),
                      hints=("save the file as UTF-8",))


def load_project(path: str | Path = ".", params: dict[str, str] | None = None,
                 as_of: str | dt.date | None = None, segments: bool = True) -> Project:
    """Load and check a project; raises SegcError carrying every diagnostic. With
    `segments=False`, only segc.yml (what fitting a score needs: see Project)."""
    path = Path(path)
    if path.is_file() and path.suffix == ".seg":
        root = find_root(path.parent)
    elif path.is_dir() or not path.exists():
        root = path if (path / "segc.yml").is_file() else (find_root(path) if path.exists() else None)
    else:
        root = find_root(path.parent)
    if root is None:
        raise SegcError(Diagnostic("E008", f"no segc.yml found in `{path}` or any folder above it",
                                   file=str(path), hints=("a project is a folder holding segc.yml (see examples/retail): "
                                                          "point at one with --project DIR",)))
    return Project(root, params=params, as_of=as_of, segments=segments)


class Project:
    def __init__(self, root: Path, params: dict[str, str] | None = None, as_of=None, segments: bool = True):
        self.root = Path(root)
        diags: list[Diagnostic] = []
        self.modules: list[ast.Module] = []
        for file in sorted((self.root / "segments").glob("**/*.seg")) if segments else ():
            try:
                self.modules.append(parse_module(_read(file, self._display(file))))
            except SegcError as e:
                diags.extend(e.diagnostics)
                if getattr(e, "module", None) is not None:  # what parsed is still checked
                    self.modules.append(e.module)
        try:
            self.schema, problems = load_schema(_read(self.root / "segc.yml", self._display(self.root / "segc.yml")))
        except SegcError as e:  # without a schema nothing can be checked, but syntax errors still show
            raise SegcError(e.diagnostics + diags) from None
        diags = problems + diags
        self.params = self._params(params or {})
        self.as_of = self._as_of(as_of)
        # kept: ad-hoc expressions reuse its resolved definitions and parsed `where:`s
        # fitted scores (models/<name>.yml); without segments the project is loaded to fit
        # a score, and neither needs nor reads them (a damaged one is repaired by refitting)
        models = {}
        if self.schema.scores and segments:
            from segc.schema.score_model import load_models

            models, problems = load_models(self.root, self.schema, self._display)
            diags.extend(problems)
        self._checker = Checker(self.schema, self.modules, self.params, models=models)
        self._checker.fitting = not segments
        try:
            self.checked: Checked = self._checker.check()
        except SegcError as e:
            diags.extend(e.diagnostics)
        self.kpis = {}  # segc.yml `kpis:`, for `segc report`; checked with everything else
        if self.schema.kpis and segments:  # a KPI may name segments: not loaded to fit a score
            from segc.check.kpis import check_kpis

            try:
                self.kpis = check_kpis(self.schema, self._checker)
            except SegcError as e:
                diags.extend(e.diagnostics)
        if any(d.is_error for d in diags):
            raise SegcError(diags)
        self.warnings = self.checked.warnings

    def with_source(self, text: str, display: str, replacing: Path | None = None) -> Project:
        """This project as if `text` were one more of its .seg files (in place of the file
        `replacing`), checked with everything else: how `discover` runs the rules it writes
        before writing them. Raises SegcError like loading does."""
        import copy

        module = parse_module(Source(display, text))
        modules = [m for m in self.modules if replacing is None or not same_file(m.file, replacing)] + [module]
        checker = Checker(self.schema, modules, self.params, models=self._checker.models)
        derived = copy.copy(self)
        derived.modules, derived._checker, derived.checked = modules, checker, checker.check()
        derived.warnings = derived.checked.warnings
        return derived

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)

    def _params(self, given: dict[str, str]) -> dict[str, object]:
        out, diags = {}, []
        for name, text in given.items():
            p = self.schema.params.get(name)
            if p is None:
                close = suggest(name, self.schema.params)
                diags.append(Diagnostic("E204", f"unknown parameter `{name}` in --param",
                                        hints=(f"did you mean `{close}`?" if close else
                                               "declared parameters: " + (", ".join(self.schema.params) or "none"),)))
                continue
            try:
                out[name] = coerce_param(p.type, text)
            except ValueError as e:
                diags.append(Diagnostic("E204", f"--param {name}: {e}", hints=(f"`{name}` is {p.type}",)))
        if diags:
            raise SegcError(diags)
        return out

    def _as_of(self, value) -> dt.date | None:
        if value is None:
            return self.schema.as_of
        if isinstance(value, dt.date):
            return value
        if value == "today":
            return None  # rolling: the engine's current date
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise SegcError(Diagnostic("E009", f"--as-of `{value}` is not a date",
                                       hints=("write YYYY-MM-DD, or `today` for the engine's current date",))) from None

    # ---- names ----
    @property
    def segment_names(self) -> list[str]:
        """Segments, then each segmentation's branches as `name.branch`, in file order."""
        return list(self.checked.segments)

    def definition(self, name: str):
        d = self.checked.segments.get(name)
        if d is None and name not in self.checked.segmentations:
            names = list(self.checked.segments) + list(self.checked.segmentations)
            close = suggest(name, names)
            raise SegcError(Diagnostic("E212", f"unknown segment `{name}`",
                                       hints=(f"did you mean `{close}`?" if close else
                                              "defined: " + ", ".join(names[:20]),)))
        return d

    # ---- compile ----
    def compile(self, name: str, dialect: str | None = None, form: str = "select",
                as_of=None, pretty: bool = True) -> str:
        if name in self.checked.segmentations and form in ("select", "label"):
            return self._render(self.label_query(name, as_of), dialect, pretty)
        if name in self.checked.segmentations:
            branches = ", ".join(f"`{name}.{b}`" for b, _p in self.checked.segmentations[name].branches)
            raise SegcError(Diagnostic("E011", f"`{name}` is a segmentation: the form `{form}` needs one of "
                                       "its branches", hints=(f"compile one of {branches}, or use "
                                                              "--form label for the whole segmentation",)))
        d = self.definition(name)
        return self._render(self.query(d.pred, form, as_of), dialect, pretty)

    def compile_expression(self, text: str, dialect: str | None = None, form: str = "select",
                           as_of=None, pretty: bool = True) -> str:
        """The whole pipeline (parse, check, lower, render) on an ad-hoc expression."""
        pred, _used = self.check_expression(text)
        return self._render(self.query(pred, form, as_of), dialect, pretty)

    def check_expression(self, text: str, name: str = "<expression>") -> tuple[ir.Pred, frozenset[str]]:
        expr = parse_expression(Source(name, text))
        return self._checker.check_expression(expr)

    def expression_warnings(self, text: str) -> list[Diagnostic]:
        """The warnings of an ad-hoc expression (W101 a condition that is never true, W106
        an empty period, ...), as `segc check` gives them for a segment; raises SegcError
        on an error."""
        self.check_expression(text)
        return [d for d in self._checker.diags if not d.is_error]

    def _render(self, tree, dialect: str | None, pretty: bool) -> str:
        return render(tree, dialect or self.schema.dialect, pretty=pretty, copy=False)

    def lowerer(self, as_of=None) -> Lowerer:
        return Lowerer(self.schema, self.as_of if as_of is None else self._as_of(as_of))

    def query(self, pred: ir.Pred, form: str = "select", as_of=None):
        if form not in ("select", "count"):
            raise SegcError(Diagnostic("E011", f"unknown form `{form}` for a segment",
                                       hints=("forms: select, count; label is for segmentations",)))
        key = self.schema.key

        def select(lw: Lowerer):
            cond = lw.pred(pred)
            from sqlglot import exp

            if form == "count":  # lower.alias, not exp.alias_, which copies both its arguments
                return [alias(exp.Count(this=exp.Star()), "count")], cond
            return [alias(col(KEY), key)], cond

        return self.lowerer(as_of).query(self.checked.population, select)

    def label_query(self, name: str, as_of=None, keep_unmatched: bool = False):
        """Key and branch of each member; with `keep_unmatched`, every customer of the
        population, the unmatched with a NULL branch."""
        from sqlglot import exp

        info = self.checked.segmentations[name]

        def select(lw: Lowerer):
            ifs, default = [], None
            for branch, pred in info.branches:
                if pred is None:
                    default = exp.Literal.string(branch)
                else:
                    ifs.append(exp.If(this=lw.pred(pred), true=exp.Literal.string(branch)))
            case = exp.Case(ifs=ifs, default=default) if ifs else default
            # without `else`, the unmatched belong to no branch
            cond = None if default is not None or keep_unmatched else or_([i.this.copy() for i in ifs])
            return [exp.alias_(col(KEY), ident(self.schema.key)), exp.alias_(case, ident("segment"))], cond

        return self.lowerer(as_of).query(self.checked.population, select)

    def counts_query(self, names: list[str], as_of=None, present: list[str] = ()):
        """Population and every segment's size in one scan (conditional aggregation), and
        how many have each feature of `present`."""
        from sqlglot import exp

        preds = [(n, self.definition(n).pred) for n in names]
        values = self._feature_values(present)

        def select(lw: Lowerer):
            projections = [exp.alias_(exp.Count(this=exp.Star()), ident("segc_population"))]
            for i, (n, pred) in enumerate(preds):
                projections.append(exp.alias_(exp.Sum(this=flag(lw.pred(pred))), ident(f"segc_{i}")))
            for f in present:
                projections.append(exp.alias_(exp.Count(this=lw.value(values[f])), ident(f"segc_present_{f}")))
            return projections, None

        return self.lowerer(as_of).query(self.checked.population, select)

    # ---- running queries: embedded DuckDB by default, or any engine of engine.py ----
    @property
    def engine(self):
        """Where count/sample/overlap/profile/transitions run (DuckDB over local files unless
        `use_engine` chose another)."""
        if getattr(self, "_engine", None) is None:
            from segc.run.duckdb_engine import DuckDBEngine

            self._engine = DuckDBEngine(self.schema, self.root)
        return self._engine

    def use_engine(self, engine) -> Project:
        self._engine = engine
        return self

    def duckdb(self):
        """The DuckDB connection with the project's sources as views (opened once)."""
        from segc.run.duckdb_engine import DuckDBEngine

        if not isinstance(self.engine, DuckDBEngine):
            raise SegcError(Diagnostic("E706", "this project runs on another engine, not DuckDB"))
        return self.engine.con

    def _run(self, query) -> list[tuple]:
        return self.engine.execute(render(query, self.engine.dialect, pretty=False, copy=False))

    def check_data(self) -> list[Diagnostic]:
        """The preview data against segc.yml (see datacheck.py)."""
        from segc.apps.datacheck import check_data

        return check_data(self)

    def min_size(self, name: str) -> int | None:
        return self.checked.segments[name].annotations.min_size

    def count(self, names: list[str] | None = None, as_of=None) -> CountResult:
        """Population and each segment's size, all in one query (one scan)."""
        names = self.segment_names if not names else names
        for n in names:
            self.definition(n)
        if not names:
            raise SegcError(Diagnostic("E211", "there are no segments to count",
                                       hints=("define segments in segments/*.seg",)))
        used = set().union(*(_features_read(self.definition(n).pred) for n in names))
        nullable = [f for f in self.schema.features if f in used and self.schema.features[f].nullable]
        row = self._run(self.counts_query(names, as_of, nullable))[0]
        population = row[0]
        segments = [SegmentCount(n, int(c or 0), (int(c or 0) / population) if population else 0.0,
                                 self.min_size(n)) for n, c in zip(names, row[1:1 + len(names)])]
        missing = {f: 1 - present / population for f, present in zip(nullable, row[1 + len(names):])
                   if population and 1 - present / population > MISSING_WARNING}
        effective = self.as_of if as_of is None else self._as_of(as_of)
        return CountResult(effective.isoformat() if effective else "today", population, segments, missing)

    def transitions(self, name: str, start, end) -> Transitions:
        """The transition matrix of a segmentation between two as-of dates, in one query."""
        if name not in self.checked.segmentations:
            close = suggest(name, self.checked.segmentations)
            raise SegcError(Diagnostic("E212", f"unknown segmentation `{name}`",
                                       hints=(f"did you mean `{close}`?" if close else
                                              "segmentations: " + (", ".join(self.checked.segmentations) or "none"),)))
        start_d, end_d = _transition_date(start, "--from"), _transition_date(end, "--to")
        if start_d >= end_d:
            raise SegcError(Diagnostic("E009", f"--from {start_d} is not before --to {end_d}",
                                       hints=("rows are the branches at the earlier date: swap the dates",)))
        q = _transitions_query(self.label_query(name, start_d, keep_unmatched=True),
                               self.label_query(name, end_d, keep_unmatched=True), self.schema.key)
        rows = self._run(q)
        branches = self.checked.segmentations[name].branches
        has_else = any(p is None for _b, p in branches)
        order = [b for b, _p in branches] + ([] if has_else else [NO_BRANCH]) + [NOT_IN_POPULATION]
        counts = {(f, t): int(c) for f, t, c in rows}
        return Transitions(name, start_d.isoformat(), end_d.isoformat(), order, order, counts)

    def feature_matrix(self, features: list[str], as_of=None):
        """(keys, matrix) of the population at the as-of, ordered by key: each feature's
        point-in-time value as a float (a bool 1/0, NaN when missing), for the numpy work
        of `discover` and `score fit`."""
        import numpy as np
        from sqlglot import exp

        values = self._feature_values(features)

        def select(lw: Lowerer):
            return [col(KEY), *(exp.alias_(lw.value(values[f]), ident(f"segc_{i}"))
                                for i, f in enumerate(features))], None

        rows = self._run(self.lowerer(as_of).query(self.checked.population, select).order_by(col(KEY)))
        matrix = np.array([[np.nan if v is None else float(v) for v in r[1:]] for r in rows],
                          dtype=float).reshape(len(rows), len(features))
        return [r[0] for r in rows], matrix

    def _feature_values(self, names) -> dict[str, ir.Value]:
        return {n: self._checker.feature_value(self.schema.features[n], None) for n in names}

    def _visible(self, name: str, features) -> list[str]:
        """Features safe to show for a segment: sensitive ones only when it allows them."""
        allowed = self.checked.segments[name].sensitive if name in self.checked.segments else {}
        return [f for f in features if not self.schema.features[f].sensitive or f in allowed]

    def sample(self, name: str, n: int = 20, as_of=None) -> Sample:
        """Up to n members (lowest keys first) with the features the segment uses."""
        from sqlglot import exp

        d = self.definition(name)
        shown = [f for f in self.schema.features if f in d.features]
        values = self._feature_values(self._visible(name, shown))

        def select(lw: Lowerer):
            cols = [exp.alias_(col(KEY), ident(self.schema.key))]
            cols += [exp.alias_(lw.value(v), ident(f)) for f, v in values.items()]
            return cols, lw.pred(d.pred)

        q = self.lowerer(as_of).query(self.checked.population, select)
        q = q.order_by(col(self.schema.key)).limit(n)
        rows = self._run(q)
        masked = [f for f in shown if f not in values]
        return Sample(name, [self.schema.key, *values], rows, masked)

    def overlap(self, names: list[str] | None = None, as_of=None) -> Overlap:
        """Pairwise intersections of segments, in one query."""
        from sqlglot import exp

        names = self.segment_names if not names else names
        preds = [self.definition(n).pred for n in names]

        def select(lw: Lowerer):
            return [exp.alias_(flag(lw.pred(p)), ident(f"segc_{i}")) for i, p in enumerate(preds)], None

        inner = self.lowerer(as_of).query(self.checked.population, select)
        sums = []
        for i in range(len(names)):
            for j in range(i, len(names)):
                both = col(f"segc_{i}") if i == j else exp.Mul(this=col(f"segc_{i}"), expression=col(f"segc_{j}"))
                sums.append(exp.alias_(exp.Sum(this=both), ident(f"segc_{i}_{j}")))
        q = exp.select(*sums).from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=ident("segc_flags"))))
        row = self._run(q)[0]
        it = iter(row)
        matrix = [[0] * len(names) for _ in names]
        for i in range(len(names)):
            for j in range(i, len(names)):
                matrix[i][j] = matrix[j][i] = int(next(it) or 0)
        return Overlap(names, matrix)

    def profile(self, name: str, as_of=None, top: int = 5) -> Profile:
        """Each feature in the segment vs the population: mean, stddev and missing share of
        numbers; the most frequent values of strings and booleans."""
        from sqlglot import exp

        d = self.definition(name)
        feats = self._visible(name, [f for f, fd in self.schema.features.items()])
        values = self._feature_values(feats)
        numeric = [f for f in feats if self.schema.features[f].type in ir.NUMERIC]
        categorical = [f for f in feats if self.schema.features[f].type in ("string", "bool")]

        def select(lw: Lowerer):
            cond = lw.pred(d.pred)
            out = [exp.alias_(exp.Count(this=exp.Star()), ident("segc_n")),
                   exp.alias_(exp.Sum(this=flag(cond)), ident("segc_in"))]
            for f in numeric:
                v = lw.value(values[f])
                inside = exp.Case(ifs=[exp.If(this=cond.copy(), true=v.copy())])
                missing_in = exp.Case(ifs=[exp.If(this=exp.and_(cond.copy(), exp.Is(this=v.copy(), expression=exp.Null())),
                                                  true=exp.Literal.number(1))], default=exp.Literal.number(0))
                out += [exp.Avg(this=v.copy()), exp.StddevSamp(this=v.copy()), exp.Count(this=v.copy()),
                        exp.Avg(this=inside), exp.StddevSamp(this=inside.copy()), exp.Sum(this=missing_in)]
            return out, None

        row = self._run(self.lowerer(as_of).query(self.checked.population, select))[0]
        n_pop, n_in = row[0], int(row[1] or 0)
        numbers = []
        for k, f in enumerate(numeric):
            mean, sd, present, mean_in, sd_in, missing_in = row[2 + 6 * k: 8 + 6 * k]
            numbers.append(NumericProfile(f, mean_in, sd_in, (int(missing_in) / n_in) if n_in else None,
                                          mean, sd, (1 - present / n_pop) if n_pop else None))
        categories = []
        for f in categorical:

            def select_values(lw: Lowerer, f=f):
                v = lw.value(values[f])
                return [exp.alias_(v, ident("segc_value")), exp.alias_(flag(lw.pred(d.pred)), ident("segc_in"))], None

            inner = self.lowerer(as_of).query(self.checked.population, select_values)
            q = (exp.select(col("segc_value"), exp.Count(this=exp.Star()), exp.Sum(this=col("segc_in")))
                 .from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=ident("segc_values"))))
                 .group_by(col("segc_value")).order_by(exp.Ordered(this=exp.Literal.number(3), desc=True),
                                                       exp.Ordered(this=exp.Literal.number(2), desc=True),
                                                       col("segc_value")).limit(top))
            rows = self._run(q)
            categories.append(CategoryProfile(f, [(value, (int(i or 0) / n_in) if n_in else 0.0, c / n_pop)
                                                  for value, c, i in rows]))
        return Profile(name, n_in, n_pop, numbers, categories)


def _features_read(node, out: set[str] | None = None) -> set[str]:
    """The features a condition reads whose missing values can decide it: all of them but
    a score's inputs, which the score imputes (so no missing-value warning for those)."""
    out = set() if out is None else out
    if isinstance(node, ir.Func) and node.name == "logistic":
        return out
    if isinstance(node, ir.Col) and node.scope == "features":
        out.add(node.name)
    elif isinstance(node, ir.Agg) and node.label:
        out.add(node.label)
    children = [getattr(node, f.name) for f in fields(node)] if is_dataclass(node) else \
        list(node) if isinstance(node, tuple) else []
    for child in children:
        if isinstance(child, (ir.Value, ir.Pred, ir.Window, tuple)):
            _features_read(child, out)
    return out


def same_file(display: str, path: Path) -> bool:
    try:
        return Path(display).resolve() == path.resolve()
    except OSError:
        return False


def _transition_date(value, option: str) -> dt.date:
    # both sides are pinned dates: with a rolling `today` the matrix would change
    # meaning from one run to the next
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SegcError(Diagnostic("E009", f"{option} `{value}` is not a date",
                                   hints=("transitions need two dates written YYYY-MM-DD, e.g. "
                                          "--from 2024-01-01 --to 2024-07-01",))) from None


def _transitions_query(start_q, end_q, key: str):
    """One query: the labels at both dates, fully outer-joined on the key."""
    from sqlglot import exp

    def side(q, alias):
        # Spark, Databricks and T-SQL hoist nested CTEs to the top: give each side's
        # CTEs their own names (a renamed reference keeps the old name as its alias)
        ctes = {c.alias: c for c in (q.args.get("with_") or exp.With()).expressions}
        for t in list(q.find_all(exp.Table)):
            if not t.args.get("db") and t.name in ctes:
                if not t.alias:
                    t.set("alias", exp.TableAlias(this=ident(t.name)))
                t.set("this", ident(f"{t.name}_{alias}"))
        for name, c in ctes.items():
            c.set("alias", exp.TableAlias(this=ident(f"{name}_{alias}")))
        return exp.Subquery(this=q, alias=exp.TableAlias(this=ident(alias)))

    def label(alias):
        return exp.Case(ifs=[exp.If(this=exp.Is(this=col(key, alias), expression=exp.Null()),
                                    true=exp.Literal.string(NOT_IN_POPULATION))],
                        default=exp.Coalesce(this=col("segment", alias), expressions=[exp.Literal.string(NO_BRANCH)]))

    a, b = label("segc_from"), label("segc_to")
    return (exp.select(exp.alias_(a, ident("segc_from")), exp.alias_(b, ident("segc_to")), exp.Count(this=exp.Star()))
            .from_(side(start_q, "segc_from"))
            .join(side(end_q, "segc_to"), on=exp.EQ(this=col(key, "segc_from"), expression=col(key, "segc_to")),
                  join_type="FULL OUTER")
            .group_by(a.copy(), b.copy()))


@dataclass(frozen=True)
class Sample:
    name: str
    columns: list[str]
    rows: list[tuple]
    masked: list[str]  # sensitive features not shown


@dataclass(frozen=True)
class Overlap:
    names: list[str]
    matrix: list[list[int]]  # [i][j] = |i and j|; the diagonal holds the sizes

    def jaccard(self, i: int, j: int) -> float:
        union = self.matrix[i][i] + self.matrix[j][j] - self.matrix[i][j]
        return self.matrix[i][j] / union if union else 0.0

    def to_dict(self) -> dict:
        n = len(self.names)
        return {"segments": [{"name": s, "count": self.matrix[i][i]} for i, s in enumerate(self.names)],
                "pairs": [{"a": self.names[i], "b": self.names[j], "both": self.matrix[i][j],
                           "jaccard": self.jaccard(i, j)} for i in range(n) for j in range(i + 1, n)]}


@dataclass(frozen=True)
class NumericProfile:
    feature: str
    mean: float | None
    stddev: float | None
    missing: float | None
    population_mean: float | None
    population_stddev: float | None
    population_missing: float | None


@dataclass(frozen=True)
class CategoryProfile:
    feature: str
    values: list[tuple]  # (value, share in segment, share in population)


@dataclass(frozen=True)
class Profile:
    name: str
    size: int
    population: int
    numeric: list[NumericProfile]
    categorical: list[CategoryProfile]

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


NOT_IN_POPULATION = "(not in population)"
NO_BRANCH = "(no branch)"


@dataclass(frozen=True)
class Transitions:
    """How many customers moved from each branch at `start` to each branch at `end`."""
    segmentation: str
    start: str
    end: str
    rows: list[str]  # branches at start (+ no branch, not in population)
    columns: list[str]  # branches at end (+ no branch, not in population)
    counts: dict[tuple[str, str], int]

    def row_total(self, row: str) -> int:
        return sum(self.counts.get((row, c), 0) for c in self.columns)

    def row_share(self, row: str, column: str) -> float | None:
        """The share of the row's customers who are in `column` at the end (None: empty row)."""
        total = self.row_total(row)
        return self.counts.get((row, column), 0) / total if total else None

    def to_dict(self) -> dict:
        return {"segmentation": self.segmentation, "from": self.start, "to": self.end,
                "rows": [{"from": r, "total": self.row_total(r),
                          "to": {c: self.counts.get((r, c), 0) for c in self.columns},
                          "share": {c: self.row_share(r, c) for c in self.columns}} for r in self.rows]}
