"""Profile and overlap on the playground's feature matrix, within the issue's 300 ms at
1M customers. What does not depend on the edited text (the population's figures, each
segment's size) is computed once per matrix and kept; what does is one query over the
rows of the matrix that the text selects (WHERE, not a CASE per aggregate over every
row): one for the numbers, one for every category's value counts (GROUPING SETS), one
for the overlap with every segment. The figures are those of preview.profile (its
assemble_profile, the same min_group rule and order of values) and state.overlap_with."""
from __future__ import annotations

from sqlglot import exp

from segc.backend.lower import Lowerer
from segc.backend.trees import flag, ident
from segc.check.policy import may_meet_ad_hoc
from segc.backend.moments import mean_sd, moments
from segc.preview import OVERLAP, PROFILE_ONE, assemble_profile, profiled_features, too_few


def _cache(view) -> dict:
    # one per matrix: a matrix is rebuilt (a new view) whenever its data change
    if not hasattr(view, "fast_cache"):
        view.fast_cache = {}
    return view.fast_cache


def _run(view, as_of, select, group: list | None = None):
    q = view.lowerer(as_of).query(view.checked.population, select)
    if group:
        q.set("group", exp.Group(expressions=[exp.GroupingSets(expressions=[exp.Paren(this=g) for g in group])]))
    return view.run(q)


def _numbers(view, as_of, numeric: list[str], where=None) -> list:
    """[rows, then (mean, stddev, count of values) of each number] of the rows selected."""
    values = view.feature_values(numeric)

    def select(lw: Lowerer):
        out = [exp.Count(this=exp.Star())]
        for f in numeric:
            v = lw.value(values[f])
            out += moments(v)
        return out, (where(lw) if where else None)

    row = _run(view, as_of, select)[0]
    return [row[0], *(x for k in range(len(numeric)) for x in (*mean_sd(row[1 + 3 * k: 4 + 3 * k]),
                                                                int(row[1 + 3 * k] or 0)))]


def _value_counts(view, as_of, categorical: list[str], where=None) -> dict[str, dict]:
    """{feature: {value: rows}} of the rows selected, every category in one query."""
    if not categorical:
        return {}
    values = view.feature_values(categorical)
    names = [f"segc_v_{i}" for i in range(len(categorical))]

    def select(lw: Lowerer):
        out = [exp.alias_(lw.value(values[f]), ident(n)) for f, n in zip(categorical, names)]
        out += [exp.Anonymous(this="GROUPING", expressions=[ident(n)]) for n in names]
        return out + [exp.Count(this=exp.Star())], (where(lw) if where else None)

    counts: dict[str, dict] = {f: {} for f in categorical}
    k = len(categorical)
    for row in _run(view, as_of, select, [ident(n) for n in names]):
        i = list(row[k:2 * k]).index(0)  # the one value this row is grouped by
        counts[categorical[i]][row[i]] = int(row[-1])
    return counts


def _population(view, as_of) -> tuple:
    """(population size, {number: (mean, stddev, count)}, {category: {value: rows}}) of
    every feature a profile may show, once per matrix."""
    cache = _cache(view)
    if "population" not in cache:
        types = {f: fd.type for f, fd in view.schema.features.items()}
        from segc import ir

        numeric = [f for f, t in types.items() if t in ir.NUMERIC]
        categorical = [f for f, t in types.items() if t in ("string", "bool")]
        row = _numbers(view, as_of, numeric)
        cache["population"] = (row[0], {f: tuple(row[1 + 3 * k: 4 + 3 * k]) for k, f in enumerate(numeric)},
                               _value_counts(view, as_of, categorical))
    return cache["population"]


def _top(pop: dict, inside: dict, top: int, min_group: int) -> list[tuple]:
    """(value, rows, rows in the segment) as preview._top_values orders them: values that
    at least min_group members share, most in the segment first, then most in the
    population, then by value (NULL last)."""
    shown = [(v, n, inside.get(v, 0)) for v, n in pop.items() if n >= min_group]
    shown.sort(key=lambda r: (-r[2], -r[1], r[0] is None, r[0] if r[0] is not None else ""))
    return shown[:top]


def matrix_profile(view, name, as_of=None, top: int = 5):
    """preview.profile's Profile, computed on the matrix (`view`, a MatrixProject)."""
    d = view.target(name, PROFILE_ONE)
    numeric, categorical = profiled_features(view, d)
    n_pop, pop_numbers, pop_values = _population(view, as_of)
    where = lambda lw: lw.pred(d.pred)  # noqa: E731
    row = _numbers(view, as_of, numeric, where)
    n_in = int(row[0] or 0)
    stats = []
    for k, f in enumerate(numeric):
        mean_in, sd_in, present_in = row[1 + 3 * k: 4 + 3 * k]
        stats.append((f, *pop_numbers[f], mean_in, sd_in, n_in - int(present_in or 0)))
    inside = _value_counts(view, as_of, categorical, where)
    min_group = view.schema.min_group  # too few in or out: ranked by the population (preview._top_values)
    small = too_few(n_in, n_pop, min_group)
    tops = [(f, _top(pop_values[f], {} if small else inside[f], top, view.schema.min_group)) for f in categorical]
    return assemble_profile(d.name, n_pop, n_in, stats, tops, view.schema.min_group)


def matrix_overlap(view, target, as_of=None) -> tuple[int, list[tuple[str, int, int]]]:
    """state.overlap_with's answer on the matrix: each segment's size kept per matrix, the
    rows in both counted over the target's rows only."""
    others = [t for t in view.targets(view.segment_names, OVERLAP) if may_meet_ad_hoc(t)]  # policy.py

    def sums(where=None):
        def select(lw: Lowerer):
            out = [exp.Count(this=exp.Star())] + [exp.Sum(this=flag(lw.pred(t.pred))) for t in others]
            return out, (where(lw) if where else None)
        return [int(x or 0) for x in _run(view, as_of, select)[0]]

    cache = _cache(view)
    if "sizes" not in cache:
        cache["sizes"] = sums()[1:]
    row = sums(lambda lw: lw.pred(target.pred))
    return row[0], [(t.name, n, both) for t, n, both in zip(others, cache["sizes"], row[1:])]
