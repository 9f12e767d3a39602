"""Conditions: the syntax tree of a condition -> ir.Pred, with the types of what it compares."""
from __future__ import annotations

import datetime as dt
import re

from segc import ir
from segc.check.definitions import SegmentationInfo, branch_preds
from segc.check.nesting import BRANCH_LEVELS
from segc.check.regex import checked_regex
from segc.check.reporter import Reported
from segc.check.types import ERROR, TEMPORAL, condition_hint, contains_quantile, describe, same_kind, type_of
from segc.front import ast
from segc.front.errors import suggest


class Predicates:
    def pred(self, node: ast.Expr, scope) -> ir.Pred:
        try:
            self.enter(node)  # nesting.py: a bounded depth, references included
            method = getattr(self, "_p_" + type(node).__name__, None)
            if method is not None:
                return method(node, scope)
            return self.pred_from_value(node, scope)
        finally:
            self.leave()

    def _p_And(self, node, scope):
        items = self.all_of(node.items, lambda n: self.pred(n, scope))
        self.check_empty(node, items)
        return ir.And(tuple(items))

    def _p_Or(self, node, scope):
        return ir.Or(tuple(self.all_of(node.items, lambda n: self.pred(n, scope))))

    def _p_Not(self, node, scope):
        return ir.Not(self.pred(node.operand, scope))

    def all_of(self, nodes, fn):
        """Check every child even when one fails, so that all errors are reported."""
        out, failed = [], False
        for n in nodes:
            try:
                out.append(fn(n))
            except Reported:
                failed = True
        if failed:
            raise Reported
        return out

    def _p_Name(self, node: ast.Name, scope):
        if scope.kind == "features" and node.name in self.defs:
            target = self.defs[node.name][0]
            if isinstance(target, ast.Segmentation):
                names = ", ".join(f"`{node.name}.{b.name}`" for b in target.branches)
                self.error("E208", f"`{node.name}` is a segmentation; name one of its branches", node.span,
                           f"write one of {names}")
                raise Reported
            resolved = self.resolve(node.name, node.span)
            if resolved is None:
                raise Reported
            pred, used = resolved
            self.through(node.name, node)
            scope.used |= used
            return pred
        return self.pred_from_value(node, scope, f"`{node.name}`")

    def _p_Dotted(self, node: ast.Dotted, scope):
        target = self.defs.get(node.left, (None,))[0]
        if not isinstance(target, ast.Segmentation):
            self.not_a_segmentation(node, scope)  # dotted.py: what `left` is, and what was likely meant
        resolved = self.resolve(node.left, node.span)
        if resolved is None:
            raise Reported
        branches, used = resolved
        names = [b for b, _p in branches]
        if node.right not in names:
            close = suggest(node.right, names)
            self.error("E201", f"`{node.left}` has no branch `{node.right}`", node.span,
                       f"did you mean `{node.left}.{close}`?" if close else "branches: " + ", ".join(names))
            raise Reported
        self.through(node.left, node, BRANCH_LEVELS)
        scope.used |= used
        info = SegmentationInfo(node.left, target, "", branches, used)
        return dict(branch_preds(info))[node.right]

    def _p_Compare(self, node: ast.Compare, scope):
        left = self.value(node.left, scope)
        try:
            right = self.value(node.right, scope)
        except Reported:
            if isinstance(node.right, ast.Name) and type_of(left) == "string":
                # a look-alike name suggested is the likelier reading, unless the word is a declared value
                declared = isinstance(left, ir.Col) and left.scope == "features" and node.right.name in (
                    self.schema.features[left.name].values or ())
                self.add_hint(node.right.span, ("E201", "E202"), quote_hint(node),
                              when=lambda d: declared or not d.label)
            raise
        self.comparable(node, left, right, ordered=node.op not in ("=", "!="))
        self.check_values(left, node.right, right)
        self.check_values(right, node.left, left)
        self.check_score_range(node, left, right)
        return ir.Cmp(node.op, left, right)

    def _p_Between(self, node: ast.Between, scope):
        x, lo, hi = (self.all_of((node.operand, node.low, node.high), lambda n: self.value(n, scope)))
        self.comparable(node, x, lo, ordered=True)
        self.comparable(node, x, hi, ordered=True)
        bounds = (ir.Cmp(">=", x, lo), ir.Cmp("<=", x, hi))
        self.check_empty(node, bounds)  # `age between 65 and 18`
        return ir.And(bounds)

    def _p_InList(self, node: ast.InList, scope):
        x = self.value(node.operand, scope)
        items = []
        for item in node.items:
            if isinstance(item, ast.Name) and item.name.lower() in ("null", "none", "missing"):
                self.error("E305", "a list cannot hold a missing value", item.span,
                           f"test it separately: `{node.operand.span.text()} is missing`")
                continue
            if not isinstance(item, (ast.Literal, ast.Param)):
                self.error("E305", "list items must be literal values or $parameters", item.span,
                           f'a string is quoted: `"{item.name}"`' if isinstance(item, ast.Name) else "")
                continue
            try:
                v = self.value(item, scope)
            except Reported:
                continue
            self.comparable(item, x, v, ordered=False)
            self.check_values(x, item, v)
            items.append(v)
        if len(items) != len(node.items):
            raise Reported
        if not items:
            return ir.TRUE if node.negated else ir.FALSE
        return ir.InSet(x, tuple(items), node.negated)

    def _p_IsMissing(self, node: ast.IsMissing, scope):
        return ir.Missing(self.value(node.operand, scope), node.present)

    def _p_StrMatch(self, node: ast.StrMatch, scope):
        x = self.value(node.operand, scope)
        word = {"starts": "starts with", "ends": "ends with"}.get(node.kind, node.kind)
        if type_of(x) not in ("string", ERROR):
            self.error("E301", f"`{word}` needs a string on its left; this is {describe(type_of(x))}",
                       node.operand.span, "compare numbers and dates with =, <, >, between")
        if node.kind == "matches":
            return ir.Match("matches", x, checked_regex(self, node.pattern))
        if not isinstance(node.pattern, (ast.Literal, ast.Param)):
            self.error("E301", f"the text after `{word}` must be a string literal or a $parameter",
                       node.pattern.span, "compare two features with `=` instead")
            raise Reported
        p = self.value(node.pattern, scope)
        if type_of(p) not in ("string", ERROR):
            self.error("E301", f"`{word}` needs a string; this is {describe(type_of(p))}", node.pattern.span,
                       f'text is written in double quotes: {word} "..."')
            raise Reported
        return ir.Match(node.kind, x, p.value)

    def _p_Within(self, node: ast.Within, scope):
        x = self.value(node.operand, scope)
        if type_of(x) not in TEMPORAL + (ERROR,):
            self.error("E301", f"`within` needs a date or timestamp; this is {describe(type_of(x))}",
                       node.operand.span, "e.g. `last_order_at within last 30 days`; a count over a period "
                       "is `count(orders during last 30 days)`")
            raise Reported
        window = self.period(node.period, scope)
        parts = []
        if window.lo is not None:
            parts.append(ir.Cmp(">=", x, window.lo))
        if window.hi is not None:
            parts.append(ir.Cmp("<", x, window.hi))
        return ir.And(tuple(parts))

    def _p_Rank(self, node: ast.Rank, scope):
        by = self.value(node.by, scope)
        if type_of(by) not in ir.NUMERIC + TEMPORAL + (ERROR,):
            self.error("E301", f"ranking needs a number or a date; this is {describe(type_of(by))}", node.by.span,
                       "e.g. `top 10% by basket_avg`")
            raise Reported
        if node.absolute and not (isinstance(node.percent, int) and node.percent >= 1):
            self.error("E306", "the count of a ranking must be a whole number of at least 1", node.span,
                       f"e.g. `{node.direction} 100 by ...`, or a share: `{node.direction} 10% by ...`")
            raise Reported
        if not node.absolute and not 0 < node.percent <= 100:
            self.error("E306", "the share must be more than 0% and at most 100%", node.span,
                       f"e.g. `{node.direction} 10% by ...`")
            raise Reported
        if scope.kind != "features":
            self.error("E306", "ranking is not available inside an aggregate", node.span,
                       "rank the customers on a feature: `top 10% by revenue_365d`")
            raise Reported
        self.not_ranked(by, node.by.span)
        if node.absolute:
            return ir.TopN(node.direction, node.percent, by)
        return ir.Top(node.direction, node.percent, by)

    def _p_Holdout(self, node: ast.Holdout, scope):
        if scope.kind != "features":
            self.error("E306", "`holdout` is not available inside an aggregate", node.span,
                       "a holdout splits customers, not events: combine it outside, e.g. "
                       "`count(orders ...) > 2 and holdout 10% seed \"spring\"`")
            raise Reported
        if not 0 < node.percent < 100:
            self.error("E308", "the holdout share must be more than 0% and less than 100%", node.span,
                       "e.g. `holdout 10% seed \"spring\"`; its complement is `not holdout ...`")
            raise Reported
        if ir.holdout_threshold(node.percent) == 0:
            self.error("E308", "the holdout share is too small to hold anyone", node.span,
                       f"the split has {ir.HOLDOUT_SPACE} buckets: the smallest share is "
                       f"{100 / ir.HOLDOUT_SPACE:.1e}%")
            raise Reported
        seed = self.value(node.seed, scope)
        if type_of(seed) == ERROR:
            raise Reported
        if type_of(seed) != "string":
            self.error("E308", f"the seed of a holdout must be a string; this is {describe(type_of(seed))}",
                       node.seed.span, "name the experiment, e.g. `seed \"spring_2024\"`")
            raise Reported
        if seed.value == "":
            self.error("E308", "the seed of a holdout must not be empty", node.seed.span,
                       "name the experiment, e.g. `seed \"spring_2024\"`: each experiment needs its "
                       "own seed, or their control groups are the same customers")
            raise Reported
        return ir.Holdout(node.percent, seed.value)

    def not_ranked(self, by: ir.Value, span) -> None:
        # a rank is a window over the population; SQL cannot nest window functions
        if contains_quantile(by):
            self.error("E306", "cannot rank by a value computed from `quantile_score`", span,
                       "rank by the underlying feature instead (the order is the same)")
            raise Reported

    def _p_Literal(self, node: ast.Literal, scope):
        if node.type == "bool":
            return ir.Bool(node.value)
        return self.pred_from_value(node, scope, hint=False)

    def pred_from_value(self, node, scope, what: str = "this", hint: bool = True):
        """A value where a condition is expected: a bool is one, anything else is E302."""
        value = self.value_at_level(node, scope)
        if type_of(value) in ("bool", ERROR):
            return ir.IsTrue(value)
        self.error("E302", f"{what} is {describe(type_of(value))}, not a condition", node.span,
                   condition_hint(node, value) if hint else "")
        raise Reported

    def _p_Aggregate(self, node: ast.Aggregate, scope):
        if node.func == "exists":
            return ir.Cmp(">", self.aggregate(node, scope), ir.Const(0, "int"))
        if node.func in ir.PICKS:
            value = self.aggregate(node, scope)
            if value.type == "bool":  # `last(carts.abandoned)`: the value is the condition
                return ir.IsTrue(value)
            self.error("E302", f"`{node.func}(...)` is {describe(value.type)}, not a condition", node.span,
                       f"compare it: `{node.func}(...) = ...`")
            raise Reported
        self.error("E302", f"`{node.func}(...)` is a number, not a condition", node.span,
                   f"compare it: `{node.func}(...) > 0`, or use `exists(...)`")
        raise Reported

    def comparable(self, node, a: ir.Value, b: ir.Value, ordered: bool) -> None:
        ta, tb = type_of(a), type_of(b)
        if ERROR in (ta, tb) or same_kind(ta, tb):
            if ordered and ta == "bool" and tb == "bool":
                self.error("E301", "true/false values cannot be ordered", node.span, "use `=` or `!=`")
                raise Reported
            return
        hint = ""
        quoted = any(isinstance(v, ir.Const) and v.type == "string" for v in (a, b))  # a "literal"
        if quoted and (ta in TEMPORAL or tb in TEMPORAL):
            hint = "dates are written without quotes: 2024-01-01"
        elif quoted and (ta in ir.NUMERIC or tb in ir.NUMERIC):
            hint = "numbers are written without quotes"
        elif (ta in TEMPORAL or tb in TEMPORAL) and (ta in ir.NUMERIC or tb in ir.NUMERIC):
            written = unpadded_date(node)
            hint = (f"dates are written YYYY-MM-DD: `{written}`" if written else
                    "dates are written YYYY-MM-DD (2024-01-01); for a number of days use `days_since(d)`")
        elif "bool" in (ta, tb) and quoted:
            flag = a if ta == "bool" else b
            name = f"`{flag.name}`" if isinstance(flag, ir.Col) else "it"
            hint = (f"{name} is true/false, not a string: write {name} (or `not {name.strip('`')}`), "
                    f"or compare with `true`/`false` unquoted")
        self.error("E301", f"cannot compare {describe(ta)} with {describe(tb)}", node.span, hint)
        raise Reported

    def check_values(self, target: ir.Value, node, value: ir.Value) -> None:
        """A string literal compared with a feature that declares its `values:`."""
        if not (isinstance(target, ir.Col) and target.scope == "features" and isinstance(value, ir.Const)):
            return
        allowed = self.schema.features[target.name].values
        if allowed is None or value.value in allowed:
            return
        close = suggest(str(value.value), [str(v) for v in allowed])
        self.error("E303", f"`{value.value}` is not a value of `{target.name}`", node.span,
                   f"did you mean `{close}`?" if close else "",
                   "values: " + ", ".join(str(v) for v in allowed))
        raise Reported


def quote_hint(node: ast.Compare) -> str:
    """`country = FR` or, in segc.yml, `where: status = completed`: an unquoted string."""
    fixed = f'{node.left.span.text()} {node.op} "{node.right.name}"'
    hint = f"a string is quoted: `{fixed}`"
    if node.span.file.endswith(".yml"):  # a YAML value that starts with `"` ends at the next one
        hint += f"; in segc.yml wrap the whole condition in single quotes: `'{fixed}'`"
    return hint


def unpadded_date(node) -> str:
    """`2024-1-1` parses as a subtraction; the date it was meant to be, zero-padded."""
    for part in (getattr(node, a, None) for a in ("left", "right", "low", "high")):
        text = part.span.text() if part is not None and part.span is not None else ""
        m = re.fullmatch(r"(\d{4})\s*-\s*(\d{1,2})\s*-\s*(\d{1,2})", text)
        if m:
            try:
                return dt.date(*map(int, m.groups())).isoformat()
            except ValueError:
                return ""
    return ""
