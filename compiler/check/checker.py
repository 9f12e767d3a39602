"""Syntax tree -> checked program (ir): resolves names, checks types, binds parameters,
expands references (finding cycles), and applies the sensitive-feature policy. Reports
every independent problem, not only the first."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from segc.front import ast

from segc.backend import holdout

from segc import ir
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.schema.segc_yml import FeatureDef, Schema
from segc.front.source import Span

# name -> (min args, max args); types are checked in _call
FUNCTIONS = {
    "lower": (1, 1), "upper": (1, 1), "length": (1, 1), "abs": (1, 1), "round": (1, 2),
    "floor": (1, 1), "ceil": (1, 1), "coalesce": (2, 99), "least": (2, 99), "greatest": (2, 99),
    "days_since": (1, 1), "year_of": (1, 1), "month_of": (1, 1), "quantile_score": (2, 2),
}
TEMPORAL = ("date", "timestamp")
ERROR = "error"  # the type of something already reported: compatible with everything


class _Reported(Exception):
    """Abandon the current node; its diagnostic has been recorded."""


@dataclass
class Definition:
    """A checked segment, or one branch of a segmentation (name `seg.branch`)."""
    name: str
    pred: ir.Pred
    node: ast.Segment | ast.Segmentation
    file: str
    features: frozenset[str] = frozenset()
    sensitive: dict[str, str] = field(default_factory=dict)  # feature -> reason allowed


@dataclass
class SegmentationInfo:
    name: str
    node: ast.Segmentation
    file: str
    branches: list[tuple[str, ir.Pred | None]]  # None: else
    features: frozenset[str] = frozenset()


@dataclass
class Checked:
    schema: Schema
    segments: dict[str, Definition]
    segmentations: dict[str, SegmentationInfo]
    population: ir.Pred
    warnings: list[Diagnostic]
    params: dict[str, object]
    scores: dict[str, ir.Pred] = field(default_factory=dict)  # score -> its checked target


def annotation(node, name: str):
    for a in getattr(node, "annotations", ()):
        if a.name == name:
            return a
    return None


class Checker:
    def __init__(self, schema: Schema, modules: list[ast.Module], params: dict[str, object] | None = None,
                 models: dict | None = None):
        self.schema = schema
        # scores (score_check.py): fitted models by name; `fitting` leaves references unresolved
        self.models = dict(models or {})
        self.fitting = False
        self.broken_scores: set[str] = set()
        self.score_context: str | None = None
        self.diags: list[Diagnostic] = []
        self.params = dict(params or {})
        self.defs: dict[str, tuple[ast.Segment | ast.Segmentation, str]] = {}
        # definitions with a syntax error: already reported, so references to them are quiet
        self.broken = {name for module in modules for name in module.broken} | schema.broken
        for module in modules:
            for d in module.definitions:
                self._declare(d, module.file)
        self.done: dict[str, tuple[ir.Pred, frozenset[str]]] = {}
        self.stack: list[str] = []
        self.where_cache: dict[str, ir.Pred | None] = {}
        self.agg_cache: dict[str, ir.Agg | None] = {}  # None: its error is already reported

    # ---- declarations ----
    def _declare(self, d, file: str) -> None:
        span = d.name_span or d.span
        if d.name in self.defs:
            other = self.defs[d.name][0].name_span
            where = f" (first defined at {other.file}:{other.line})" if other else ""
            self._error("E213", f"`{d.name}` is defined twice{where}", span, "rename one of them")
            return
        if d.name in self.schema.features:
            self._error("E203", f"`{d.name}` is already the name of a feature", span,
                        "give the segment another name")
            return
        if d.name in self.schema.scores:
            self._error("E939", f"`{d.name}` is already the name of a score", span,
                        "give the segment another name")
            return
        self.defs[d.name] = (d, file)
        self._check_annotations(d)
        if isinstance(d, ast.Segmentation):
            seen = set()
            for i, b in enumerate(d.branches):
                if b.name in seen:
                    self._error("E206", f"branch `{b.name}` appears twice in `{d.name}`", b.name_span,
                                f"rename one of them: `{d.name}.{b.name}` must name one branch")
                seen.add(b.name)
                if b.expr is None and i != len(d.branches) - 1:
                    self._error("E207", "`else` must be the last branch", b.span,
                                "the branches after it could never match")

    # annotation -> (what its arguments must be, a check of the arguments)
    ANNOTATIONS = {
        "owner": ("one string, e.g. @owner(\"crm\")",
                  lambda args: len(args) == 1 and isinstance(args[0], str) and args[0].strip()),
        "tags": ("names or strings, e.g. @tags(rfm, loyalty)",
                 lambda args: len(args) >= 1 and all(isinstance(a, str) for a in args)),
        "min_size": ("one whole number, e.g. @min_size(500)",
                     lambda args: len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool)),
        "allow_sensitive": ("one non-empty reason, e.g. @allow_sensitive(\"legal basis: consent\")",
                            lambda args: len(args) == 1 and isinstance(args[0], str) and args[0].strip()),
    }

    def _check_annotations(self, d) -> None:
        seen = set()
        for a in d.annotations:
            rule = self.ANNOTATIONS.get(a.name)
            if rule is None:
                close = suggest(a.name, self.ANNOTATIONS)
                self._error("E214", f"unknown annotation `@{a.name}`", a.span,
                            f"did you mean `@{close}`?" if close else
                            "annotations: " + ", ".join(f"@{n}" for n in self.ANNOTATIONS))
            elif not rule[1](a.args):
                self._error("E214", f"`@{a.name}` takes {rule[0]}", a.span)
            elif a.name in seen:
                self._error("E214", f"`@{a.name}` is given twice", a.span)
            seen.add(a.name)

    def _error(self, code, message, span: Span | None, *hints, label: str = "") -> None:
        self.diags.append(Diagnostic(code, message, span, label=label, hints=tuple(h for h in hints if h)))

    def _warn(self, code, message, span, *hints) -> None:
        self.diags.append(Diagnostic(code, message, span, hints=tuple(hints), severity="warning"))

    # ---- entry point ----
    def check(self) -> Checked:
        population = ir.TRUE
        if self.schema.population is not None:
            scope = self._features_scope()
            population = self._embedded_pred(self.schema.population, scope) or ir.TRUE
            self._population_policy(scope.used)
        # every aggregate feature of segc.yml is checked (its `where:`, its type), used or not
        for f in self.schema.features.values():
            if f.kind == "agg":
                try:
                    self._agg_feature(f, f.span)
                except _Reported:
                    pass
        from segc.check.scores import check_scores

        score_targets = check_scores(self) if self.schema.scores else {}
        segments: dict[str, Definition] = {}
        segmentations: dict[str, SegmentationInfo] = {}
        for name, (node, file) in self.defs.items():
            resolved = self._resolve(name, node.name_span)
            if resolved is None:
                continue
            if isinstance(node, ast.Segment):
                pred, feats = resolved
                segments[name] = Definition(name, pred, node, file, feats, self._policy(node, feats))
            else:
                info = self._segmentation_info(node, file)
                segmentations[name] = info
                allowed = self._policy(node, info.features)  # once: the branches share it
                for bname, pred in self._branch_preds(info):
                    segments[f"{name}.{bname}"] = Definition(
                        f"{name}.{bname}", pred, node, file, info.features, dict(allowed))
        errors = [d for d in self.diags if d.is_error]
        if errors:
            raise SegcError(self.diags)
        return Checked(self.schema, segments, segmentations, population,
                       [d for d in self.diags if not d.is_error], self.params, scores=score_targets)

    def check_expression(self, expr: ast.Expr) -> tuple[ir.Pred, frozenset[str]]:
        """An ad-hoc expression against the checked project (callable many times)."""
        self.diags = []
        scope = self._features_scope()
        try:
            pred = self._pred(expr, scope)
        except _Reported:
            pred = ir.FALSE
        used = frozenset(scope.used)
        self._policy_expr(expr, used)
        if any(d.is_error for d in self.diags):
            raise SegcError(self.diags)
        return pred, used

    def check_value_expression(self, expr: ast.Expr) -> tuple[ir.Value, frozenset[str]]:
        """An ad-hoc value (what a report's KPI sums or averages); as check_expression."""
        self.diags = []
        scope = self._features_scope()
        try:
            value = self._value(expr, scope)
        except _Reported:
            value = None
        used = frozenset(scope.used)
        self._policy_expr(expr, used)
        if any(d.is_error for d in self.diags):
            raise SegcError(self.diags)
        return value, used

    def _policy_expr(self, expr, used) -> None:
        for f in sorted(used):
            if self.schema.features[f].sensitive:
                self._error("E501", f"`{f}` is a sensitive feature", expr.span,
                            "sensitive features may only be used by a segment annotated "
                            "@allow_sensitive(\"reason\")")

    def _population_policy(self, used) -> None:
        # the population filters every segment, so no segment's @allow_sensitive covers it
        sensitive = sorted(f for f in used if self.schema.features[f].sensitive)
        if sensitive:
            self._error("E501", "the population uses the sensitive feature"
                        f"{'s' if len(sensitive) > 1 else ''} " + ", ".join(f"`{f}`" for f in sensitive),
                        self.schema.population.span,
                        "the population applies to every segment, where @allow_sensitive cannot reach: "
                        "move the condition into the segments that have a legal basis")

    def _policy(self, node, used: frozenset[str]) -> dict[str, str]:
        sensitive = sorted(f for f in used if self.schema.features[f].sensitive)
        if not sensitive:
            return {}
        allow = annotation(node, "allow_sensitive")
        reason = allow.args[0] if allow and allow.args and isinstance(allow.args[0], str) else None
        if reason is None or not reason.strip():
            self._error("E501", f"`{node.name}` uses the sensitive feature{'s' if len(sensitive) > 1 else ''} "
                        + ", ".join(f"`{f}`" for f in sensitive), node.name_span,
                        "sensitive features (religion, ethnicity, ...) may not select customers; if a "
                        "legal basis exists, annotate the definition with @allow_sensitive(\"reason\")")
            return {}
        return {f: reason for f in sensitive}

    # ---- definitions and references ----
    def _resolve(self, name: str, use_span: Span | None):
        """Checked condition of a definition (cached); reports reference cycles."""
        if name in self.done:
            return self.done[name]
        if name in self.stack:
            cycle = self.stack[self.stack.index(name):] + [name]
            self._error("E401", "reference cycle: " + " -> ".join(cycle), use_span,
                        "a segment cannot depend on itself")
            raise _Reported
        node, _file = self.defs[name]
        self.stack.append(name)
        try:
            if isinstance(node, ast.Segment):
                scope = self._features_scope()
                try:
                    pred = self._pred(node.expr, scope)
                except _Reported:
                    pred = None
                result = None if pred is None else (pred, frozenset(scope.used))
            else:
                result = self._segmentation(node)
        finally:
            self.stack.pop()
        self.done[name] = result
        return result

    def _segmentation(self, node: ast.Segmentation):
        branches, used = [], set()
        ok = True
        for b in node.branches:
            if b.expr is None:
                branches.append((b.name, None))
                continue
            scope = self._features_scope()
            try:
                branches.append((b.name, self._pred(b.expr, scope)))
            except _Reported:
                ok = False
            used |= scope.used
        if not ok:
            return None
        self._check_shadowed(node, branches)
        return branches, frozenset(used)

    def _segmentation_info(self, node, file) -> SegmentationInfo:
        branches, used = self.done[node.name]
        return SegmentationInfo(node.name, node, file, branches, used)

    @staticmethod
    def _branch_preds(info: SegmentationInfo):
        """First match wins: a branch holds those matched by it and by no earlier branch."""
        earlier: list[ir.Pred] = []
        for name, pred in info.branches:
            this = ir.TRUE if pred is None else pred
            yield name, ir.And(tuple(ir.Not(p) for p in earlier) + (this,)) if earlier else this
            earlier.append(this)

    def _check_shadowed(self, node, branches) -> None:
        for i, (name, pred) in enumerate(branches):
            for earlier_name, earlier in branches[:i]:
                if pred is not None and earlier is not None and _implies(pred, earlier):
                    b = node.branches[i]
                    self._warn("W102", f"branch `{name}` can never match: every customer it selects "
                               f"is already in `{earlier_name}`", b.name_span, "reorder the branches")
                    break

    # ---- scopes ----
    class Scope:
        def __init__(self, kind: str, columns: dict[str, str] | None = None, source: str | None = None):
            self.kind = kind  # features, event
            self.columns = columns or {}
            self.source = source
            self.used: set[str] = set()

    def _features_scope(self):
        return Checker.Scope("features")

    def _embedded_pred(self, text, scope) -> ir.Pred | None:
        from segc.front.parser import parse_expression

        try:
            expr = parse_expression(text.span.source, text.text, text.offset)
            return self._pred(expr, scope)
        except SegcError as e:
            self.diags.extend(e.diagnostics)
        except _Reported:
            pass
        return None

    # ---- conditions ----
    def _pred(self, node: ast.Expr, scope) -> ir.Pred:
        method = getattr(self, "_p_" + type(node).__name__, None)
        if method is not None:
            return method(node, scope)
        value = self._value(node, scope)
        if _type(value) in ("bool", ERROR):
            return ir.IsTrue(value)
        self._error("E302", f"this is {_a(_type(value))}, not a condition", node.span,
                    _condition_hint(node, value))
        raise _Reported

    def _p_And(self, node, scope):
        items = self._all(node.items, lambda n: self._pred(n, scope))
        self._check_empty(node, items)
        return ir.And(tuple(items))

    def _p_Or(self, node, scope):
        return ir.Or(tuple(self._all(node.items, lambda n: self._pred(n, scope))))

    def _p_Not(self, node, scope):
        return ir.Not(self._pred(node.operand, scope))

    def _all(self, nodes, fn):
        """Check every child even when one fails, so that all errors are reported."""
        out, failed = [], False
        for n in nodes:
            try:
                out.append(fn(n))
            except _Reported:
                failed = True
        if failed:
            raise _Reported
        return out

    def _p_Name(self, node: ast.Name, scope):
        if scope.kind == "features" and node.name in self.defs:
            target = self.defs[node.name][0]
            if isinstance(target, ast.Segmentation):
                names = ", ".join(f"`{node.name}.{b.name}`" for b in target.branches)
                self._error("E208", f"`{node.name}` is a segmentation; name one of its branches", node.span,
                            f"write one of {names}")
                raise _Reported
            resolved = self._resolve(node.name, node.span)
            if resolved is None:
                raise _Reported
            pred, used = resolved
            scope.used |= used
            return pred
        value = self._value(node, scope)
        if _type(value) in ("bool", ERROR):
            return ir.IsTrue(value)
        self._error("E302", f"`{node.name}` is {_a(_type(value))}, not a condition", node.span,
                    _condition_hint(node, value))
        raise _Reported

    def _p_Dotted(self, node: ast.Dotted, scope):
        target = self.defs.get(node.left, (None,))[0]
        if target is None and node.left in self.broken:
            raise _Reported
        if not isinstance(target, ast.Segmentation):
            names = [n for n, (d, _f) in self.defs.items() if isinstance(d, ast.Segmentation)]
            close = suggest(node.left, names)
            self._error("E201", f"unknown segmentation `{node.left}`", node.span,
                        f"did you mean `{close}.{node.right}`?" if close else "")
            raise _Reported
        resolved = self._resolve(node.left, node.span)
        if resolved is None:
            raise _Reported
        branches, used = resolved
        names = [b for b, _p in branches]
        if node.right not in names:
            close = suggest(node.right, names)
            self._error("E201", f"`{node.left}` has no branch `{node.right}`", node.span,
                        f"did you mean `{node.left}.{close}`?" if close else "branches: " + ", ".join(names))
            raise _Reported
        scope.used |= used
        info = SegmentationInfo(node.left, target, "", branches, used)
        return dict(self._branch_preds(info))[node.right]

    def _p_Compare(self, node: ast.Compare, scope):
        left = self._value(node.left, scope)
        right = self._value(node.right, scope)
        self._comparable(node, left, right, ordered=node.op not in ("=", "!="))
        self._check_values(left, node.right, right)
        self._check_values(right, node.left, left)
        return ir.Cmp(node.op, left, right)

    def _p_Between(self, node: ast.Between, scope):
        x, lo, hi = (self._all((node.operand, node.low, node.high), lambda n: self._value(n, scope)))
        self._comparable(node, x, lo, ordered=True)
        self._comparable(node, x, hi, ordered=True)
        return ir.And((ir.Cmp(">=", x, lo), ir.Cmp("<=", x, hi)))

    def _p_InList(self, node: ast.InList, scope):
        x = self._value(node.operand, scope)
        items = []
        for item in node.items:
            if isinstance(item, ast.Name) and item.name.lower() in ("null", "none", "missing"):
                self._error("E305", "a list cannot hold a missing value", item.span,
                            f"test it separately: `{node.operand.span.text()} is missing`")
                continue
            if not isinstance(item, (ast.Literal, ast.Param)):
                self._error("E305", "list items must be literal values or $parameters", item.span)
                continue
            try:
                v = self._value(item, scope)
            except _Reported:
                continue
            self._comparable(item, x, v, ordered=False)
            self._check_values(x, item, v)
            items.append(v)
        if len(items) != len(node.items):
            raise _Reported
        if not items:
            return ir.TRUE if node.negated else ir.FALSE
        return ir.InSet(x, tuple(items), node.negated)

    def _p_IsMissing(self, node: ast.IsMissing, scope):
        return ir.Missing(self._value(node.operand, scope), node.present)

    def _p_StrMatch(self, node: ast.StrMatch, scope):
        x = self._value(node.operand, scope)
        if _type(x) not in ("string", ERROR):
            self._error("E301", f"`{node.kind}` needs a string on its left; this is {_a(_type(x))}",
                        node.operand.span)
        if not isinstance(node.pattern, (ast.Literal, ast.Param)):
            self._error("E301", f"the text after `{node.kind}` must be a string literal or a $parameter",
                        node.pattern.span, "compare two features with `=` instead")
            raise _Reported
        p = self._value(node.pattern, scope)
        if _type(p) not in ("string", ERROR):
            self._error("E301", f"`{node.kind}` needs a string; this is {_a(_type(p))}", node.pattern.span)
            raise _Reported
        return ir.Match(node.kind, x, p.value)

    def _p_Within(self, node: ast.Within, scope):
        x = self._value(node.operand, scope)
        if _type(x) not in TEMPORAL + (ERROR,):
            self._error("E301", f"`within` needs a date or timestamp; this is {_a(_type(x))}",
                        node.operand.span)
            raise _Reported
        window = self._period(node.period, scope)
        parts = []
        if window.lo is not None:
            parts.append(ir.Cmp(">=", x, window.lo))
        if window.hi is not None:
            parts.append(ir.Cmp("<", x, window.hi))
        return ir.And(tuple(parts))

    def _p_Rank(self, node: ast.Rank, scope):
        by = self._value(node.by, scope)
        if _type(by) not in ir.NUMERIC + TEMPORAL + (ERROR,):
            self._error("E301", f"ranking needs a number or a date; this is {_a(_type(by))}", node.by.span)
            raise _Reported
        if not 0 < node.percent <= 100:
            self._error("E306", "the share must be more than 0% and at most 100%", node.span)
            raise _Reported
        if scope.kind != "features":
            self._error("E306", "ranking is not available inside an aggregate", node.span)
            raise _Reported
        self._not_ranked(by, node.by.span)
        return ir.Top(node.direction, node.percent, by)

    def _p_Holdout(self, node: ast.Holdout, scope):
        if scope.kind != "features":
            self._error("E306", "`holdout` is not available inside an aggregate", node.span,
                        "a holdout splits customers, not events: combine it outside, e.g. "
                        "`count(orders ...) > 2 and holdout 10% seed \"spring\"`")
            raise _Reported
        if not 0 < node.percent < 100:
            self._error("E308", "the holdout share must be more than 0% and less than 100%", node.span,
                        "e.g. `holdout 10% seed \"spring\"`; its complement is `not holdout ...`")
            raise _Reported
        if holdout.threshold(node.percent) == 0:
            self._error("E308", "the holdout share is too small to hold anyone", node.span,
                        f"the split has {holdout.SPACE} buckets: the smallest share is "
                        f"{100 / holdout.SPACE:.1e}%")
            raise _Reported
        seed = self._value(node.seed, scope)
        if _type(seed) == ERROR:
            raise _Reported
        if _type(seed) != "string":
            self._error("E308", f"the seed of a holdout must be a string; this is {_a(_type(seed))}",
                        node.seed.span, "name the experiment, e.g. `seed \"spring_2024\"`")
            raise _Reported
        if seed.value == "":
            self._error("E308", "the seed of a holdout must not be empty", node.seed.span,
                        "name the experiment, e.g. `seed \"spring_2024\"`: each experiment needs its "
                        "own seed, or their control groups are the same customers")
            raise _Reported
        return ir.Holdout(node.percent, seed.value)

    def _not_ranked(self, by: ir.Value, span) -> None:
        # a rank is a window over the population; SQL cannot nest window functions
        if _contains_quantile(by):
            self._error("E306", "cannot rank by a value computed from `quantile_score`", span,
                        "rank by the underlying feature instead (the order is the same)")
            raise _Reported

    def _p_Literal(self, node: ast.Literal, scope):
        if node.type == "bool":
            return ir.Bool(node.value)
        return self._pred_from_value(node, scope)

    def _pred_from_value(self, node, scope):
        value = self._value(node, scope)
        if _type(value) in ("bool", ERROR):
            return ir.IsTrue(value)
        self._error("E302", f"this is {_a(_type(value))}, not a condition", node.span)
        raise _Reported

    # ---- values ----
    def _value(self, node: ast.Expr, scope) -> ir.Value:
        method = getattr(self, "_v_" + type(node).__name__, None)
        if method is None:
            if isinstance(node, (ast.Compare, ast.And, ast.Or, ast.Not, ast.Between, ast.InList,
                                 ast.IsMissing, ast.StrMatch, ast.Within, ast.Rank, ast.Holdout)):
                self._error("E302", "a condition cannot be used as a value here", node.span,
                            "conditions combine with `and`, `or`, `not`")
            else:
                self._error("E302", "this cannot be used as a value here", node.span)
            raise _Reported
        return method(node, scope)

    def _v_Literal(self, node: ast.Literal, scope):
        return ir.Const(node.value, node.type)

    def _v_Today(self, node, scope):
        return ir.AsOf()

    def _v_Duration(self, node, scope):
        self._error("E302", "a duration is only meaningful added to or subtracted from a date",
                    node.span, "write e.g. `today - 30 days`, or `d within last 30 days`")
        raise _Reported

    def _v_Param(self, node: ast.Param, scope):
        p = self.schema.params.get(node.name)
        if p is None:
            close = suggest(node.name, self.schema.params)
            self._error("E204", f"unknown parameter `${node.name}`", node.span,
                        f"did you mean `${close}`?" if close else "declare it under `params:` in segc.yml")
            raise _Reported
        value = self.params.get(node.name, p.default)
        if value is None:
            self._error("E204", f"parameter `${node.name}` has no value", node.span,
                        f"give a default in segc.yml or pass --param {node.name}=...")
            raise _Reported
        return ir.Const(value, p.type)

    def _v_Name(self, node: ast.Name, scope):
        if scope.kind == "event":
            if node.name in scope.columns:
                return ir.Col(node.name, scope.columns[node.name], True, "event")
            close = suggest(node.name, scope.columns)
            self._error("E202", f"source `{scope.source}` has no column `{node.name}`", node.span,
                        f"did you mean `{close}`?" if close else
                        f"declare it under sources.{scope.source}.columns in segc.yml")
            raise _Reported
        if node.name in self.schema.scores:
            from segc.check.scores import score_value

            return score_value(self, node, scope)
        feature = self.schema.features.get(node.name)
        if feature is None:
            if node.name in self.broken:
                raise _Reported
            if node.name in self.defs:
                self._error("E302", f"`{node.name}` is a segment, not a value", node.span,
                            "segments are conditions; combine them with `and`, `or`, `not`")
                raise _Reported
            if node.name.lower() in ("null", "none", "nil"):
                self._error("E201", f"unknown name `{node.name}`", node.span,
                            "missing values are tested with `x is missing` / `x is present`")
                raise _Reported
            candidates = list(self.schema.features) + list(self.defs) + list(self.schema.scores)
            close = suggest(node.name, candidates)
            what = "feature or segment"
            self._error("E201", f"unknown {what} `{node.name}`", node.span,
                        label=f"did you mean `{close}`?" if close else "")
            raise _Reported
        scope.used.add(node.name)
        return self._feature_value(feature, node.span)

    def _feature_value(self, f: FeatureDef, span) -> ir.Value:
        if f.kind == "agg":
            return self._agg_feature(f, span)
        return ir.Col(f.name, f.type, f.nullable)

    def _agg_feature(self, f: FeatureDef, span) -> ir.Value:
        if f.name not in self.agg_cache:
            self.agg_cache[f.name] = None  # reported once, however often the feature is used
            self.agg_cache[f.name] = self._agg_feature_value(f)
        value = self.agg_cache[f.name]
        if value is None:
            raise _Reported
        return value

    def _agg_feature_value(self, f: FeatureDef) -> ir.Agg:
        src = self.schema.sources[f.source]
        where = None
        if f.where is not None:
            if f.name not in self.where_cache:
                scope = Checker.Scope("event", self._event_columns(src), src.name)
                self.where_cache[f.name] = self._embedded_pred(f.where, scope)
            where = self.where_cache[f.name]
            if where is None:
                raise _Reported
        window = ir.Window()
        if f.window is not None:
            window = ir.Window(lo=_shift(ir.AsOf(), -f.window.amount, f.window.unit))
        column = None
        if f.column is not None:
            column = ir.Col(f.column, self._event_columns(src)[f.column], True, "event")
        agg_type = self._agg_type(f.agg, column)
        if not _same_kind(agg_type, f.type):
            self._error("E307", f"feature `{f.name}` is declared {f.type} but `{f.agg}` gives {agg_type}",
                        f.span, f"declare `type: {agg_type}`")
            raise _Reported
        return ir.Agg(f.agg, f.source, column, where, window, f.type, label=f.name)

    @staticmethod
    def _agg_type(func: str, column: ir.Col | None) -> str:
        if func in ("count", "count_distinct"):
            return "int"
        if func == "avg":
            return "float"
        return column.type if column is not None else "int"

    def _event_columns(self, src) -> dict[str, str]:
        cols = dict(src.columns)
        if src.time:
            cols.setdefault(src.time, "timestamp")
        return cols

    def _v_Dotted(self, node, scope):
        self._error("E302", f"`{node.left}.{node.right}` is a condition, not a value", node.span)
        raise _Reported

    def _v_Neg(self, node: ast.Neg, scope):
        x = self._value(node.operand, scope)
        if _type(x) not in ir.NUMERIC + (ERROR,):
            self._error("E301", f"cannot negate {_a(_type(x))}", node.span)
            raise _Reported
        return ir.Neg(x)

    def _v_Arith(self, node: ast.Arith, scope):
        if isinstance(node.right, ast.Duration) and node.op in "+-":
            base = self._value(node.left, scope)
            if _type(base) not in TEMPORAL + (ERROR,):
                self._error("E301", f"a duration can only shift a date; this is {_a(_type(base))}",
                            node.left.span)
                raise _Reported
            d = node.right
            return _shift(base, d.amount if node.op == "+" else -d.amount, d.unit)
        left, right = self._all((node.left, node.right), lambda n: self._value(n, scope))
        lt, rt = _type(left), _type(right)
        if ERROR in (lt, rt):
            return ir.Arith(node.op, left, right, ERROR)
        if lt in TEMPORAL or rt in TEMPORAL:
            self._error("E301", f"`{node.op}` does not apply to dates", node.span,
                        "use `days_since(d)`, or shift a date by a duration: `d + 30 days`")
            raise _Reported
        if lt not in ir.NUMERIC or rt not in ir.NUMERIC:
            bad = node.left if lt not in ir.NUMERIC else node.right
            self._error("E301", f"`{node.op}` needs numbers; this is {_a(_type(left if bad is node.left else right))}",
                        bad.span)
            raise _Reported
        if node.op == "%" and (lt != "int" or rt != "int"):
            self._error("E301", "`%` (remainder) needs whole numbers", node.span,
                        "engines disagree on the remainder of decimals")
            raise _Reported
        if node.op in "/%" and isinstance(right, ir.Const) and right.value == 0:
            self._warn("W103", "division by zero: the result is always missing", node.right.span)
        out = "float" if node.op == "/" or "float" in (lt, rt) else "int"
        return ir.Arith(node.op, left, right, out)

    def _v_Call(self, node: ast.Call, scope):
        name = node.func
        if name not in FUNCTIONS:
            close = suggest(name, FUNCTIONS)
            self._error("E205", f"unknown function `{name}`", node.span,
                        f"did you mean `{close}`?" if close else "functions: " + ", ".join(sorted(FUNCTIONS)))
            raise _Reported
        lo, hi = FUNCTIONS[name]
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}" if hi < 99 else f"at least {lo}"
            self._error("E304", f"`{name}` takes {want} argument{'s' if hi > 1 else ''}, "
                        f"got {len(node.args)}", node.span)
            raise _Reported
        if name == "quantile_score":
            return self._quantile(node, scope)
        args = self._all(node.args, lambda n: self._value(n, scope))
        types = [_type(a) for a in args]

        def need(kinds, what):
            for a, t, n in zip(args, types, node.args):
                if t not in kinds + (ERROR,):
                    self._error("E304", f"`{name}` needs {what}; this is {_a(t)}", n.span)
                    raise _Reported

        if name in ("lower", "upper", "length"):
            need(("string",), "a string")
            return ir.Func(name, tuple(args), "int" if name == "length" else "string")
        if name in ("abs", "floor", "ceil", "round"):
            need(ir.NUMERIC, "a number")
            if name == "round" and len(args) == 2 and (types[1] != "int" or not isinstance(args[1], ir.Const)):
                self._error("E304", "the digits of `round` must be a whole number", node.args[1].span)
                raise _Reported
            out = types[0] if name == "abs" else ("int" if name in ("floor", "ceil") else "float")
            return ir.Func(name, tuple(args), out)
        if name in ("days_since", "year_of", "month_of"):
            need(TEMPORAL, "a date or timestamp")
            return ir.Func(name, tuple(args), "int")
        # coalesce, least, greatest: arguments of one type
        known = [t for t in types if t != ERROR]
        out = "float" if known and all(t in ir.NUMERIC for t in known) and "float" in known else \
            (known[0] if known else ERROR)
        if known and all(t in TEMPORAL for t in known) and "timestamp" in known:
            out = "timestamp"  # dates among timestamps stand for their midnight
        for a, t, n in zip(args, types, node.args):
            if t != ERROR and not _same_kind(t, out):
                self._error("E304", f"`{name}` needs arguments of one type: {_a(out)} and {_a(t)}", n.span)
                raise _Reported
        return ir.Func(name, tuple(args), out)

    def _quantile(self, node, scope):
        by = self._value(node.args[0], scope)
        n = node.args[1]
        # each score above 1 is a cut in the SQL (lower.py), so n stays at percentiles or below
        if not (isinstance(n, ast.Literal) and n.type == "int" and 2 <= n.value <= MAX_QUANTILES):
            self._error("E304", f"the number of quantiles must be a whole number from 2 to {MAX_QUANTILES}", n.span,
                        "e.g. `quantile_score(revenue_365d, 5)` for quintiles; for a finer cut, `top p% by`")
            raise _Reported
        if _type(by) not in ir.NUMERIC + TEMPORAL + (ERROR,):
            self._error("E304", f"`quantile_score` ranks numbers or dates; this is {_a(_type(by))}",
                        node.args[0].span)
            raise _Reported
        if scope.kind != "features":
            self._error("E306", "ranking is not available inside an aggregate", node.span)
            raise _Reported
        self._not_ranked(by, node.args[0].span)
        return ir.Quantile(by, n.value)

    def _v_Aggregate(self, node: ast.Aggregate, scope):
        if node.func == "exists":
            self._error("E302", "`exists(...)` is a condition, not a value", node.span)
            raise _Reported
        return self._aggregate(node, scope)

    def _aggregate(self, node: ast.Aggregate, scope) -> ir.Agg:
        if scope.kind != "features":
            self._error("E306", "aggregates cannot be nested", node.span)
            raise _Reported
        src = self.schema.sources.get(node.source)
        if src is None or node.source == self.schema.base:
            events = [n for n, s in self.schema.sources.items() if s.key and n != self.schema.base]
            close = suggest(node.source, events)
            what = "is the base, not an event source" if node.source == self.schema.base else "is not a source"
            self._error("E209", f"`{node.source}` {what}", node.span,
                        f"did you mean `{close}`?" if close else
                        "event sources: " + (", ".join(events) or "none declared"))
            raise _Reported
        if src.key is None:
            self._error("E209", f"source `{node.source}` has no `key:` joining it to the base", node.span)
            raise _Reported
        columns = self._event_columns(src)
        column = None
        if node.column is not None:
            if node.column not in columns:
                close = suggest(node.column, columns)
                self._error("E202", f"source `{node.source}` has no column `{node.column}`", node.span,
                            f"did you mean `{node.source}.{close}`?" if close else
                            f"declare it under sources.{node.source}.columns")
                raise _Reported
            column = ir.Col(node.column, columns[node.column], True, "event")
        func = node.func
        if func in ("sum", "avg", "min", "max", "count_distinct") and column is None:
            self._error("E304", f"`{func}` needs a column: `{func}({node.source}.<column> ...)`", node.span)
            raise _Reported
        if func in ("sum", "avg") and column.type not in ir.NUMERIC:
            self._error("E301", f"`{func}` needs a numeric column; `{node.column}` is {column.type}", node.span)
            raise _Reported
        if func in ("count", "exists") and column is not None:
            func_ok = func == "count"
            if not func_ok:
                self._error("E304", "`exists` takes a source, not a column", node.span)
                raise _Reported
        where = None
        if node.where is not None:
            where = self._pred(node.where, Checker.Scope("event", columns, node.source))
        window = ir.Window()
        if node.during is not None:
            if src.time is None:
                self._error("E210", f"`during` needs a time column, and source `{node.source}` declares no "
                            "`time:`", node.during.span, f"add `time: <column>` to source `{node.source}`")
                raise _Reported
            window = self._period(node.during, scope)
            if not all(_fixed(b) for b in (window.lo, window.hi)):
                # the window is applied inside the source's GROUP BY, where features do not exist
                self._error("E306", "the range after `during` must be dates, `today` or $parameters, "
                            "not features", node.during.span,
                            "compare the feature outside the aggregate, or use `last 30 days`, "
                            "`this month`, `2024-01-01 to 2024-03-31`")
                raise _Reported
            if node.during.kind == "next":
                self._warn("W104", "`during next ...` is always empty: aggregates only see events before "
                           "the as-of date", node.during.span, "write `during last ...`")
        if func == "exists":
            func = "count"
        return ir.Agg(func, node.source, column, where, window, self._agg_type(func, column))

    def _p_Aggregate(self, node: ast.Aggregate, scope):
        if node.func == "exists":
            return ir.Cmp(">", self._aggregate(node, scope), ir.Const(0, "int"))
        self._error("E302", f"`{node.func}(...)` is a number, not a condition", node.span,
                    f"compare it: `{node.func}(...) > 0`, or use `exists(...)`")
        raise _Reported

    def _period(self, p: ast.Period, scope) -> ir.Window:
        asof = ir.AsOf()
        if p.kind in ("last", "next") and p.duration.amount == 0:
            self._warn("W106", f"`{p.kind} {p.duration.text}` holds no time at all: nothing is ever in it",
                       p.span, f"write e.g. `{p.kind} 1 {p.duration.unit}`")
        if p.kind == "last":
            return ir.Window(_shift(asof, -p.duration.amount, p.duration.unit), asof)
        if p.kind == "next":
            return ir.Window(asof, _shift(asof, p.duration.amount, p.duration.unit))
        if p.kind in ("this", "previous"):
            unit = p.unit.rstrip("s")
            if unit == "day" or p.unit.endswith("s"):
                self._error("E306", f"`{'last' if p.kind == 'previous' else 'this'} {p.unit}` is not a "
                            "calendar period", p.span, "calendar periods are week, month and year; "
                            "for days write e.g. `last 7 days`")
                raise _Reported
            start = ir.Func("trunc_" + unit, (asof,), "date")
            if p.kind == "this":
                return ir.Window(start, _shift(start, 1, unit))
            return ir.Window(_shift(start, -1, unit), start)
        lo, hi = self._all((p.start, p.end), lambda n: self._value(n, scope))
        for v, n in ((lo, p.start), (hi, p.end)):
            if _type(v) not in TEMPORAL + (ERROR,):
                self._error("E301", f"a range needs dates; this is {_a(_type(v))}", n.span)
                raise _Reported
        if isinstance(lo, ir.Const) and isinstance(hi, ir.Const) and _as_datetime(lo.value) > _as_datetime(hi.value):
            self._warn("W105", "this range ends before it starts: it contains no time at all", p.span,
                       "write the earlier date first")
        # both days included: up to the start of the day after the end
        return ir.Window(lo, _shift(hi, 1, "day") if _type(hi) == "date" else hi)

    # ---- type helpers ----
    def _comparable(self, node, a: ir.Value, b: ir.Value, ordered: bool) -> None:
        ta, tb = _type(a), _type(b)
        if ERROR in (ta, tb) or _same_kind(ta, tb):
            if ordered and ta == "bool" and tb == "bool":
                self._error("E301", "true/false values cannot be ordered", node.span, "use `=` or `!=`")
                raise _Reported
            return
        hint = ""
        quoted = any(isinstance(v, ir.Const) and v.type == "string" for v in (a, b))  # a "literal"
        if quoted and (ta in TEMPORAL or tb in TEMPORAL):
            hint = "dates are written without quotes: 2024-01-01"
        elif quoted and (ta in ir.NUMERIC or tb in ir.NUMERIC):
            hint = "numbers are written without quotes"
        elif (ta in TEMPORAL or tb in TEMPORAL) and (ta in ir.NUMERIC or tb in ir.NUMERIC):
            hint = "dates are written YYYY-MM-DD (2024-01-01); for a number of days use `days_since(d)`"
        self._error("E301", f"cannot compare {_a(ta)} with {_a(tb)}", node.span, hint)
        raise _Reported

    def _check_values(self, target: ir.Value, node, value: ir.Value) -> None:
        """A string literal compared with a feature that declares its `values:`."""
        if not (isinstance(target, ir.Col) and target.scope == "features" and isinstance(value, ir.Const)):
            return
        allowed = self.schema.features[target.name].values
        if allowed is None or value.value in allowed:
            return
        close = suggest(str(value.value), [str(v) for v in allowed])
        self._error("E303", f"`{value.value}` is not a value of `{target.name}`", node.span,
                    f"did you mean `{close}`?" if close else "",
                    "values: " + ", ".join(str(v) for v in allowed))
        raise _Reported

    def _check_empty(self, node: ast.And, items) -> None:
        """Warn about conjunctions that can never hold, such as `x > 5 and x < 3`."""
        bounds: dict[str, list] = {}
        for p in items:
            if isinstance(p, ir.Cmp) and isinstance(p.left, ir.Col) and isinstance(p.right, ir.Const) \
                    and p.right.type in ir.NUMERIC + TEMPORAL:
                v = p.right.value
                if p.left.type == "timestamp" and not isinstance(v, dt.datetime):
                    v = dt.datetime.combine(v, dt.time())  # a date against a timestamp: its midnight
                bounds.setdefault(p.left.name, []).append((p.op, v))
        for name, cs in bounds.items():
            lo, lo_strict, hi, hi_strict, eq = None, False, None, False, set()
            for op, v in cs:
                if op in (">", ">=") and (lo is None or v > lo or v == lo and op == ">"):
                    lo, lo_strict = v, op == ">"
                elif op in ("<", "<=") and (hi is None or v < hi or v == hi and op == "<"):
                    hi, hi_strict = v, op == "<"
                elif op == "=":
                    eq.add(v)
            empty = len(eq) > 1
            for v in eq:
                empty |= (lo is not None and (v < lo or v == lo and lo_strict)) or \
                         (hi is not None and (v > hi or v == hi and hi_strict))
            if lo is not None and hi is not None:
                empty |= lo > hi or (lo == hi and (lo_strict or hi_strict))
            if empty:
                self._warn("W101", f"this condition can never be true: the bounds on `{name}` exclude "
                           "each other", node.span)


def _shift(base: ir.Value, amount: int, unit: str) -> ir.Value:
    if unit == "week":
        amount, unit = amount * 7, "day"
    return ir.DateShift(base, amount, unit)


def shift_date(d: dt.date, amount: int, unit: str) -> dt.date:
    """Calendar arithmetic with month ends clamped (2024-03-31 - 1 month = 2024-02-29)."""
    if unit == "day":
        return d + dt.timedelta(days=amount)
    if unit == "week":
        return d + dt.timedelta(days=7 * amount)
    months = amount * (12 if unit == "year" else 1)
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return d.replace(year=year, month=month, day=day)


MAX_QUANTILES = 100


def _contains_quantile(v) -> bool:
    if isinstance(v, ir.Quantile):
        return True
    if isinstance(v, ir.Arith):
        return _contains_quantile(v.left) or _contains_quantile(v.right)
    if isinstance(v, (ir.Neg,)):
        return _contains_quantile(v.operand)
    if isinstance(v, ir.DateShift):
        return _contains_quantile(v.base)
    if isinstance(v, ir.Func):
        return any(_contains_quantile(a) for a in v.args)
    return False


def _as_datetime(value) -> dt.datetime:
    return value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())


def _fixed(v: ir.Value | None) -> bool:
    """The same for every entity: literals, `today`, parameters and date shifts of them."""
    if v is None or isinstance(v, (ir.Const, ir.AsOf)):
        return True
    if isinstance(v, ir.DateShift):
        return _fixed(v.base)
    if isinstance(v, ir.Func) and v.name.startswith("trunc_"):
        return all(_fixed(a) for a in v.args)
    return False


def _type(v: ir.Value) -> str:
    return getattr(v, "type", ERROR)


def _same_kind(a: str, b: str) -> bool:
    return a == b or (a in ir.NUMERIC and b in ir.NUMERIC) or (a in TEMPORAL and b in TEMPORAL)


def _a(t: str) -> str:
    return {"int": "a whole number", "float": "a number", "string": "a string", "bool": "true/false",
            "date": "a date", "timestamp": "a timestamp", ERROR: "an invalid value"}.get(t, t)


def _condition_hint(node, value) -> str:
    t = _type(value)
    text = node.span.text() if node.span else "x"
    if t in ir.NUMERIC:
        return f"compare it, e.g. `{text} > 0`"
    if t == "string":
        return f"compare it, e.g. `{text} = \"...\"`"
    if t in TEMPORAL:
        return f"compare it, e.g. `{text} within last 30 days`"
    return ""


def _implies(a: ir.Pred, b: ir.Pred) -> bool:
    """Provable only in simple cases: `x >= 300` implies `x >= 100`; equal conditions."""
    if a == b:
        return True
    if isinstance(a, ir.Cmp) and isinstance(b, ir.Cmp) and a.left == b.left \
            and isinstance(a.right, ir.Const) and isinstance(b.right, ir.Const):
        x, y = a.right.value, b.right.value
        try:
            if a.op in (">", ">=") and b.op in (">", ">="):
                return x > y or (x == y and (b.op == ">=" or a.op == ">"))
            if a.op in ("<", "<=") and b.op in ("<", "<="):
                return x < y or (x == y and (b.op == "<=" or a.op == "<"))
        except TypeError:
            return False
    if isinstance(a, ir.And):
        return any(_implies(item, b) for item in a.items)
    return False


def check(schema: Schema, modules: list[ast.Module], params: dict | None = None) -> Checked:
    return Checker(schema, modules, params).check()

