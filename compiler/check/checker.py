"""Syntax tree -> checked program (ir): resolves names, checks types, binds parameters,
expands references (finding cycles), and applies the sensitive-feature policy. Reports
every independent problem, not only the first.

The Checker is one object made of one class per concern, each in its own module:
names.py (declarations, references, scopes), predicates.py (conditions), values.py
(values and aggregates), dotted.py (`x.y` that names no branch), sequences.py (`followed
by`), periods.py (periods and the calendar), policy.py (sensitive features), lints.py
(warnings), reporter.py (how problems are recorded); scores.py and kpis.py check
segc.yml's scores and KPIs through it."""
from __future__ import annotations

from segc import ir
from segc.check.definitions import Annotations, Checked, Definition, SegmentationInfo, branch_preds
from segc.check.dotted import DottedNames
from segc.check.lints import Lints
from segc.check.names import Names
from segc.check.nesting import Nesting, distinct_nodes
from segc.check.periods import Periods
from segc.check.policy import Policy
from segc.check.predicates import Predicates
from segc.check.reporter import Reported, Reporter
from segc.check.sequences import Sequences
from segc.check.values import Values
from segc.front import ast
from segc.front.errors import SegcError
from segc.schema.segc_yml import Schema


class Checker(Names, Predicates, Values, DottedNames, Sequences, Periods, Policy, Lints, Nesting, Reporter):
    def __init__(self, schema: Schema, modules: list[ast.Module], params: dict[str, object] | None = None,
                 models: dict | None = None):
        Reporter.__init__(self)
        self.schema = schema
        # scores (scores.py): fitted models by name; `fitting` leaves references unresolved
        self.models = dict(models or {})
        self.fitting = False
        self.broken_scores: set[str] = set()
        self.score_context: str | None = None
        self.params = dict(params or {})
        self.defs: dict[str, tuple[ast.Segment | ast.Segmentation, str]] = {}
        self.folded: dict[str, str] = {}  # casefold(name) -> name (names.declare)
        # definitions with a syntax error: already reported, so references to them are quiet
        self.broken = {name for module in modules for name in module.broken} | schema.broken
        for module in modules:
            for d in module.definitions:
                self.declare(d, module.file)
        self.done: dict[str, tuple[ir.Pred, frozenset[str]]] = {}
        self.stack: list[str] = []
        self.definition_depth: dict[str, int] = {}  # nesting.py: levels of each checked definition
        self.where_cache: dict[str, ir.Pred | None] = {}
        self.agg_cache: dict[str, ir.Agg | None] = {}  # None: its error is already reported

    # ---- entry point ----
    def check(self) -> Checked:
        population, used = ir.TRUE, frozenset()
        if self.schema.population is not None:
            scope = self.features_scope()
            population = self.embedded_pred(self.schema.population, scope) or ir.TRUE
            if not self.within_size([population], "`population:`", self.schema.population.span):
                population = ir.TRUE
            if any(isinstance(n, (ir.Top, ir.TopN, ir.Quantile)) for n in distinct_nodes(population)):
                # a rank is computed over the population: it cannot also decide who is in it
                self.error("E306", "`population:` cannot rank customers (top, bottom, quantile_score), "
                           "directly or through a segment it uses", self.schema.population.span,
                           "ranks are taken within the population: rank in a segment, e.g. "
                           "`segment best = top 10% by revenue_365d`")
                population = ir.TRUE
            used = scope.used
        self.population_policy(used, population)
        # every aggregate feature of segc.yml is checked (its `where:`, its type), used or not
        for f in self.schema.features.values():
            if f.kind == "agg":
                try:
                    self.agg_feature(f, f.span)
                except Reported:
                    pass
        score_targets = {}
        if self.schema.scores:  # only then: the fitted-score modules cost a cold start ≈ 7-10 ms
            from segc.check.scores import check_scores

            score_targets = check_scores(self)
        segments: dict[str, Definition] = {}
        segmentations: dict[str, SegmentationInfo] = {}
        for name, (node, file) in self.defs.items():
            resolved = self.resolve(name, node.name_span)
            if resolved is None:
                continue
            if isinstance(node, ast.Segment):
                pred, feats = resolved
                if not self.within_size([pred], f"`{name}`", node.name_span or node.span):
                    continue
                notes = Annotations.of(node, self.schema.min_size)
                segments[name] = Definition(name, pred, node, file, feats, self.policy(node, feats, notes, pred),
                                            notes)
            else:
                info = self.segmentation_info(node, file)
                # a segmentation's branches are queried one by one (its label is one CASE)
                branches = branch_preds(info)
                if not self.within_size([p for _, p in branches], f"`{name}`", node.name_span or node.span):
                    continue
                segmentations[name] = info
                # once: the branches share it
                allowed = self.policy(node, info.features, info.annotations, [p for _, p in info.branches if p])
                for bname, pred in branches:
                    segments[f"{name}.{bname}"] = Definition(
                        f"{name}.{bname}", pred, node, file, info.features, dict(allowed), info.annotations)
        errors = [d for d in self.diags if d.is_error]
        if errors:
            raise SegcError(self.diags)
        return Checked(self.schema, segments, segmentations, population,
                       [d for d in self.diags if not d.is_error], self.params, scores=score_targets)

    def check_expression(self, expr: ast.Expr, policy=None) -> tuple[ir.Pred, frozenset[str]]:
        """An ad-hoc condition against the checked project (callable many times); `policy`
        replaces policy_expr for a route with its own allowance (an experiment metric)."""
        return self._ad_hoc(expr, self.pred, ir.FALSE, policy)

    def check_value_expression(self, expr: ast.Expr, policy=None) -> tuple[ir.Value, frozenset[str]]:
        """An ad-hoc value (what a report's KPI sums or averages); as check_expression."""
        return self._ad_hoc(expr, self.value, None, policy)

    def _ad_hoc(self, expr: ast.Expr, check, failed, policy=None):
        self.diags = []
        scope = self.features_scope()
        try:
            result = check(expr, scope)
        except Reported:
            result = failed
        if not self.within_size([result], "the expression", expr.span):
            result = failed
        used = frozenset(scope.used)
        (policy or self.policy_expr)(expr, used, result)
        if any(d.is_error for d in self.diags):
            raise SegcError(self.diags)
        return result, used


def check(schema: Schema, modules: list[ast.Module], params: dict | None = None) -> Checked:
    return Checker(schema, modules, params).check()
