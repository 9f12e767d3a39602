"""The KPIs of `segc report` (segc.yml `kpis:`), checked against the project.

Each KPI is measured on the members of a segment (and of the whole population):

    count_of: COND      how many members meet COND
    share_of: COND      count_of / size (missing when the segment is empty)
    sum: VALUE          total of VALUE; a missing value adds nothing (0 when all are missing)
    avg: VALUE          mean of VALUE over the members where it is present (missing if none)
    per_customer: VALUE sum / size: a missing value counts as 0, the member still counts

COND and VALUE are written in the segment language; COND may name segments. Sensitive
features are refused (a KPI is shown for every segment, whatever it allows).
"""
from __future__ import annotations

from dataclasses import dataclass

from segc import ir
from segc.front.errors import Diagnostic, SegcError
from segc.front.parser import parse_expression
from segc.schema.segc_yml import Schema

CONDITION_KINDS = ("count_of", "share_of")
VALUE_KINDS = ("sum", "avg", "per_customer")


@dataclass(frozen=True)
class Kpi:
    name: str
    kind: str  # count_of, share_of, sum, avg, per_customer
    text: str  # the expression as written
    description: str
    pred: ir.Pred | None = None  # count_of, share_of
    value: ir.Value | None = None  # sum, avg, per_customer
    features: frozenset[str] = frozenset()

    @property
    def is_share(self) -> bool:
        """A share (0..1): its change is in points, a relative change means little."""
        return self.kind == "share_of"

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "expression": self.text, "description": self.description}


def check_kpis(schema: Schema, checker) -> dict[str, Kpi]:
    """Every KPI of segc.yml parsed and checked; raises SegcError with all the problems."""
    out: dict[str, Kpi] = {}
    diags: list[Diagnostic] = []
    for k in schema.kpis.values():
        text = k.expression
        try:
            expr = parse_expression(text.span.source, text.text, text.offset)
            if k.kind in CONDITION_KINDS:
                pred, used = checker.check_expression(expr)
                out[k.name] = Kpi(k.name, k.kind, text.text, k.description, pred=pred, features=used)
                continue
            value, used = checker.check_value_expression(expr)
        except SegcError as e:
            diags.extend(_for_kpi(d) for d in e.diagnostics)
            continue
        if value.type not in ir.NUMERIC:
            what = "a condition" if value.type == "bool" else f"a {value.type}"
            diags.append(Diagnostic(
                "E942", f"KPI `{k.name}`: `{k.kind}:` needs a number, and this is {what}", expr.span,
                hints=("for a condition use `count_of:` or `share_of:`" if value.type == "bool" else
                       "sum, avg and per_customer take an int or float feature, or arithmetic over them",)))
            continue
        out[k.name] = Kpi(k.name, k.kind, text.text, k.description, value=value, features=used)
    if diags:
        raise SegcError(diags)
    return out


def _for_kpi(d: Diagnostic) -> Diagnostic:
    if d.code != "E501":
        return d
    # no @allow_sensitive here: a KPI is shown for every segment of the report
    return Diagnostic(d.code, d.message + " and may not be used by a KPI", d.span,
                      hints=("a KPI is measured on every segment, so sensitive features are never allowed in one",))
