"""The experiments of `segc lift` (segc.yml `experiments:`, DESIGN §8.3), checked against
the project like segments: the arms through the one resolver (check/targets.py), the
metrics written in the language over the events of `during experiment`, which is the
fixed range [assigned_at, until), and their sensitive reads through the one policy
(check/policy.py, route "experiment metric": allowed only by the experiment's own
`allow_sensitive:`).

A metric that is a condition is a proportion (the share of the arm meeting it); a metric
that is a number is a mean per member. Missing values: a sum over no events is 0 (the
member counts), an avg/min/max over no events is missing and that member is left out of
that metric's mean (its n says how many were kept)."""
from __future__ import annotations

import dataclasses
import datetime as dt

from segc import ir
from segc.check.targets import BRANCH, SEGMENT, Takes, Target, resolve
from segc.front.errors import Diagnostic, SegcError
from segc.front.parser import parse_expression
from segc.records import record

PROPORTION, MEAN = "proportion", "mean"
TAKES = Takes("an experiment's arm", frozenset({SEGMENT, BRANCH}), None)


@record
class Metric:
    name: str
    kind: str  # PROPORTION (pred) or MEAN (value)
    text: str
    pred: ir.Pred | None = None
    value: ir.Value | None = None


@record
class Experiment:
    name: str
    target: Target
    control: Target
    assigned_at: dt.date
    until: dt.date
    metrics: dict[str, Metric]
    expected_share: float | None  # the target's expected share of both arms (from `holdout N%`)
    description: str = ""
    warnings: tuple[Diagnostic, ...] = ()  # W978: arms not provably disjoint

    @property
    def window(self) -> ir.Window:
        return experiment_window(self.assigned_at, self.until)


def experiment_window(assigned_at: dt.date, until: dt.date) -> ir.Window:
    """`during experiment`: from assigned_at included to until excluded."""
    return ir.Window(ir.Const(assigned_at, "date"), ir.Const(until, "date"))


def check_experiments(schema, checker, checked, features) -> dict:
    """Every experiment of segc.yml checked; raises SegcError with all the problems."""
    out, diags = {}, []
    for e in schema.experiments.values():
        try:
            out[e.name] = _experiment(e, checker, checked, features)
        except SegcError as err:
            diags.extend(err.diagnostics)
    if diags:
        raise SegcError(diags)
    return out


def _experiment(e, checker, checked, features) -> Experiment:
    diags: list[Diagnostic] = []
    arms = []
    for text in (e.target, e.control):
        try:
            arms.append(resolve(checked, features, [text.text], TAKES)[0])
        except SegcError as err:  # the resolver knows no segc.yml position: give the arm's
            diags.extend(dataclasses.replace(d, span=d.span or text.span,
                                             message=f"experiment `{e.name}`: {d.message}") for d in err.diagnostics)
    if e.until <= e.assigned_at:
        diags.append(Diagnostic("E975", f"experiment `{e.name}` ends (`until: {e.until}`) before it starts "
                                f"(`assigned_at: {e.assigned_at}`)", e.until_span,
                                hints=("`until` is the first day after the experiment: give a later date",)))
    metrics = {}
    for name, text in e.metrics.items():
        try:
            metrics[name] = _metric(e, name, text, checker)
        except SegcError as err:
            diags.extend(err.diagnostics)
    if diags:
        raise SegcError(diags)
    warnings = () if disjoint(arms[0].pred, arms[1].pred) else (Diagnostic(
        "W978", f"experiment `{e.name}`: its target `{arms[0].name}` and control `{arms[1].name}` are not "
        "provably disjoint", e.control.span, severity="warning",
        hints=("a member of both arms is left out of the readout; `segc lift` counts them (`overlap`)",
               "the usual split: `control = S and holdout p% seed \"...\"`, `target = S and not control`")),)
    return Experiment(e.name, arms[0], arms[1], e.assigned_at, e.until, metrics,
                      expected_share(arms[0].pred, arms[1].pred), e.description, warnings)


def _conjuncts(pred) -> set:
    """What a condition requires: the items of its (nested) `and`s, or itself."""
    if isinstance(pred, ir.And):
        return set().union(*(_conjuncts(item) for item in pred.items))
    return {pred}


def disjoint(a: ir.Pred, b: ir.Pred) -> bool:
    """True when one arm requires `not Q` and the other requires all that Q requires (so
    it implies Q): syntactic, after segments are inlined, which proves the usual split
    (`control = S and holdout`, `target = S and not control`). False means not proven,
    not that the arms overlap."""
    ca, cb = _conjuncts(a), _conjuncts(b)

    def excludes(x: set, y: set) -> bool:
        return any(isinstance(c, ir.Not) and _conjuncts(c.operand) <= y for c in x)
    return excludes(ca, cb) or excludes(cb, ca)


def _metric(e, name: str, text, checker) -> Metric:
    expr = parse_expression(text.span.source, text.text, text.offset)
    policy = checker.experiment_policy(e.name, e.allow_sensitive)
    checker.experiment_window = experiment_window(e.assigned_at, e.until)
    try:
        try:
            value, _used = checker.check_value_expression(expr, policy)
        except SegcError as err:  # a condition (`exists(...)`, a comparison) is no value: a proportion
            if any(d.code != "E302" for d in err.diagnostics):
                raise
            value = None
        if value is None or value.type == "bool":
            pred, _used = checker.check_expression(expr, policy)
            return Metric(name, PROPORTION, text.text, pred=pred)
    finally:
        checker.experiment_window = None
    if value.type not in ir.NUMERIC:
        raise SegcError(Diagnostic(
            "E976", f"experiment `{e.name}`: metric `{name}` is a {value.type}, neither a condition nor a number",
            expr.span, hints=("a condition gives a proportion (`exists(orders during experiment)`), a number a "
                              "mean per member (`sum(orders.amount during experiment)`)",)))
    return Metric(name, MEAN, text.text, value=value)


def expected_share(target: ir.Pred | None, control: ir.Pred | None) -> float | None:
    """The target's expected share of both arms when one arm holds `holdout p%` and the
    other its negation (the usual split, examples/retail/segments/experiments.seg); None
    when no split is known, and the sample-ratio test is then not testable."""
    held_c, negated_c = _holdouts(control)
    held_t, negated_t = _holdouts(target)
    if len(held_c) == 1 and held_c & negated_t and not held_t:
        return 1 - next(iter(held_c)).percent / 100
    if len(held_t) == 1 and held_t & negated_c and not held_c:
        return next(iter(held_t)).percent / 100
    return None


def _holdouts(pred) -> tuple[set, set]:
    """The holdouts a condition requires and those it requires not to hold."""
    held, negated = set(), set()

    def walk(node, neg: bool) -> None:
        if isinstance(node, ir.Holdout):
            (negated if neg else held).add(node)
        elif isinstance(node, ir.Not):
            walk(node.operand, not neg)
        elif isinstance(node, (ir.And, ir.Or)):
            for item in node.items:
                walk(item, neg)
    walk(pred, False)
    return held, negated
