"""`segc lift NAME`: the readout of an experiment of segc.yml (DESIGN §8.3).

Membership is frozen at `assigned_at`: the arms are read from the snapshot `segc snapshot`
stored at that date when it holds both arms under their current definitions
(lift_frozen.py), else evaluated point-in-time at that as-of (the population too), so that
members who later leave or join a segment stay in the arm they were assigned to. The metrics are evaluated with the as-of at `until`, which lets
every event of [assigned_at, until) in (`during experiment` bounds them); the members come
from the arms, whatever the population says at `until`. Both sides are one query: the
arms joined to the metrics on the key. The statistics are computed in Python
(lift_stats.py, scipy) over the per-member rows. A member in both arms belongs to
neither (counted in `overlap`, with a warning)."""
from __future__ import annotations

from sqlglot import exp

from segc import ir
from segc.apps.lift_frozen import Arms, arms
from segc.apps.lift_stats import readout
from segc.backend.lower import KEY
from segc.backend.trees import alias, col, flag, ident, make_select
from segc.check.experiments import PROPORTION
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.preview import require_unique_keys, too_few
from segc.backend.rewrites import binary_order

TARGET, CONTROL = "segc_target", "segc_control"


def experiment(project, name: str):
    """The checked experiment `name`; E977 (with a did-you-mean) when there is none."""
    if name in project.experiments:
        return project.experiments[name]
    known = list(project.experiments)
    close = suggest(name, known)
    raise SegcError(Diagnostic("E977", f"unknown experiment `{name}`", hints=(
        f"did you mean `{close}`?" if close else
        "experiments: " + (", ".join(known) if known else "none; define them under `experiments:` in segc.yml"),)))


def lift_query(project, e, frozen: Arms | None = None) -> exp.Select:
    """Per member of either arm at assigned_at (from the stored snapshot when `frozen`
    has one): the two arm flags and every metric (a proportion as 1/0, a mean's value,
    NULL when missing), ordered by key."""
    def point_in_time(lw):
        t, c = lw.pred(e.target.pred), lw.pred(e.control.pred)
        return ([alias(col(KEY), KEY), alias(flag(t), TARGET), alias(flag(c), CONTROL)],
                exp.Or(this=exp.Paren(this=t.copy()), expression=exp.Paren(this=c.copy())))

    def metrics(lw):
        out = [alias(col(KEY), KEY)]
        for i, m in enumerate(e.metrics.values()):
            value = flag(lw.pred(m.pred)) if m.kind == PROPORTION else lw.value(m.value)
            out.append(alias(value, f"segc_m{i}"))
        return out, None

    if frozen is not None and frozen.snapshot is not None:
        left = frozen.select(TARGET, CONTROL)
    else:
        left = project.lowerer(e.assigned_at).query(project.checked.population, point_in_time)
    right = project.lowerer(e.until).query(ir.TRUE, metrics)
    cols = [col(TARGET, "a"), col(CONTROL, "a")] + [col(f"segc_m{i}", "m") for i in range(len(e.metrics))]
    join = exp.Join(this=exp.Subquery(this=right, alias=exp.TableAlias(this=ident("m"))), side="LEFT",
                    on=exp.EQ(this=col(KEY, "a"), expression=col(KEY, "m")))
    q = make_select(cols, exp.Subquery(this=left, alias=exp.TableAlias(this=ident("a"))), None, joins=[join])
    return q.order_by(binary_order(col(KEY, "a")), copy=False)


def arms_of(rows, metrics) -> tuple[dict, int, int, int]:
    """The readout's input from the query's rows: per metric (kind, target values,
    control values), the arm sizes, and how many members were in both arms (left out)."""
    values = {name: (m.kind, [], []) for name, m in metrics.items()}
    n_t = n_c = overlap = 0
    for row in rows:
        in_t, in_c = bool(row[0]), bool(row[1])
        if in_t and in_c:
            overlap += 1
            continue
        n_t, n_c = n_t + in_t, n_c + in_c
        for (name, m), v in zip(metrics.items(), row[2:]):
            if v is None:  # avg over no events: missing, left out of that metric
                continue
            values[name][1 if in_t else 2].append(bool(v) if m.kind == PROPORTION else float(v))
    return values, n_t, n_c, overlap


def lift(project, name: str, table: str | None = None) -> dict:
    """Every figure of the readout of experiment `name`, as plain numbers. `table`: the
    warehouse table of the snapshots (PostgreSQL), as `segc snapshot --table`."""
    e = experiment(project, name)
    frozen = arms(project, e, table)
    # E715 as every other command: a repeated key would count a customer more than once, in
    # the arms (the population at assigned_at when point-in-time) and in the metrics (at
    # until, over every row of the base: the members' rows whatever the population says then)
    if frozen.snapshot is None:
        require_unique_keys(project, e.assigned_at)
    require_unique_keys(project, e.until, whole_base=True)
    values, n_t, n_c, overlap = arms_of(project.run(lift_query(project, e, frozen)), e.metrics)
    out = readout(values, n_t, n_c, e.expected_share)
    notes = withhold(out["metrics"], project.schema.min_group)
    warnings = [*frozen.warnings, *(w for w in (out.pop("warning"),) if w)]
    if overlap:
        warnings.append(f"{overlap} members were in both arms at assigned_at and are left out of the readout")
    return {"experiment": e.name, "target": e.target.name, "control": e.control.name,
            "assigned_at": e.assigned_at.isoformat(), "until": e.until.isoformat(),
            "membership": frozen.membership, "overlap": overlap,
            "expressions": {k: m.text for k, m in e.metrics.items()}, **out, "warnings": warnings, "notes": notes}


# a metric's figures, all withheld together: with one arm's hidden, the difference (and its
# interval, the relative, the p-value) beside the other's would give it back
FIGURES = ("target", "control", "difference", "ci_low", "ci_high", "relative", "relative_low", "relative_high",
           "p_value")


def withhold(metrics: dict, min_group: int) -> list[str]:
    """Withhold (None, `withheld` true) the figures of a metric whose values come from
    fewer than `min_group` people in either arm (preview.too_few, the one rule of profile
    and report: a one-member control's mean revenue is that customer's revenue); the
    counts stay. Returns the note saying which, or nothing."""
    small = []
    for name, m in metrics.items():
        m["withheld"] = too_few(m["n_target"], m["n_target"] + m["n_control"], min_group)
        if m["withheld"]:
            small.append(name)
            m.update(dict.fromkeys(FIGURES))
    if not small:
        return []
    return [f"fewer people than min_group (segc.yml, {min_group}) in an arm of {', '.join(f'`{n}`' for n in small)}: "
            "the figures are not shown (—), as each would be one of a few people's"]
