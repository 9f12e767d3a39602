"""A project: segc.yml and segments/*.seg, and the compile API over it."""
from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from segc import ir
from segc.backend.lower import KEY, Lowerer
from segc.backend.trees import alias, col, flag, ident, make_select, subquery, take_ctes
from segc.backend.render import render
from segc.check.checker import Checker
from segc.check.definitions import Checked
from segc.check.targets import BRANCH, EXPRESSION, SEGMENT, SEGMENTATION, WHOLE, Takes, Target, resolve
from segc.front import ast, files
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.front.files import display_path, find_root, read_source
from segc.front.parse_cache import cached
from segc.front.parser import parse_expression, parse_module
from segc.front.source import Source
from segc.schema.param_values import coerce_param
from segc.schema.segc_yml import load_schema

if TYPE_CHECKING:
    from segc import preview

FORMS = ("select", "count", "label")
# a segmentation compiles whole: its labels (--form label) or its members (select)
COMPILE = Takes("segc compile", frozenset({SEGMENT, BRANCH, SEGMENTATION}), WHOLE)


def _preview():
    """preview.py, imported when a preview is asked for: `segc compile` does without it
    (its import is 5 ms of a cold start)."""
    from segc import preview

    return preview


class SQL(str):
    """Generated SQL text, with the warnings found while checking what it was compiled from."""
    warnings: tuple[Diagnostic, ...] = ()

    def __new__(cls, text: str, warnings: tuple[Diagnostic, ...] = ()) -> SQL:
        sql = super().__new__(cls, text)
        sql.warnings = warnings
        return sql
def parse_param_args(items: list[str] | None) -> dict[str, str]:
    """`--param name=value` arguments as {name: text}; typed when the project binds them."""
    out, diags = {}, []
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            diags.append(Diagnostic("E010", f"--param `{item}` is not of the form name=value",
                                    hints=("e.g. --param min_basket=100",)))
            continue
        if name.strip() in out:  # a later value silently replaced the earlier one
            diags.append(Diagnostic("E010", f"--param `{name.strip()}` is given twice",
                                    hints=("give each parameter once",)))
            continue
        out[name.strip()] = value
    if diags:
        raise SegcError(diags)
    return out


def load_targets(words: list[str], project: Path | None = None, params: dict[str, str] | None = None,
                 as_of=None) -> tuple[Project, list[str]]:
    """The project and the segment names that command-line targets name, as in pytest or
    ruff: a word naming a folder or a .seg file selects the project; any other word is a
    segment name; a word that is both is E012."""
    names, path_words = [], []
    for word in words:
        path = Path(word)
        if files.is_dir(path) or (path.suffix == ".seg" and files.is_file(path)):
            path_words.append(word)
        else:
            names.append(word)
    project = one_project_folder(project, [(w, Path(w) if files.is_dir(w) else Path(w).parent) for w in path_words])
    loaded = load_project(project or Path("."), params=params, as_of=as_of)
    for word in path_words:
        if word in loaded.checked.segments or word in loaded.checked.segmentations:
            raise SegcError(Diagnostic("E012", f"`{word}` is both a folder and a segment name",
                                       hints=(f"write `./{word}` for the folder, or `--project DIR {word}` "
                                              "for the segment",)))
    return loaded, names


def load_for_name(name: str | None, project: Path | None, params: dict[str, str] | None = None,
                  as_of=None) -> Project:
    """The project of a command taking one segment by name (`segc compile NAME`): a
    project folder given in the name's place is E212 with the command to write, not a
    project looked for in the current folder (`segc compile examples/retail`)."""
    if project is None and name is not None and files.is_file(Path(name) / "segc.yml"):
        names = sorted(load_project(name, params=params, as_of=as_of).checked.segments)
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        raise SegcError(Diagnostic("E212", f"`{name}` is a project folder, not a segment name", hints=(
            f"give the segment by name and the folder with --project: segc compile {names[0] if names else 'NAME'} "
            f"-p {name}" + (f" (its segments: {shown})" if names else ""),)))
    return load_project(project or Path("."), params=params, as_of=as_of)


def load_folder(path: Path | None, project: Path | None, what: str, params: dict[str, str] | None = None,
                as_of=None) -> Project:
    """The project of a command that takes a project folder and no names (`segc check
    DIR`): with --project given too, a word that is not a folder would be ignored, so it
    is E011 instead (`segc check quadrant -p DIR` checks the whole project, not quadrant)."""
    if path is not None and project is not None and not files.is_dir(path):
        raise SegcError(Diagnostic("E011", f"{what} takes a project folder, and `{path}` is not one",
                                   hints=(f"{what} works on the whole project (--project {project}): "
                                          f"drop `{path}`",)))
    folder = one_project_folder(project, [(str(path), Path(path))] if path is not None else [])
    return load_project(folder or Path("."), params=params, as_of=as_of)


def one_project_folder(project: Path | None, folders: list[tuple[str, Path]]) -> Path | None:
    """The project folder a command line names: `--project` and/or the folders its
    arguments select, as (word, folder); a folder argument is taken over --project. Two
    of them in different projects are E012: one would be ignored without a word."""
    given = ([(f"--project {project}", Path(project))] if project is not None else []) + folders
    first_word, first = given[0] if given else (None, None)
    for word, folder in given[1:]:
        if _root_of(folder) != _root_of(first):
            raise SegcError(Diagnostic("E012", f"two projects given: `{first_word}` and `{word}`", hints=(
                "segc works on one project per run: keep one of them (a folder argument, or --project DIR)",)))
    return folders[-1][1] if folders else project


def _root_of(folder: Path) -> Path:
    """The project folder `folder` stands for (the nearest one upward holding segc.yml),
    to tell two ways of naming one project from two projects."""
    return find_root(folder) or Path(folder).resolve()


def load_project(path: str | Path = ".", params: dict[str, str] | None = None,
                 as_of: str | dt.date | None = None, segments: bool = True) -> Project:
    """Load and check a project; raises SegcError carrying every diagnostic. With
    `segments=False`, only segc.yml (what fitting a score needs: see Project)."""
    path = Path(path)
    if files.is_file(path) and path.suffix == ".seg":
        root = find_root(path.parent)
    elif files.is_dir(path) or not files.exists(path):
        root = path if files.is_file(path / "segc.yml") else (find_root(path) if files.exists(path) else None)
    else:
        root = find_root(path.parent)
    if root is None:
        raise SegcError(Diagnostic("E008", f"no segc.yml found in `{path}` or any folder above it",
                                   file=str(path), hints=("a project is a folder holding segc.yml (see examples/retail): "
                                                          "point at one with --project DIR",)))
    return Project(root, params=params, as_of=as_of, segments=segments)


class Project:
    # the population's keys are known to be unique (a feature matrix built from it, whose
    # build checked them): the previews skip require_unique_keys' query
    keys_checked = False

    def __init__(self, root: Path, params: dict[str, str] | None = None, as_of=None, segments: bool = True):
        self.root = Path(root)
        self._engine = None  # opened on first use (engine), or chosen with use_engine
        diags: list[Diagnostic] = []
        self.modules: list[ast.Module] = []
        for file in sorted((self.root / "segments").glob("**/*.seg")) if segments else ():
            try:
                source = read_source(file, display_path(file))
                self.modules.append(cached("seg", source, partial(parse_module, source)))
            except SegcError as e:
                diags.extend(e.diagnostics)
                if getattr(e, "module", None) is not None:  # what parsed is still checked
                    self.modules.append(e.module)
        try:
            self.schema, problems = load_schema(read_source(self.root / "segc.yml", display_path(self.root / "segc.yml")),
                                                self.root, cache=True)
        except SegcError as e:  # without a schema nothing can be checked, but syntax errors still show
            raise SegcError(e.diagnostics + diags) from None
        diags = problems + diags
        self.params = self._params(params or {})
        self.as_of = self.as_of_date(as_of)
        # kept: ad-hoc expressions reuse its resolved definitions and parsed `where:`s
        # fitted scores (models/<name>.yml); without segments the project is loaded to fit
        # a score, and neither needs nor reads them (a damaged one is repaired by refitting)
        models = {}
        if self.schema.scores and segments:
            from segc.schema.score_model import load_models

            models, problems = load_models(self.root, self.schema, display_path)
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
        self.experiments = {}  # segc.yml `experiments:`, for `segc lift`; arms need the checked segments
        if self.schema.experiments and segments and not any(d.is_error for d in diags):
            from segc.check.experiments import check_experiments

            try:
                self.experiments = check_experiments(self.schema, self._checker, self.checked,
                                                     list(self.schema.features) + list(self.schema.scores))
            except SegcError as e:
                diags.extend(e.diagnostics)
        if any(d.is_error for d in diags):
            raise SegcError(diags)
        # W978 (arms of an experiment not provably disjoint) with the checker's warnings
        self.warnings = self.checked.warnings + [w for e in self.experiments.values() for w in e.warnings]

    def with_source(self, text: str, display: str, replacing: Path | None = None) -> Project:
        """This project as if `text` were one more of its .seg files (in place of the file
        `replacing`), checked with everything else: how `discover` runs the rules it writes
        before writing them. Raises SegcError like loading does. It runs on this project's
        engine (the same data, the connection already open); nothing else is shared."""
        module = parse_module(Source(display, text))
        modules = [m for m in self.modules if replacing is None or not same_file(m.file, replacing)] + [module]
        checker = Checker(self.schema, modules, self.params, models=self._checker.models)
        derived = Project.__new__(Project)
        derived.root, derived.schema, derived.params, derived.as_of = self.root, self.schema, self.params, self.as_of
        derived.kpis, derived.experiments, derived.modules, derived._checker = self.kpis, self.experiments, modules, checker
        derived.checked = checker.check()
        derived.warnings = derived.checked.warnings
        derived._engine = self.engine
        return derived

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
                diags.append(Diagnostic("E204", f"--param {name}: {e}",
                                        hints=(getattr(e, "hint", f"`{name}` is {p.type}"),)))
        if diags:
            raise SegcError(diags)
        return out

    def as_of_date(self, value, given_as: str = "--as-of") -> dt.date | None:
        """The as-of `value` names (None: the engine's current date); E009 names it as the
        caller took it (`given_as`: the option, or the HTTP API's field)."""
        if value is None:
            return self.schema.as_of
        if value == "today":
            return None  # rolling: the engine's current date
        if not isinstance(value, dt.date):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise SegcError(Diagnostic("E009", f"{given_as} `{value}` is not a date", hints=(
                    "write YYYY-MM-DD, or `today` for the engine's current date",))) from None
        problem = ir.as_of_problem(value)
        if problem:
            raise SegcError(Diagnostic("E009", problem, hints=(ir.DATE_RANGE_HINT,)))
        return value

    # ---- names ----
    @property
    def segment_names(self) -> list[str]:
        """Segments, then each segmentation's branches as `name.branch`, in file order."""
        return list(self.checked.segments)

    def targets(self, words, takes: Takes | None = None) -> list[Target]:
        """What the names (or Targets, e.g. `expression(...)`) stand for, as the command
        described by `takes` takes them (default: segments, branches and expressions, a
        segmentation as its branches); raises SegcError (E212 unknown, E011 refused)."""
        features = list(self.schema.features) + list(self.schema.scores)
        return resolve(self.checked, features, words, takes or Takes("this command"))

    def target(self, word, takes: Takes | None = None) -> Target:
        """The one target a command that takes one names (a segmentation is refused unless
        `takes` keeps it whole)."""
        found = self.targets([word], takes or Takes("this command", segmentation=None))
        return found[0]

    def expression(self, text: str) -> Target:
        """An ad-hoc expression (`-e`) as a target, checked against the project; its
        warnings (W101, ...) are kept on it. Raises SegcError."""
        pred, used = self.check_expression(text)
        warnings = tuple(d for d in self._checker.diags if not d.is_error)
        return Target(text, EXPRESSION, pred, used, warnings=warnings)

    def definition(self, name: str):
        """The checked segment or branch `name` (E212 unknown, E011 a segmentation)."""
        return self.checked.segments[self.target(name, Takes("a segment", frozenset({SEGMENT, BRANCH}))).name]

    # ---- compile ----
    def compile(self, name: str, dialect: str | None = None, form: str = "select",
                as_of=None, pretty: bool = True, provided: tuple[str, ...] = ()) -> str:
        """`provided`: functions the connection that runs the SQL registered (render)."""
        target = self.target(name, COMPILE)
        if target.kind == SEGMENTATION and form in ("select", "label"):
            return self._render(self.label_query(name, as_of), dialect, pretty, provided)
        if target.kind == SEGMENTATION:
            branches = ", ".join(f"`{b}`" for b in target.branches)
            raise SegcError(Diagnostic("E011", f"`{name}` is a segmentation: the form `{form}` needs one of "
                                       "its branches", hints=(f"compile one of {branches}, or use "
                                                              "--form label for the whole segmentation",)))
        return self._render(self.query(target.pred, form, as_of), dialect, pretty, provided)

    def compile_expression(self, text: str, dialect: str | None = None, form: str = "select",
                           as_of=None, pretty: bool = True) -> SQL:
        """The whole pipeline (parse, check, lower, render) on an ad-hoc expression, checked
        once: the SQL carries the expression's warnings (W101 a condition that is never true,
        W106 an empty period, ...), as `segc check` gives them for a segment."""
        target = self.expression(text)
        return SQL(self._render(self.query(target.pred, form, as_of), dialect, pretty), target.warnings)

    def check_expression(self, text: str, name: str = "<expression>") -> tuple[ir.Pred, frozenset[str]]:
        expr = parse_expression(Source(name, text))
        return self._checker.check_expression(expr)

    def _render(self, tree, dialect: str | None, pretty: bool, provided: tuple[str, ...] = ()) -> str:
        return render(tree, dialect or self.schema.dialect, pretty=pretty, copy=False, provided=provided,
                      quoting=self.schema.quoting)

    def lowerer(self, as_of=None) -> Lowerer:
        return Lowerer(self.schema, self.as_of if as_of is None else self.as_of_date(as_of))

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

        from segc.run.membership import label_case

        info = self.checked.segmentations[name]

        def select(lw: Lowerer):
            case, in_a_branch = label_case(lw, info.branches)
            # without `else`, the unmatched belong to no branch
            cond = None if keep_unmatched else in_a_branch
            return [exp.alias_(col(KEY), ident(self.schema.key)), exp.alias_(case, ident("segment"))], cond

        return self.lowerer(as_of).query(self.checked.population, select)

    def counts_query(self, targets: list, as_of=None, present: list[str] = ()):
        """Population and every target's size in one scan (conditional aggregation), and
        how many have each feature of `present`. A segmentation's branches are counted by
        its label, computed once a row (`segc_label_i`, the CASE of `--form label`): each
        branch's own condition holds every earlier branch, quadratic in the branches."""
        from sqlglot import exp

        from segc.run.membership import label_case

        found = self.targets(targets)
        values = self.feature_values(present)
        labels = list(dict.fromkeys(t.name.partition(".")[0] for t in found if t.kind == BRANCH))

        def select(lw: Lowerer):
            rows = [alias(flag(lw.pred(t.pred)), f"segc_{i}") for i, t in enumerate(found) if t.kind != BRANCH]
            rows += [alias(label_case(lw, self.checked.segmentations[s].branches)[0], f"segc_label_{i}")
                     for i, s in enumerate(labels)]
            rows += [alias(lw.value(values[f]), f"segc_present_{i}") for i, f in enumerate(present)]
            return rows, None

        inner = self.lowerer(as_of).query(self.checked.population, select)
        ctes = take_ctes(inner)
        counts = [alias(exp.Count(this=exp.Star()), "segc_population")]
        for i, t in enumerate(found):
            if t.kind == BRANCH:
                seg, _dot, branch = t.name.partition(".")
                is_it = exp.EQ(this=col(f"segc_label_{labels.index(seg)}"), expression=exp.Literal.string(branch))
                counts.append(alias(exp.Sum(this=flag(is_it)), f"segc_{i}"))
            else:
                counts.append(alias(exp.Sum(this=col(f"segc_{i}")), f"segc_{i}"))
        counts += [alias(exp.Count(this=col(f"segc_present_{i}")), f"segc_present_{i}") for i in range(len(present))]
        q = make_select(counts, subquery(inner, "segc_rows"))
        if ctes:
            q.set("with_", exp.With(expressions=ctes))
        return q

    # ---- running queries: embedded DuckDB by default, or any engine of run/ ----
    @property
    def engine(self):
        """Where count/sample/overlap/profile/transitions run (DuckDB over local files unless
        `use_engine` chose another)."""
        if self._engine is None:
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
            raise SegcError(Diagnostic("E706", "this project runs on another engine, not DuckDB",
                                       hints=("this needs the embedded DuckDB: leave out --engine",)))
        return self.engine.con

    def run(self, query) -> list[tuple]:
        """The rows of a sqlglot query, rendered for the project's engine and run there."""
        return self.engine.execute(render(query, self.engine.dialect, pretty=False, copy=False,
                                          quoting=self.schema.quoting))

    def check_data(self) -> list[Diagnostic]:
        """The preview data against segc.yml (run/datacheck.py), then the quantile scores
        that a tie decides (W717, run/ties.py), when the data is sound enough to rank."""
        from segc.run.datacheck import check_data
        from segc.run.ties import quantile_ties

        diags = check_data(self)
        if any(d.is_error for d in diags):
            return diags
        return diags + quantile_ties(self)

    def min_size(self, name: str) -> int | None:
        return self.definition(name).annotations.min_size

    # ---- membership as rows (run/membership.py, run/snapshots.py; DESIGN §8.2) ----
    def members(self, name: str, as_of=None) -> list:
        """The member keys of a segment or a branch (`seg.branch`), in key order; of a whole
        segmentation, (key, branch) pairs."""
        from segc.run.membership import MEMBERS, members_query

        target = self.target(name, MEMBERS)
        _preview().require_unique_keys(self, as_of)
        rows = self.run(members_query(self, target, self.as_of if as_of is None else self.as_of_date(as_of)))
        return [tuple(r) for r in rows] if target.kind == SEGMENTATION else [r[0] for r in rows]

    def snapshot(self, names: list[str] | None = None, as_of=None, table: str | None = None):
        """Store the membership of every definition (or `names`) at the as-of: into
        .segc/snapshots/ (DuckDB), or the warehouse table `table` (PostgreSQL). Re-running
        an as-of replaces its rows. Returns a snapshots.Snapshot (the sizes stored)."""
        from segc.run import snapshots

        _preview().require_unique_keys(self, snapshots.snapshot_as_of(self, as_of))
        return snapshots.snapshot(self, names, as_of, table)

    def changes(self, names: list[str] | None = None, since="last", as_of=None, with_=(),
                table: str | None = None):
        """Who entered and who exited each definition since the snapshot of `since` (a
        date, or `last`: the latest before the as-of), with the `with_` payload. Returns a
        snapshots.Changes: `.rows`, `.records()` / `.column_dict()` for a DataFrame."""
        from segc.run import snapshots

        _preview().require_unique_keys(self, snapshots.snapshot_as_of(self, as_of))
        return snapshots.changes(self, names, since, as_of, with_, table)

    # ---- previews (preview.py), run on the project's engine ----
    def count(self, names: list[str] | None = None, as_of=None) -> preview.CountResult:
        """Population and each segment's size, all in one query (one scan)."""
        return _preview().count(self, names, as_of)

    def transitions(self, name: str, start, end) -> preview.Transitions:
        """The transition matrix of a segmentation between two as-of dates, in one query."""
        return _preview().transitions(self, name, start, end)

    def sample(self, name: str, n: int = 20, as_of=None) -> preview.Sample:
        """Up to n members (lowest keys first) with the features the segment uses."""
        return _preview().sample(self, name, n, as_of)

    def overlap(self, names: list[str] | None = None, as_of=None) -> preview.Overlap:
        """Pairwise intersections of segments, in one query."""
        return _preview().overlap(self, names, as_of)

    def profile(self, name: str | Target, as_of=None, top: int = 5) -> preview.Profile:
        """Each feature in the segment vs the population."""
        return _preview().profile(self, name, as_of, top)

    def profiles(self, names: list, as_of=None, top: int = 5) -> preview.Profiles:
        """Profiles side by side: of each target, a segmentation's branches one by one."""
        return _preview().profiles(self, names, as_of, top)

    def feature_matrix(self, features: list[str], as_of=None):
        """(keys, matrix) of the population's feature values at the as-of (numpy)."""
        return _preview().feature_matrix(self, features, as_of)

    def feature_values(self, names) -> dict[str, ir.Value]:
        """The checked value of each feature (what lowering computes for it)."""
        return {n: self._checker.feature_value(self.schema.features[n], None) for n in names}



def same_file(display: str, path: Path) -> bool:
    try:
        return Path(display).resolve() == path.resolve()
    except OSError:
        return False
