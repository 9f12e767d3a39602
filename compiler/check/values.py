"""Values and aggregates: features, parameters, arithmetic, functions, quantile scores and
event aggregates (inline, or declared in segc.yml) -> ir.Value."""
from __future__ import annotations

from segc import ir
from segc.check.definitions import Scope
from segc.check.dotted import event_column_examples
from segc.check.reporter import Reported
from segc.check.types import ERROR, TEMPORAL, describe, is_fixed, same_kind, type_of
from segc.front import ast
from segc.front.errors import known_names_hint, suggest
from segc.schema.segc_yml import FeatureDef

# the most digits `round(x, n)` may keep or drop (docs/language.md)
ROUND_DIGITS = 15

# name -> (min args, max args); the types are checked in _v_Call
FUNCTIONS = {
    "lower": (1, 1), "upper": (1, 1), "length": (1, 1), "trim": (1, 1), "abs": (1, 1), "round": (1, 2),
    "floor": (1, 1), "ceil": (1, 1), "coalesce": (2, 99), "least": (2, 99), "greatest": (2, 99),
    "days_since": (1, 1), "days_between": (2, 2), "year_of": (1, 1), "month_of": (1, 1), "quantile_score": (2, 2),
}
# how each function is called, for the hints of its errors
SIGNATURES = {
    "lower": "lower(text)", "upper": "upper(text)", "length": "length(text)", "trim": "trim(text)",
    "abs": "abs(number)", "round": "round(number) or round(number, digits)", "floor": "floor(number)",
    "ceil": "ceil(number)", "coalesce": "coalesce(a, b, ...), values of one type",
    "least": "least(a, b, ...), values of one type", "greatest": "greatest(a, b, ...), values of one type",
    "days_since": "days_since(date)", "days_between": "days_between(from_date, to_date)",
    "year_of": "year_of(date)", "month_of": "month_of(date)", "quantile_score": "quantile_score(value, n), e.g. "
    "quantile_score(basket_avg, 5) for quintiles",
}
MAX_QUANTILES = 100


class Values:
    def value(self, node: ast.Expr, scope) -> ir.Value:
        try:
            self.enter(node)  # nesting.py: a bounded depth
            return self.value_at_level(node, scope)
        finally:
            self.leave()

    def value_at_level(self, node: ast.Expr, scope) -> ir.Value:
        """The value of `node`, whose level is already counted (a value used as a condition)."""
        method = getattr(self, "_v_" + type(node).__name__, None)
        if method is None:
            if isinstance(node, (ast.Compare, ast.And, ast.Or, ast.Not, ast.Between, ast.InList,
                                 ast.IsMissing, ast.StrMatch, ast.Within, ast.Rank, ast.Holdout)):
                self.error("E302", "a condition cannot be used as a value here", node.span,
                           "conditions combine with `and`, `or`, `not`")
            else:
                self.error("E302", "this cannot be used as a value here", node.span,
                           "a value is a feature, a literal, a function call or arithmetic on them")
            raise Reported
        return method(node, scope)

    def _v_Literal(self, node: ast.Literal, scope):
        return ir.Const(node.value, node.type)

    def _v_Today(self, node, scope):
        return ir.AsOf()

    def _v_Duration(self, node, scope):
        self.error("E302", "a duration is only meaningful added to or subtracted from a date",
                   node.span, "write e.g. `today - 30 days`, or `d within last 30 days`")
        raise Reported

    def _v_Param(self, node: ast.Param, scope):
        p = self.schema.params.get(node.name)
        if p is None:
            close = suggest(node.name, self.schema.params)
            self.error("E204", f"unknown parameter `${node.name}`", node.span,
                       f"did you mean `${close}`?" if close else "declare it under `params:` in segc.yml")
            raise Reported
        value = self.params.get(node.name, p.default)
        if value is None:
            self.error("E204", f"parameter `${node.name}` has no value", node.span,
                       f"give a default in segc.yml or pass --param {node.name}=...")
            raise Reported
        return ir.Const(value, p.type)

    def no_event_column(self, source: str, column: str, columns, span, qualified: bool = True) -> None:
        """E202: `source` has no column `column` (a did-you-mean, written as the user wrote
        the column: `orders.amount` or, inside `where`, `amount`)."""
        close = suggest(column, columns)
        self.error("E202", f"source `{source}` has no column `{column}`", span,
                   (f"did you mean `{source}.{close}`?" if qualified else f"did you mean `{close}`?") if close else
                   f"declare it under sources.{source}.columns in segc.yml")
        raise Reported

    def _v_Name(self, node: ast.Name, scope):
        if scope.kind == "event":
            if node.name in scope.columns:
                return ir.Col(node.name, scope.columns[node.name], True, "event")
            self.no_event_column(scope.source, node.name, scope.columns, node.span, qualified=False)
        if node.name in self.schema.scores:
            from segc.check.scores import score_value

            return score_value(self, node, scope)
        feature = self.schema.features.get(node.name)
        if feature is None:
            if node.name in self.broken:
                raise Reported
            if node.name in self.defs:
                self.error("E302", f"`{node.name}` is a segment, not a value", node.span,
                           "segments are conditions; combine them with `and`, `or`, `not`")
                raise Reported
            if node.name.lower() in ("null", "none", "nil"):
                self.error("E201", f"unknown name `{node.name}`", node.span,
                           "missing values are tested with `x is missing` / `x is present`")
                raise Reported
            # every definition: a branch too (`champions` -> `rfm.champions`)
            branches = [f"{n}.{b.name}" for n, (d, _f) in self.defs.items() if isinstance(d, ast.Segmentation)
                        for b in d.branches]
            candidates = list(self.schema.features) + list(self.defs) + branches + list(self.schema.scores)
            close = suggest(node.name, candidates)
            what = "feature or segment"
            column = self.event_column_hint(node.name)  # then a look-alike feature would mislead
            self.error("E201", f"unknown {what} `{node.name}`", node.span,
                       column or ("" if close else known_names_hint(self.schema.features, self.defs)),
                       label=f"did you mean `{close}`?" if close and not column else "")
            raise Reported
        scope.used.add(node.name)
        return self.feature_value(feature, node.span)

    def event_column_hint(self, name: str) -> str:
        """A column of an event source named at the top level, where only features exist:
        a new user's `amount > 100`."""
        for src in self.schema.sources.values():
            if src.key is None or (name not in src.columns and name != src.time):
                continue
            example = event_column_examples(src.name, name, src.columns.get(name, "timestamp"), name == src.time)
            return f"`{name}` is a column of `{src.name}`; use it inside an aggregate, e.g. {example}"
        return ""

    def feature_value(self, f: FeatureDef, span) -> ir.Value:
        if f.kind == "agg":
            return self.agg_feature(f, span)
        # a float may hold NaN, which segc reads as missing (lower.nan_free), whatever `nullable:` says
        return ir.Col(f.name, f.type, f.nullable or f.type == "float")

    def agg_feature(self, f: FeatureDef, span) -> ir.Value:
        if f.name not in self.agg_cache:
            self.agg_cache[f.name] = None  # reported once, however often the feature is used
            self.agg_cache[f.name] = self.agg_feature_value(f)
        value = self.agg_cache[f.name]
        if value is None:
            raise Reported
        return value

    def agg_feature_value(self, f: FeatureDef) -> ir.Agg:
        src = self.schema.sources[f.source]
        where = None
        if f.where is not None:
            if f.name not in self.where_cache:
                scope = Scope("event", self.event_columns(src), src.name)
                self.where_cache[f.name] = self.embedded_pred(f.where, scope)
            where = self.where_cache[f.name]
            if where is None:
                raise Reported
        window = ir.Window()
        if f.window is not None:
            window = ir.Window(lo=self.shifted(ir.AsOf(), -f.window.amount, f.window.unit, f.span))
        column = None
        if f.column is not None:
            column = ir.Col(f.column, self.event_columns(src)[f.column], True, "event")
        agg_type = self.agg_type(f.agg, column)
        if not same_kind(agg_type, f.type):
            self.error("E307", f"feature `{f.name}` is declared {f.type} but `{f.agg}` gives {agg_type}",
                       f.span, f"declare `type: {agg_type}`")
            raise Reported
        return ir.Agg(f.agg, f.source, column, where, window, f.type, label=f.name, n=f.n)

    @staticmethod
    def agg_type(func: str, column: ir.Col | None) -> str:
        if func in ("count", "count_distinct"):
            return "int"
        if func == "avg":
            return "float"
        return column.type if column is not None else "int"

    def event_columns(self, src) -> dict[str, str]:
        cols = dict(src.columns)
        if src.time:
            cols.setdefault(src.time, "timestamp")
        return cols

    def _v_Dotted(self, node, scope):
        if not isinstance(self.defs.get(node.left, (None,))[0], ast.Segmentation):
            self.not_a_segmentation(node, scope)
        self.error("E302", f"`{node.left}.{node.right}` is a condition, not a value", node.span,
                   "a branch is a condition: combine it with `and`, `or`, `not`")
        raise Reported

    def _v_Neg(self, node: ast.Neg, scope):
        x = self.value(node.operand, scope)
        if type_of(x) not in ir.NUMERIC + (ERROR,):
            self.error("E301", f"cannot negate {describe(type_of(x))}", node.span,
                       "`-` negates numbers; a condition is negated with `not`")
            raise Reported
        return ir.Neg(x)

    def _v_Arith(self, node: ast.Arith, scope):
        if isinstance(node.right, ast.Duration) and node.op in "+-":
            base = self.value(node.left, scope)
            if type_of(base) not in TEMPORAL + (ERROR,):
                self.error("E301", f"a duration can only shift a date; this is {describe(type_of(base))}",
                           node.left.span, "e.g. `signup_date + 30 days`, `today - 2 years`")
                raise Reported
            d = node.right
            return self.shifted(base, d.amount if node.op == "+" else -d.amount, d.unit, node.span)
        left, right = self.all_of((node.left, node.right), lambda n: self.value(n, scope))
        lt, rt = type_of(left), type_of(right)
        if ERROR in (lt, rt):
            return ir.Arith(node.op, left, right, ERROR)
        if lt in TEMPORAL or rt in TEMPORAL:
            self.error("E301", f"`{node.op}` does not apply to dates", node.span,
                       "use `days_since(d)`, or shift a date by a duration: `d + 30 days`")
            raise Reported
        if lt not in ir.NUMERIC or rt not in ir.NUMERIC:
            bad = node.left if lt not in ir.NUMERIC else node.right
            self.error("E301", f"`{node.op}` needs numbers; this is {describe(type_of(left if bad is node.left else right))}",
                       bad.span, "numbers are written without quotes; dates are shifted with durations "
                       "(`+ 30 days`) and compared with days_between(a, b)")
            raise Reported
        if node.op == "%" and (lt != "int" or rt != "int"):
            self.error("E301", "`%` (remainder) needs whole numbers", node.span,
                       "engines disagree on the remainder of decimals")
            raise Reported
        if node.op in "/%" and isinstance(right, ir.Const) and right.value == 0:
            self.warn("W103", "division by zero: the result is always missing", node.right.span,
                      "divide by a feature, or leave the division out")
        out = "float" if node.op == "/" or "float" in (lt, rt) else "int"
        return ir.Arith(node.op, left, right, out)

    def _v_Call(self, node: ast.Call, scope):
        name = node.func
        if name not in FUNCTIONS:
            close = suggest(name, FUNCTIONS)
            self.error("E205", f"unknown function `{name}`", node.span,
                       f"did you mean `{close}`?" if close else "functions: " + ", ".join(sorted(FUNCTIONS)))
            raise Reported
        lo, hi = FUNCTIONS[name]
        if not lo <= len(node.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}" if hi < 99 else f"at least {lo}"
            self.error("E304", f"`{name}` takes {want} argument{'s' if hi > 1 else ''}, "
                       f"got {len(node.args)}", node.span, SIGNATURES[name])
            raise Reported
        if name == "quantile_score":
            return self.quantile(node, scope)
        args = self.all_of(node.args, lambda n: self.value(n, scope))
        types = [type_of(a) for a in args]

        def need(kinds, what):
            for a, t, n in zip(args, types, node.args):
                if t not in kinds + (ERROR,):
                    quoted = t == "string" and isinstance(a, ir.Const) and kinds == TEMPORAL
                    self.error("E304", f"`{name}` needs {what}; this is {describe(t)}", n.span,
                               "a date is written without quotes: 2024-01-01" if quoted else SIGNATURES[name])
                    raise Reported

        if name in ("lower", "upper", "length", "trim"):
            need(("string",), "a string")
            return ir.Func(name, tuple(args), "int" if name == "length" else "string")
        if name in ("abs", "floor", "ceil", "round"):
            need(ir.NUMERIC, "a number")
            if name == "round" and len(args) == 2 and (types[1] != "int" or not isinstance(args[1], ir.Const)):
                self.error("E304", "the digits of `round` must be a whole number", node.args[1].span,
                           "e.g. `round(basket_avg, 2)`")
                raise Reported
            if name == "round" and len(args) == 2 and not -ROUND_DIGITS <= args[1].value <= ROUND_DIGITS:
                # engines refuse more (DuckDB: no round(BIGINT, INTEGER_LITERAL)), or answer otherwise
                self.error("E304", f"the digits of `round` must lie between -{ROUND_DIGITS} and {ROUND_DIGITS}",
                           node.args[1].span, "a float holds 15 to 17 significant digits: "
                           "more digits round nothing, e.g. `round(basket_avg, 2)`")
                raise Reported
            out = types[0] if name == "abs" else ("int" if name in ("floor", "ceil") else "float")
            return ir.Func(name, tuple(args), out)
        if name in ("days_since", "days_between", "year_of", "month_of"):
            need(TEMPORAL, "a date or timestamp")
            return ir.Func(name, tuple(args), "int")
        # coalesce, least, greatest: arguments of one type
        known = [t for t in types if t != ERROR]
        out = "float" if known and all(t in ir.NUMERIC for t in known) and "float" in known else \
            (known[0] if known else ERROR)
        if known and all(t in TEMPORAL for t in known) and "timestamp" in known:
            out = "timestamp"  # dates among timestamps stand for their midnight
        for a, t, n in zip(args, types, node.args):
            if t != ERROR and not same_kind(t, out):
                self.error("E304", f"`{name}` needs arguments of one type: {describe(out)} and {describe(t)}", n.span,
                           f"e.g. `{name}(age, 0)`: the fallback has the type of the value")
                raise Reported
        return ir.Func(name, tuple(args), out)

    def quantile(self, node, scope):
        by = self.value(node.args[0], scope)
        n = node.args[1]
        # each score above 1 is a cut in the SQL (lower.py), so n stays at percentiles or below
        if not (isinstance(n, ast.Literal) and n.type == "int" and 2 <= n.value <= MAX_QUANTILES):
            self.error("E304", f"the number of quantiles must be a whole number from 2 to {MAX_QUANTILES}", n.span,
                       "e.g. `quantile_score(revenue_365d, 5)` for quintiles; for a finer cut, `top p% by`")
            raise Reported
        if type_of(by) not in ir.NUMERIC + TEMPORAL + (ERROR,):
            self.error("E304", f"`quantile_score` ranks numbers or dates; this is {describe(type_of(by))}",
                       node.args[0].span, SIGNATURES["quantile_score"])
            raise Reported
        if scope.kind != "features":
            self.error("E306", "ranking is not available inside an aggregate", node.span,
                       "rank the aggregate itself: `quantile_score(sum(orders.amount), 5)`")
            raise Reported
        self.not_ranked(by, node.args[0].span)
        return ir.Quantile(by, n.value)

    def _v_Aggregate(self, node: ast.Aggregate, scope):
        if node.func == "exists":
            self.error("E302", "`exists(...)` is a condition, not a value", node.span,
                       "to count the events, use `count(...)`")
            raise Reported
        return self.aggregate(node, scope)

    def aggregate(self, node: ast.Aggregate, scope) -> ir.Agg:
        if scope.kind != "features":
            self.error("E306", "aggregates cannot be nested", node.span,
                       "declare the inner aggregate as a feature in segc.yml and use the feature")
            raise Reported
        src = self.schema.sources.get(node.source)
        if src is None or node.source == self.schema.base:
            events = [n for n, s in self.schema.sources.items() if s.key and n != self.schema.base]
            close = suggest(node.source, events)
            what = "is the base, not an event source" if node.source == self.schema.base else "is not a source"
            self.error("E209", f"`{node.source}` {what}", node.span,
                       f"did you mean `{close}`?" if close else
                       "event sources: " + (", ".join(events) or "none declared"))
            raise Reported
        if src.key is None:
            self.error("E209", f"source `{node.source}` has no `key:` joining it to the base", node.span,
                       f"give sources.{node.source} a `key:` column in segc.yml")
            raise Reported
        columns = self.event_columns(src)
        sequence = self.sequence(node, src) if node.sequence is not None else None
        column = None
        if node.column is not None:
            if node.column not in columns:
                self.no_event_column(node.source, node.column, columns, node.span)
            column = ir.Col(node.column, columns[node.column], True, "event")
        func = node.func
        if func in ("sum", "avg", "min", "max", "count_distinct") and column is None:
            numeric = sorted((c for c, t in columns.items() if t in ir.NUMERIC and c != src.key),
                             key=lambda c: columns[c] != "float")  # an amount rather than an id
            self.error("E304", f"`{func}` needs a column: `{func}({node.source}.<column> ...)`", node.span,
                       f"e.g. `{func}({node.source}.{numeric[0]})`" if numeric else
                       f"its columns: {', '.join(columns)}")
            raise Reported
        if func in ("sum", "avg") and column.type not in ir.NUMERIC:
            self.error("E301", f"`{func}` needs a numeric column; `{node.column}` is {column.type}", node.span,
                       "count the events with `count(...)`, or their kinds with `count_distinct(...)`")
            raise Reported
        if func in ("count", "exists") and column is not None:
            func_ok = func == "count"
            if not func_ok:
                self.error("E304", "`exists` takes a source, not a column", node.span,
                           f"e.g. `exists({node.source} where {node.column} is present)`")
                raise Reported
        where = None
        if node.where is not None:
            where = self.pred(node.where, Scope("event", columns, node.source))
        window = ir.Window()
        if node.during is not None:
            if src.time is None:
                self.error("E210", f"`during` needs a time column, and source `{node.source}` declares no "
                           "`time:`", node.during.span, f"add `time: <column>` to source `{node.source}`")
                raise Reported
            window = self.period(node.during, scope)
            if not all(is_fixed(b) for b in (window.lo, window.hi)):
                # the window is applied inside the source's GROUP BY, where features do not exist
                self.error("E306", "the range after `during` must be dates, `today` or $parameters, "
                           "not features", node.during.span,
                           "compare the feature outside the aggregate, or use `last 30 days`, "
                           "`this month`, `2024-01-01 to 2024-03-31`")
                raise Reported
            if node.during.kind == "next":
                self.warn("W104", "`during next ...` is always empty: aggregates only see events before "
                          "the as-of date", node.during.span, "write `during last ...`")
        if func == "exists":
            func = "count"
        n = self.pick_position(node, src) if func in ir.PICKS else None
        return ir.Agg(func, node.source, column, where, window, self.agg_type(func, column), sequence=sequence,
                      n=n)

    def pick_position(self, node: ast.Aggregate, src) -> int | None:
        """nth's k: an integer literal from 1 (the SQL numbers rows with it); first, last and
        nth need the events' time order."""
        if node.func in ("first", "last", "nth") and not src.time:
            self.error("E210", f"`{node.func}` needs the events in time order, and source `{node.source}` "
                       "declares no `time:`", node.span, f"add `time: <column>` to source `{node.source}`")
            raise Reported
        if node.func != "nth":
            if node.k is not None:
                self.error("E304", f"`{node.func}` takes no position", node.k.span,
                           f"`nth({node.source}.{node.column}, 2)` is the value on the second event")
                raise Reported
            return None
        k = node.k
        if k is None or not (isinstance(k, ast.Literal) and k.type == "int" and k.value >= 1):
            self.error("E304", "`nth` needs the position of the event: a whole number from 1",
                       (k or node).span, f"e.g. `nth({node.source}.{node.column}, 2)` for the second event")
            raise Reported
        return k.value
