"""The KPIs of `segc report` (segc.yml `kpis:`), checked against the project.

Each KPI is measured on the members of a segment (and of the whole population):

    count_of: COND      how many members meet COND
    share_of: COND      count_of / size (missing when the segment is empty)
    sum: VALUE          total of VALUE; a missing value adds nothing (0 when all are missing)
    avg: VALUE          mean of VALUE over the members where it is present (missing if none)
    per_customer: VALUE sum / size: a missing value counts as 0, the member still counts
    ratio: [NUM, DEN]   sum of NUM / sum of DEN over the members (not a mean of ratios): each
                        sum on its own (a missing value adds nothing to its sum, so a member
                        whose DEN is missing still adds its NUM); missing when the sum of DEN
                        is 0 or every DEN is missing

A KPI may carry `targets:` (min and/or max), which the report compares its value with.
COND and VALUE are written in the segment language; COND may name segments. Sensitive
features are refused (a KPI is shown for every segment, whatever it allows).
"""
from __future__ import annotations


from segc import ir
from segc.front.errors import Diagnostic, SegcError
from segc.front.parser import parse_expression
from segc.schema.segc_yml import KpiDef, Schema, Targets, Text
from segc.records import record

CONDITION_KINDS = ("count_of", "share_of")
VALUE_KINDS = ("sum", "avg", "per_customer", "ratio")


@record
class Kpi:
    name: str
    kind: str  # count_of, share_of, sum, avg, per_customer, ratio
    text: str  # the expression as written (ratio: the numerator)
    description: str
    pred: ir.Pred | None = None  # count_of, share_of
    value: ir.Value | None = None  # sum, avg, per_customer; ratio: the numerator
    features: frozenset[str] = frozenset()
    denominator: ir.Value | None = None  # ratio only
    denominator_text: str | None = None
    targets: Targets | None = None

    @property
    def is_share(self) -> bool:
        """A share (0..1): its change is in points, a relative change means little."""
        return self.kind == "share_of"

    @property
    def definition(self) -> str:
        """As segc.yml writes it: `share_of: email_optin`, `ratio: [revenue, orders]`."""
        written = f"[{self.text}, {self.denominator_text}]" if self.kind == "ratio" else self.text
        return f"{self.kind}: {written}"

    def to_dict(self) -> dict:
        expression = [self.text, self.denominator_text] if self.kind == "ratio" else self.text
        targets = None if self.targets is None else {"min": self.targets.min, "max": self.targets.max}
        return {"name": self.name, "kind": self.kind, "expression": expression, "description": self.description,
                "targets": targets}


def check_kpis(schema: Schema, checker) -> dict[str, Kpi]:
    """Every KPI of segc.yml parsed and checked; raises SegcError with all the problems."""
    out: dict[str, Kpi] = {}
    diags: list[Diagnostic] = []
    for k in schema.kpis.values():
        common = dict(name=k.name, kind=k.kind, text=k.expression.text, description=k.description,
                      targets=k.targets)
        if k.kind in CONDITION_KINDS:
            try:
                pred, used = checker.check_expression(_parse(k.expression))
            except SegcError as e:
                diags.extend(_for_kpi(d) for d in e.diagnostics)
                continue
            out[k.name] = Kpi(**common, pred=pred, features=used)
            continue
        # both sides of a ratio are checked, so that one run reports the problems of each
        sides = [_number(k, t, checker) for t in (k.expression, k.denominator) if t is not None]
        problems = [d for side in sides if isinstance(side, list) for d in side]
        if problems:
            diags.extend(problems)
            continue
        value, used = sides[0]
        denominator, used_too = sides[1] if len(sides) > 1 else (None, frozenset())
        out[k.name] = Kpi(**common, value=value, features=used | used_too, denominator=denominator,
                          denominator_text=k.denominator.text if k.denominator else None)
    if diags:
        raise SegcError(diags)
    return out


def _parse(text: Text):
    return parse_expression(text.span.source, text.text, text.offset)


def _number(k: KpiDef, text: Text, checker):
    """(value, features used) of a KPI's number, or its problems: those of the expression
    (E1xx, E2xx, E501), or E942 when it is not a number."""
    try:
        expr = _parse(text)
        value, used = checker.check_value_expression(expr)
    except SegcError as e:
        return [_for_kpi(d) for d in e.diagnostics]
    if value.type in ir.NUMERIC:
        return value, used
    what = "a condition" if value.type == "bool" else f"a {value.type}"
    side = "" if k.denominator is None else \
        "the numerator of " if text is k.expression else "the denominator of "
    return [Diagnostic(
        "E942", f"KPI `{k.name}`: {side}`{k.kind}:` needs a number, and this is {what}", expr.span,
        hints=("for a condition use `count_of:` or `share_of:`" if value.type == "bool" else
               "sum, avg, per_customer and ratio take an int or float feature, or arithmetic over them",))]


def _for_kpi(d: Diagnostic) -> Diagnostic:
    if d.code != "E501":
        return d
    # no @allow_sensitive here: a KPI is shown for every segment of the report
    return Diagnostic(d.code, d.message + " and may not be used by a KPI", d.span,
                      hints=("a KPI is measured on every segment, so sensitive features are never allowed in one",))
