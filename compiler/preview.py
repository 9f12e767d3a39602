"""Previews on the project's engine (embedded DuckDB over the local files unless another
was chosen): sizes (count, one scan for every segment), members (sample), overlaps,
profiles against the population, transition matrices between two dates, and the
feature matrix that `discover` and `score fit` work on. Each is one query (a profile:
one more per categorical feature), built from the project's compiled conditions."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from segc import ir
from segc.backend.lower import KEY, Lowerer
from segc.backend.moments import mean_sd, moments
from segc.backend.trees import col, flag, ident
from segc.check.policy import allowed_features
from segc.check.targets import BRANCH, SEGMENTATION, WHOLE, Takes, Target
from segc.front.errors import Diagnostic, SegcError
from segc.backend.rewrites import binary_order

if TYPE_CHECKING:
    from segc.project import Project

# what each preview takes (check/targets.py): a segmentation counts, overlaps and profiles
# as its branches side by side; a sample is of one segment; a transition matrix is of a
# whole segmentation
COUNT = Takes("segc count")
OVERLAP = Takes("segc overlap")
PROFILE = Takes("segc profile")
PROFILE_ONE = Takes("a profile", segmentation=None)  # the API's profile(name): one target
SAMPLE = Takes("segc sample", segmentation=None)
TRANSITIONS = Takes("segc transitions", frozenset({SEGMENTATION}), WHOLE)
MISSING_WARNING = 0.20  # warn when a feature a segment uses is missing this often


@dataclass(frozen=True)
class SegmentCount:
    name: str
    count: int
    share: float  # of the population
    min_size: int | None = None
    kind: str = "segment"  # or branch, expression (check/targets.py)

    @property
    def too_small(self) -> bool:
        return self.min_size is not None and self.count < self.min_size


@dataclass(frozen=True)
class CountResult:
    as_of: str  # the pinned date, or "today" when rolling
    population: int
    segments: list[SegmentCount]
    missing: dict[str, float] = field(default_factory=dict)  # features missing for > 20%
    readers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # counted segments using each of those

    @property
    def empty_branches(self) -> list[str]:
        """Segmentation branches (`name.branch`) that no one is in: a useless tier."""
        return [s.name for s in self.segments if s.kind == BRANCH and s.count == 0]

    def to_dict(self) -> dict:
        return {"as_of": self.as_of, "population": self.population,
                "segments": [{"name": s.name, "count": s.count, "share": s.share} for s in self.segments]}

    def to_csv(self) -> list[list]:
        """Header and rows of `--format csv` (the population first)."""
        return [["name", "count", "share"], ["(population)", self.population, "1.0"],
                *([s.name, s.count, f"{s.share:.6f}"] for s in self.segments)]



def count_query(project: Project, names: list[str] | None = None, as_of=None):
    """The one query of `count`: (query, its targets, the nullable features it counts
    the presence of, the features each target reads)."""
    targets = project.targets(names or project.segment_names, COUNT)
    if not targets:
        raise SegcError(Diagnostic("E211", "there are no segments to count",
                                   hints=("define segments in segments/*.seg",)))
    memo = {}
    reads = {t.name: ir.features_read(t.pred, memo) for t in targets}
    used = set().union(*reads.values())
    nullable = [f for f in project.schema.features if f in used and project.schema.features[f].nullable]
    return project.counts_query(targets, as_of, nullable), targets, nullable, reads


def count(project: Project, names: list[str] | None = None, as_of=None) -> CountResult:
    """Population and each segment's size, all in one query (one scan)."""
    query, targets, nullable, reads = count_query(project, names, as_of)
    require_unique_keys(project, as_of)
    row = project.run(query)[0]
    population = row[0]
    segments = [SegmentCount(t.name, int(c or 0), (int(c or 0) / population) if population else 0.0,
                             t.min_size, t.kind) for t, c in zip(targets, row[1:1 + len(targets)])]
    missing = {f: 1 - present / population for f, present in zip(nullable, row[1 + len(targets):])
               if population and 1 - present / population > MISSING_WARNING}
    readers = {f: tuple(n for n in reads if f in reads[n]) for f in missing}
    effective = project.as_of if as_of is None else project.as_of_date(as_of)
    return CountResult(effective.isoformat() if effective else "today", population, segments, missing, readers)


def transitions(project: Project, name: str, start, end) -> Transitions:
    """The transition matrix of a segmentation between two as-of dates, in one query."""
    name = project.target(name, TRANSITIONS).name
    start_d, end_d = _transition_date(start, "--from"), _transition_date(end, "--to")
    if start_d >= end_d:
        raise SegcError(Diagnostic("E009", f"--from {start_d} is not before --to {end_d}",
                                   hints=("rows are the branches at the earlier date: swap the dates",)))
    require_unique_keys(project, start_d)
    require_unique_keys(project, end_d)
    q = _transitions_query(project.label_query(name, start_d, keep_unmatched=True),
                           project.label_query(name, end_d, keep_unmatched=True), project.schema.key)
    rows = project.run(q)
    branches = project.checked.segmentations[name].branches
    has_else = any(p is None for _b, p in branches)
    order = [b for b, _p in branches] + ([] if has_else else [NO_BRANCH]) + [NOT_IN_POPULATION]
    counts = {(f, t): int(c) for f, t, c in rows}
    return Transitions(name, start_d.isoformat(), end_d.isoformat(), order, order, counts)


def feature_matrix(project: Project, features: list[str], as_of=None):
    """(keys, matrix) of the population at the as-of, ordered by key: each feature's
    point-in-time value as a float (a bool 1/0, NaN when missing), for the numpy work
    of `discover` and `score fit`."""
    import numpy as np
    from sqlglot import exp

    values = project.feature_values(features)

    def select(lw: Lowerer):
        return [col(KEY), *(exp.alias_(lw.value(values[f]), ident(f"segc_{i}"))
                            for i, f in enumerate(features))], None

    rows = project.run(project.lowerer(as_of).query(project.checked.population, select).order_by(binary_order(col(KEY))))
    keys = [r[0] for r in rows]
    present = [k for k in keys if k is not None]
    _refuse_bad_keys(project, len(present) - len(set(present)), len(keys) - len(present))  # no other query
    matrix = np.array([[np.nan if v is None else float(v) for v in r[1:]] for r in rows],
                      dtype=float).reshape(len(rows), len(features))
    return keys, matrix


def visible(project: Project, target: Target, features) -> list[str]:
    """Features safe to show for a target: sensitive ones only when it allows them."""
    return allowed_features(project.schema, features, target.sensitive)


def sample(project: Project, name: str, n: int = 20, as_of=None) -> Sample:
    """Up to n members (lowest keys first) with the features the segment uses."""
    from sqlglot import exp

    d = project.target(name, SAMPLE)
    shown = [f for f in project.schema.features if f in d.features]
    values = project.feature_values(visible(project, d, shown))

    def select(lw: Lowerer):
        cols = [exp.alias_(col(KEY), ident(project.schema.key))]
        cols += [exp.alias_(lw.value(v), ident(f)) for f, v in values.items()]
        return cols, lw.pred(d.pred)

    require_unique_keys(project, as_of)
    q = project.lowerer(as_of).query(project.checked.population, select)
    q = q.order_by(binary_order(col(project.schema.key))).limit(n)
    rows = project.run(q)
    masked = [f for f in shown if f not in values]
    return Sample(d.name, [project.schema.key, *values], rows, masked)


def overlap(project: Project, names: list[str] | None = None, as_of=None) -> Overlap:
    """Pairwise intersections of segments, in one query."""
    from sqlglot import exp

    targets = project.targets(names or project.segment_names, OVERLAP)
    names, preds = [t.name for t in targets], [t.pred for t in targets]
    require_unique_keys(project, as_of)

    def select(lw: Lowerer):
        return [exp.alias_(flag(lw.pred(p)), ident(f"segc_{i}")) for i, p in enumerate(preds)], None

    inner = project.lowerer(as_of).query(project.checked.population, select)
    sums = []
    for i in range(len(names)):
        for j in range(i, len(names)):
            both = col(f"segc_{i}") if i == j else exp.Mul(this=col(f"segc_{i}"), expression=col(f"segc_{j}"))
            sums.append(exp.alias_(exp.Sum(this=both), ident(f"segc_{i}_{j}")))
    q = exp.select(*sums).from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=ident("segc_flags"))))
    row = project.run(q)[0]
    it = iter(row)
    matrix = [[0] * len(names) for _ in names]
    for i in range(len(names)):
        for j in range(i, len(names)):
            matrix[i][j] = matrix[j][i] = int(next(it) or 0)
    return Overlap(names, matrix)


def profiles(project: Project, names, as_of=None, top: int = 5) -> Profiles:
    """The profile of each target, side by side (a segmentation: of each branch)."""
    return Profiles([profile(project, t, as_of, top) for t in project.targets(names, PROFILE)])


def profile(project: Project, name: str | Target, as_of=None, top: int = 5) -> Profile:
    """Each feature in the segment vs the population: mean, stddev and missing share of
    numbers; the most frequent values of strings and booleans."""
    from sqlglot import exp

    d = project.target(name, PROFILE_ONE)
    numeric, categorical = profiled_features(project, d)
    values = project.feature_values(numeric + categorical)
    require_unique_keys(project, as_of)

    def select(lw: Lowerer):
        cond = lw.pred(d.pred)
        out = [exp.alias_(exp.Count(this=exp.Star()), ident("segc_n")),
               exp.alias_(exp.Sum(this=flag(cond)), ident("segc_in"))]
        for f in numeric:
            v = lw.value(values[f])
            inside = exp.Case(ifs=[exp.If(this=cond.copy(), true=v.copy())])
            missing_in = exp.Case(ifs=[exp.If(this=exp.and_(cond.copy(), exp.Is(this=v.copy(), expression=exp.Null())),
                                              true=exp.Literal.number(1))], default=exp.Literal.number(0))
            out += [*moments(v), *moments(inside), exp.Sum(this=missing_in)]
        return out, None

    row = project.run(project.lowerer(as_of).query(project.checked.population, select))[0]
    n_pop, n_in = row[0], int(row[1] or 0)
    stats = []
    for k, f in enumerate(numeric):
        figures = row[2 + 7 * k: 9 + 7 * k]
        stats.append((f, *mean_sd(figures[0:3]), int(figures[0] or 0), *mean_sd(figures[3:6]), figures[6]))
    tops = []
    for f in categorical:

        def select_values(lw: Lowerer, f=f):
            v = lw.value(values[f])
            return [exp.alias_(v, ident("segc_value")), exp.alias_(flag(lw.pred(d.pred)), ident("segc_in"))], None

        inner = project.lowerer(as_of).query(project.checked.population, select_values)
        small = too_few(n_in, n_pop, project.schema.min_group)
        tops.append((f, _top_values(project, inner, top, project.schema.min_group, by_segment=not small)))
    return assemble_profile(d.name, n_pop, n_in, stats, tops, project.schema.min_group)


def profiled_features(project: Project, target: Target) -> tuple[list[str], list[str]]:
    """The (numeric, categorical) features a profile of the target shows."""
    feats = visible(project, target, list(project.schema.features))
    types = {f: project.schema.features[f].type for f in feats}
    return ([f for f in feats if types[f] in ir.NUMERIC], [f for f in feats if types[f] in ("string", "bool")])


def too_few(inside: int, everyone: int, min_group: int) -> bool:
    """Whether figures of `inside` of `everyone` people are of fewer than `min_group`: the
    part's own, or by difference with the whole's shown beside them, the rest's (the one
    rule of profile, the playground's profile and the report)."""
    return 0 < inside < min_group or 0 < everyone - inside < min_group


def assemble_profile(name: str, n_pop, n_in: int, stats, tops, min_group: int) -> Profile:
    """A Profile from its figures: `stats` holds (feature, population mean, stddev, count
    of values, segment mean, stddev, missing in the segment) of each number; `tops` holds
    (feature, top values) of each category, the top values as _top_values returns them
    (shared by `segc profile` and the playground, which computes them another way).

    Figures of fewer than `min_group` people are withheld (None), as a rare value is: a
    segment of one member would show that member's age as its mean and country as 100%,
    and the segment of all but one, beside the population's, the same by difference."""
    withheld = too_few(n_in, n_pop, min_group)
    numbers = []
    for f, mean, sd, present, mean_in, sd_in, missing_in in stats:
        present_in = n_in - int(missing_in or 0)
        hide = withheld or present_in < min_group or too_few(present_in, present, min_group)
        numbers.append(NumericProfile(
            f, None if hide else mean_in, None if hide else sd_in,
            None if withheld else (int(missing_in or 0) / n_in) if n_in else None,
            mean if present >= min_group else None, sd if present >= min_group else None,
            (1 - present / n_pop) if n_pop else None))
    categories = []
    for f, rows in tops:
        rest = (OTHER, n_pop - sum(c for _v, c, _i in rows), n_in - sum(int(i or 0) for _v, _c, i in rows))
        categories.append(CategoryProfile(f, [(value, None if withheld else (int(i or 0) / n_in) if n_in else 0.0,
                                               c / n_pop)
                                              for value, c, i in rows + ([rest] if rest[1] else [])]))
    return Profile(name, n_in, n_pop, numbers, categories, withheld)


OTHER = "(other)"  # every member whose value is not shown, together


def _top_values(project, inner, top: int, min_group: int, by_segment: bool = True) -> list[tuple]:
    """(value, members, members in the segment) of the `top` most frequent values that at
    least `min_group` members of the population share: a value held by fewer (an e-mail
    address, a name) is personal and never printed (profile shows the rest as (other))."""
    from sqlglot import exp

    def grouped(having) -> exp.Select:
        return (exp.select(col("segc_value"), exp.alias_(exp.Count(this=exp.Star()), ident("segc_n")),
                           exp.alias_(exp.Sum(this=col("segc_in")), ident("segc_in")))
                .from_(exp.Subquery(this=inner.copy(), alias=exp.TableAlias(this=ident("segc_values"))))
                .group_by(col("segc_value")).having(having(exp.Count(this=exp.Star()), exp.Literal.number(min_group))))

    # a segment too small to show (assemble_profile) picks its values by the population's
    # counts: the top of its own would put its few members' values first
    order = [exp.Ordered(this=exp.Literal.number(3), desc=True)] if by_segment else []
    shown = grouped(lambda n, k: exp.GTE(this=n, expression=k)).order_by(
        *order, exp.Ordered(this=exp.Literal.number(2), desc=True), binary_order(col("segc_value"))).limit(top)
    return [tuple(r) for r in project.run(shown)]


def require_unique_keys(project: Project, as_of=None, whole_base: bool = False) -> None:
    """Refuse (E715) a population where a key repeats, rather than count a customer twice.
    A query of its own, over the base and what the population reads: at 1M customers it
    costs 2.5-3.3% of a count, less than the same COUNT(DISTINCT) folded into the count's
    scan of the joined features (4-7%; benchmarks/README.md §5). `whole_base`: every row of
    the base (lift's metrics read rows the population leaves out: a key repeated through
    a test account would count a customer twice); a row there without a key joins no one."""
    from segc.run.datacheck import key_problems

    if project.keys_checked and not whole_base:
        return

    def select(lw: Lowerer):
        return key_problems(col(KEY)), None

    rows = project.lowerer(as_of).query(ir.TRUE if whole_base else project.checked.population, select)
    repeated, missing = project.run(rows)[0]
    _refuse_bad_keys(project, repeated, 0 if whole_base else missing,
                     f"the base `{project.schema.base}`" if whole_base else "the population")


def _refuse_bad_keys(project: Project, repeated, missing, where: str = "the population") -> None:
    if repeated or missing:
        from segc.run.datacheck import bad_keys

        raise SegcError(bad_keys(project.schema, int(repeated or 0), int(missing or 0), where))


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

    def to_dict(self) -> list[dict]:
        return [dict(zip(self.columns, map(_plain, r))) for r in self.rows]

    def to_csv(self) -> list[list]:
        return [list(self.columns), *([_plain(v) for v in r] for r in self.rows)]


@dataclass(frozen=True)
class Overlap:
    names: list[str]
    matrix: list[list[int]]  # [i][j] = |i and j|; the diagonal holds the sizes

    def to_csv(self) -> list[list]:
        n = len(self.names)
        return [["a", "b", "both", "jaccard"],
                *([self.names[i], self.names[j], self.matrix[i][j], f"{self.jaccard(i, j):.6f}"]
                  for i in range(n) for j in range(n))]

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
    withheld: bool = False  # fewer members than min_group: the segment's figures are not shown

    def to_dict(self) -> dict:
        from dataclasses import asdict

        return asdict(self)


@dataclass(frozen=True)
class Profiles:
    """Profiles of several targets (a segmentation's branches), to show side by side."""
    profiles: list[Profile]

    def to_dict(self) -> dict:
        return {"profiles": [p.to_dict() for p in self.profiles]}


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

    def to_csv(self) -> list[list]:
        """One line per cell: from, to, count, the row's share."""
        out = [["from", "to", "count", "row_share"]]
        for r in self.rows:
            for c in self.columns:
                share = self.row_share(r, c)
                out.append([r, c, self.counts.get((r, c), 0), "" if share is None else f"{share:.6f}"])
        return out

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


def _plain(value):
    """Dates as ISO text in JSON and CSV."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
