"""Checked program -> sqlglot trees. Never SQL strings: identifiers are quoted, literals
are sqlglot literals. Only the features and aggregates a query uses are computed, with
one GROUP BY per event source.

Shape:
    WITH "segc_src_orders" AS (SELECT key AS segc_key, <conditional aggregates>
                                FROM orders WHERE time < as_of GROUP BY key),
         "segc_features"   AS (SELECT base key, used columns, COALESCE(aggregates)
                                FROM base LEFT JOIN segc_src_... ),
         "segc_values_1"   AS (SELECT <a ranked value> FROM segc_features WHERE population),
         "segc_dist_1"     AS (its distinct values: count, running count, total),
         "segc_cuts_1"     AS (one row: the cuts of `top`, `bottom`, `quantile_score`)
    SELECT ... FROM segc_features [CROSS JOIN segc_cuts_1] WHERE population AND <condition>
A COUNT(DISTINCT) gets its own GROUP BY ("segc_distinct_N"), a sequence its own CTE
("segc_seq_N", backend/sequences.py); conditions shared by all the
aggregates of a GROUP BY (a common window, the `where`) filter its events in WHERE.

One module of about 620 lines: the CTEs above are named, ordered and shared by one
Lowerer per query (the events' GROUP BYs, the features, the cuts), and its values,
conditions and CTEs refer to each other (a first / last compared with a constant becomes
aggregates of its source's GROUP BY); split, each part would reach into the others. The
sqlglot builders it uses, as do the other modules that write SQL, are backend/trees.py.
"""
from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, replace
from fractions import Fraction

from sqlglot import exp

from segc.front.errors import Diagnostic, SegcError
from segc import ir
from segc.backend.equalities import equalities_as_sets
from segc.backend.holdout import holdout_condition
from segc.backend.picks import COMPARED_AT, pick_cte
from segc.backend.ranks import absolute_rank_test
from segc.backend.rewrites import FLOAT_SUM
from segc.backend.strings import regex_search, trim_spaces
from segc.backend.trees import (alias, and_, col, datatype, dedupe, ident, is_true, literal, make_select,
                                nan_free, not_, or_, paren, table, with_ctes)
from segc.backend.sequences import sequence_cte
from segc.schema.segc_yml import Schema

KEY = "segc_key"
FEATURES = "segc_features"
BASE = "segc_base"


# how many edge-time columns one first / last may add to its source's GROUP BY (each
# comparison with a constant adds 1 to 3, an `in` list 2 per item) before its value is read
# instead (one more pass, whatever the number of comparisons): a segmentation by the last
# category, or a list of 500 stores, would otherwise add a column per value
PICK_TESTS = 8
_CMP = {"=": exp.EQ, "!=": exp.NEQ, "<": exp.LT, "<=": exp.LTE, ">": exp.GT, ">=": exp.GTE}
_HOLDS = {"=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_ARITH = {"+": exp.Add, "-": exp.Sub, "*": exp.Mul}


@dataclass
class _Source:
    name: str
    aggs: dict  # ir.Agg -> column name


# conditions one query may hold: the checker bounds each definition (check/nesting.py,
# E105), but `segc count` writes every segment into one query; ten segments each using
# one 93,000-node segment took 24 s to lower, 17 s to write and 2.3 GB
MAX_CONDITIONS = 100_000


class Lowerer:
    """Lowers conditions against one schema and as-of; remembers what they need."""

    def __init__(self, schema: Schema, as_of: dt.date | None):
        self.schema = schema
        self.as_of = as_of
        self.columns: list[str] = []  # features of the base, in order of first use
        self.sources: dict[str, _Source] = {}
        self.cuts: dict[ir.Value, dict[tuple, str]] = {}  # ranked value -> {cut: column}
        self.n_aggs = 0
        self.pick_tests: dict[ir.Agg, int] = {}  # first / last -> edge-time columns it added (at most)
        self.conditions = 0  # lowered so far: one query of many segments is bounded too (pred)

    # ---- values ----
    def value(self, v: ir.Value) -> exp.Expression:
        if isinstance(v, ir.Const):
            return literal(v.value, v.type)
        if isinstance(v, ir.Col):
            if v.scope == "event":
                return nan_free(col(v.name)) if v.type == "float" else col(v.name)
            if v.name not in self.columns:
                self.columns.append(v.name)
            return col(v.name)
        if isinstance(v, ir.AsOf):
            return literal(self.as_of, "date") if self.as_of else exp.CurrentDate()
        if isinstance(v, ir.DateShift):
            folded = self._fold_date(v)
            if folded is not None:
                return literal(folded, "date")
            # a timestamp keeps its time of day: DATE_ADD gives a date on Spark and SQLite
            shift = exp.TimestampAdd if v.type == "timestamp" else exp.DateAdd
            return shift(this=self.value(v.base), expression=exp.Literal.number(v.amount), unit=exp.var(v.unit.upper()))
        if isinstance(v, ir.Arith):
            left, right = paren(self.value(v.left)), paren(self.value(v.right))
            safe_right = right if _nonzero_const(v.right) else exp.Nullif(this=right, expression=exp.Literal.number(0))
            if v.op == "/":
                return exp.Div(this=left, expression=safe_right, typed=False, safe=False)
            if v.op == "%":
                return exp.Mod(this=left, expression=safe_right)
            return _ARITH[v.op](this=left, expression=right)
        if isinstance(v, ir.Neg):
            return exp.Neg(this=paren(self.value(v.operand)))
        if isinstance(v, ir.Func):
            return self._func(v)
        if isinstance(v, ir.Agg):
            return col(self._agg_column(v))
        if isinstance(v, ir.Quantile):
            # the score is the highest s whose cut (the least value scoring s) v reaches
            ifs = [exp.If(this=self._score_test(v, s), true=exp.Literal.number(s)) for s in range(v.n, 1, -1)]
            score = exp.Case(ifs=ifs, default=exp.Literal.number(1))
            guards = self.guards(v.by)  # a missing value reaches no cut, yet must stay missing
            return exp.Case(ifs=[exp.If(this=and_(guards), true=score)]) if guards else score
        raise TypeError(f"cannot lower {v!r}")

    def _fold_date(self, v: ir.Value) -> dt.date | None:
        """With a pinned as-of, date arithmetic is done here and emitted as a literal."""
        if isinstance(v, ir.AsOf):
            return self.as_of
        if isinstance(v, ir.Const) and v.type == "date":
            return v.value
        if isinstance(v, ir.DateShift):
            base = self._fold_date(v.base)
            return None if base is None else ir.shift_date(base, v.amount, v.unit)
        if isinstance(v, ir.Func) and v.name.startswith("trunc_"):
            base = self._fold_date(v.args[0])
            if base is None:
                return None
            unit = v.name[6:]
            if unit == "month":
                return base.replace(day=1)
            if unit == "year":
                return base.replace(month=1, day=1)
            return base - dt.timedelta(days=base.weekday())  # ISO weeks start on Monday
        return None

    def _func(self, v: ir.Func) -> exp.Expression:
        args = [self.value(a) for a in v.args]
        name = v.name
        if name.startswith("trunc_"):
            folded = self._fold_date(v)
            if folded is not None:
                return literal(folded, "date")
            return exp.DateTrunc(this=args[0], unit=exp.var(name[6:].upper()))
        if name == "days_since":
            asof = self.value(ir.AsOf())
            return exp.DateDiff(this=asof, expression=exp.Cast(this=args[0], to=datatype("DATE")),
                                unit=exp.var("DAY"))
        if name == "days_between":  # calendar days from the date of a to the date of b
            a, b = (x if arg.type == "date" else exp.Cast(this=x, to=datatype("DATE")) for arg, x in zip(v.args, args))
            return exp.DateDiff(this=b, expression=a, unit=exp.var("DAY"))
        if name == "to_float":  # a score's input (score_model.formula): double precision, bools 1/0
            x = exp.Cast(this=args[0], to=datatype("INT")) if v.args[0].type == "bool" else args[0]
            return exp.Cast(this=x, to=datatype("DOUBLE"))
        if name == "logistic":  # a score: 1 / (1 + exp(-z)), z = the sum of the arguments
            z = args[0]
            for a, term in zip(v.args[1:], args[1:]):  # a negative term (Neg) is subtracted
                z = exp.Sub(this=z, expression=paren(term.this)) if isinstance(a, ir.Neg) else \
                    exp.Add(this=z, expression=paren(term))
            # z clamped to [-40, 40]: PostgreSQL and MySQL raise on EXP overflow and underflow;
            # EXP stays within 4e-18..3e17, and the score moves by at most 1 / (1 + e^40) =
            # 4.2e-18, far below the 1e-9 the tests hold it to. z is never missing (inputs
            # are imputed), so GREATEST/LEAST may ignore NULLs: the plain function everywhere
            z = exp.Least(this=exp.Literal.number("40.0"), expressions=[z], ignore_nulls=True)
            z = exp.Greatest(this=exp.Literal.number("-40.0"), expressions=[z], ignore_nulls=True)
            denominator = exp.Paren(this=exp.Add(this=exp.Literal.number("1.0"),
                                                 expression=exp.Exp(this=exp.Neg(this=z))))
            return exp.Div(this=exp.Literal.number("1.0"), expression=denominator, typed=False, safe=False)
        simple = {"lower": exp.Lower, "upper": exp.Upper, "length": exp.Length, "abs": exp.Abs,
                  "floor": exp.Floor, "ceil": exp.Ceil, "year_of": exp.Year, "month_of": exp.Month}
        if name in ("floor", "ceil"):
            # a whole number, as the checker types it (PostgreSQL's FLOOR of a double, or of
            # a bigint, is a double, and `%` has no double precision operator there)
            return exp.Cast(this=simple[name](this=args[0]), to=datatype("BIGINT"))
        if name in simple:
            return simple[name](this=args[0])
        if name == "trim":
            return trim_spaces(args[0])
        if name == "round":
            return exp.Round(this=args[0], decimals=args[1] if len(args) > 1 else None)
        if v.type == "timestamp" and name in ("coalesce", "least", "greatest"):
            # dates among timestamps: their midnight (SQLite would compare the texts)
            args = [self._as_timestamp(a, la) if getattr(a, "type", None) == "date" else la
                    for a, la in zip(v.args, args)]
        if name == "coalesce":
            return exp.Coalesce(this=args[0], expressions=args[1:])
        # engines differ on NULL arguments (ignored or contagious): missing if any is missing,
        # by the guards; under them no argument is NULL, which ignore_nulls tells sqlglot (else
        # it emulates contagious NULLs by repeating every argument: nested calls grew 5x a level)
        cls = exp.Least if name == "least" else exp.Greatest
        out = cls(this=args[0], expressions=args[1:], ignore_nulls=True)
        guards = self.guards(v)
        return exp.Case(ifs=[exp.If(this=and_(guards), true=out)]) if guards else out

    # ---- guards: the conditions under which a value is present ----
    def guards(self, v: ir.Value) -> list[exp.Expression]:
        if isinstance(v, (ir.Const, ir.AsOf)):
            return []
        if isinstance(v, ir.Col):
            return [_is_not_null(self.value(v))] if v.nullable else []
        if isinstance(v, (ir.DateShift,)):
            return self.guards(v.base)
        if isinstance(v, ir.Neg):
            return self.guards(v.operand)
        if isinstance(v, ir.Arith):
            out = self.guards(v.left) + self.guards(v.right)
            if v.op in "/%" and not _nonzero_const(v.right):
                out.append(exp.NEQ(this=paren(self.value(v.right)), expression=exp.Literal.number(0)))
            return dedupe(out)
        if isinstance(v, ir.Func):
            if v.name == "coalesce":
                per_arg = [self.guards(a) for a in v.args]
                if any(not g for g in per_arg):
                    return []
                return [or_([and_(g) for g in per_arg])]
            return dedupe([g for a in v.args for g in self.guards(a)])
        if isinstance(v, ir.Quantile):
            return self.guards(v.by)
        if isinstance(v, ir.Agg):
            if not v.nullable:
                return []
            return [_is_not_null(self.value(v))]
        raise TypeError(f"cannot guard {v!r}")

    # ---- conditions ----
    def pred(self, p: ir.Pred, positive: bool = True) -> exp.Expression:
        """A condition that is true exactly when the segment's condition holds.

        Where it is not under a `not` (`positive`), an atomic condition on a missing value
        is NULL, which WHERE and CASE already treat as false, so no guard is needed; under
        a `not`, every nullable operand is guarded (`x IS NOT NULL AND ...`) so that NOT
        gives the complement."""
        self.conditions += 1
        if self.conditions > MAX_CONDITIONS:
            raise SegcError(Diagnostic(
                "E105", f"this query would hold more than {MAX_CONDITIONS:,} conditions once the segments it "
                "uses are written out", hints=(
                    "run it on fewer segments at once (each is within the bound alone: E105 in `segc check`), "
                    "or use a large segment once in the segments that repeat it",)))
        if isinstance(p, ir.Bool):
            return exp.true() if p.value else exp.false()
        if isinstance(p, ir.And):
            return and_([self.pred(i, positive) for i in p.items])
        if isinstance(p, ir.Or):
            return or_([self.pred(i, positive) for i in equalities_as_sets(p.items)])
        if isinstance(p, ir.Not):
            return not_(self.pred(p.operand, not positive))
        if isinstance(p, (ir.Cmp, ir.InSet, ir.Missing)):
            picked = self._pick_test(p, positive)
            if picked is not None:
                return picked
        if isinstance(p, ir.Cmp):
            scores = self._score_range(p, positive)
            if scores is not None:
                return scores
            left, right = self._comparable(p.left, p.right)
            core = _CMP[p.op](this=paren(left), expression=paren(right))
            return self._guarded(positive, [p.left, p.right], core)
        if isinstance(p, ir.IsTrue):
            return self._guarded(positive, [p.value], exp.EQ(this=paren(self.value(p.value)), expression=exp.true()))
        if isinstance(p, ir.InSet):
            x = self.value(p.operand)
            items = [self._comparable(p.operand, i)[1] for i in p.items]
            core = exp.In(this=paren(x), expressions=items)
            if p.negated:
                core = exp.Not(this=core)
            return self._guarded(positive, [p.operand], core)
        if isinstance(p, ir.Missing):
            present = and_(self.guards(p.operand))
            if p.present:
                return present
            return not_(present)
        if isinstance(p, ir.Match):
            return self._match(p, positive)
        if isinstance(p, (ir.Top, ir.TopN)):
            if isinstance(p, ir.TopN):
                cut = self._cut(p.by, (p.direction + "_n", p.n, 0))
            else:
                share = Fraction(str(p.percent)) / 100
                cut = self._cut(p.by, (p.direction, share.numerator, share.denominator))
            # no cut when nobody qualifies (top 5% of 10 customers): false, also under `not`
            core = (exp.GTE if p.direction == "top" else exp.LTE)(this=paren(self.value(p.by)), expression=cut)
            return and_(self.guards(p.by) + [_is_not_null(cut.copy()), core])
        if isinstance(p, ir.Holdout):  # hashes the base key, which every final relation carries
            return holdout_condition(p.percent, p.seed, col(KEY))
        raise TypeError(f"cannot lower {p!r}")

    def _pick_test(self, p: ir.Pred, positive: bool) -> exp.Expression | None:
        """A first / last (grouped form) compared with a constant, as tests of edge times in
        its source's GROUP BY, without the pick's second pass (backend/picks.py
        COMPARED_AT); None when the pick's value is computed anyway, or for anything else."""
        if isinstance(p, ir.Cmp):
            pick, op, v = (p.left, p.op, p.right) if isinstance(p.left, ir.Agg) else (p.right, _FLIP[p.op], p.left)
        else:
            pick, op, v = p.operand, None, None
        edge = _edge_time(pick, self.schema) if isinstance(pick, ir.Agg) else None
        if edge is None or not (v is None or _per_query(v)):
            return None
        src = self.sources.get(pick.source)
        if src is not None and pick in src.aggs:
            return None
        if pick.column.name == edge.column.name:  # first(orders.ordered_at): the edge time itself
            if isinstance(p, ir.Cmp):
                return self.pred(ir.Cmp(op, edge, v), positive)
            return self.pred(replace(p, operand=edge), positive)
        needed = (_edge_tests(op) if isinstance(p, ir.Cmp) else 1 if isinstance(p, ir.Missing)
                  else len(p.items) * _edge_tests("=") + p.negated)  # at most: some are shared
        if self.pick_tests.get(pick, 0) + needed > PICK_TESTS:
            return None
        self.pick_tests[pick] = self.pick_tests.get(pick, 0) + needed
        latest = col(self._agg_column(edge))

        def edge_of(q: ir.Pred) -> exp.Column:
            return col(self._agg_column(replace(edge, where=q if edge.where is None else ir.And((edge.where, q)))))

        def at(q: ir.Pred, guard: bool) -> exp.Expression:  # some event at the edge time satisfies q
            t = edge_of(q)
            same = exp.EQ(this=t, expression=latest.copy())
            return and_([_is_not_null(t.copy()), same]) if guard else same

        def none_at(q: ir.Pred) -> exp.Expression:  # never NULL: T_q is present only if T is
            t = edge_of(q)
            return or_([exp.Is(this=t, expression=exp.Null()), exp.NEQ(this=t.copy(), expression=latest.copy())])

        def compared(op: str, v: ir.Value, guard: bool) -> exp.Expression:
            if op == "!=":
                return or_([compared("<", v, guard), paren(compared(">", v, guard))])
            must, must_not = COMPARED_AT[op]
            return and_([at(ir.Cmp(o, pick.column, v), guard) for o in must] +
                        [none_at(ir.Cmp(o, pick.column, v)) for o in must_not])

        def present(guard: bool) -> exp.Expression:
            if not self.guards(pick.column):  # a value that is never missing: any event
                return _is_not_null(latest.copy())
            return at(ir.Missing(pick.column, True), guard)

        # under a `not`, each test is two-valued (never NULL), as _guarded makes the others
        guard = not positive
        if isinstance(p, ir.Cmp):
            return compared(op, v, guard)
        if isinstance(p, ir.Missing):
            return present(guard) if p.present else not_(present(True))
        if p.negated:
            return and_([present(guard), not_(or_([paren(compared("=", i, True)) for i in p.items]))])
        return or_([paren(compared("=", i, guard)) for i in p.items])

    def _score_range(self, p: ir.Cmp, positive: bool) -> exp.Expression | None:
        """`quantile_score(f, 5) >= 4` as `f >= <the cut of 4>`: a range of scores is a range
        of values, so no score is computed (RFM tiers compare scores many times per row)."""
        q, c, op = p.left, p.right, p.op
        if isinstance(c, ir.Quantile):
            q, c, op = c, q, _FLIP[op]
        if not (isinstance(q, ir.Quantile) and isinstance(c, ir.Const)) or op not in _HOLDS:
            return None
        scores = [s for s in range(1, q.n + 1) if _HOLDS[op](s, c.value)]
        if not scores:
            return exp.false()
        lo, hi = scores[0], scores[-1]
        parts = [self._score_test(q, lo)] if lo > 1 else []
        if hi < q.n:
            parts.append(self._score_test(q, hi + 1, exp.LT))
        return self._guarded(positive, [q.by], and_(parts)) if parts else and_(self.guards(q.by))

    def _score_test(self, q: ir.Quantile, s: int, cmp=exp.GTE) -> exp.Expression:
        """The value against the cut of score s: `>=` it has a score of s or more."""
        return cmp(this=paren(self.value(q.by)), expression=self._cut(q.by, ("quantile", q.n, s)))

    def _guarded(self, positive: bool, operands, core: exp.Expression) -> exp.Expression:
        if positive:
            return core
        return and_([g for v in operands for g in self.guards(v)] + [core])

    def _comparable(self, a: ir.Value, b: ir.Value):
        """Dates compared with timestamps: the date side becomes a timestamp (its midnight),
        a literal when its value is known here, else a cast. Never compare them as they are:
        SQLite compares the ISO texts, where '2024-03-01' < '2024-03-01 00:00:00'."""
        ta, tb = getattr(a, "type", None), getattr(b, "type", None)
        va, vb = self.value(a), self.value(b)
        if {ta, tb} == {"date", "timestamp"}:
            if tb == "date":
                vb = self._as_timestamp(b, vb)
            else:
                va = self._as_timestamp(a, va)
        return va, vb

    def _as_timestamp(self, v: ir.Value, lowered: exp.Expression) -> exp.Expression:
        folded = v.value if isinstance(v, ir.Const) else self._fold_date(v)
        if folded is not None:
            return literal(folded, "timestamp")
        return exp.Cast(this=lowered, to=datatype("TIMESTAMP"))

    def _match(self, p: ir.Match, positive: bool) -> exp.Expression:
        x = self.value(p.operand)
        if p.pattern == "":
            # every present string contains, starts and ends with "" (and an empty regex finds it)
            return and_(self.guards(p.operand))
        if p.kind == "matches":
            return self._guarded(positive, [p.operand], regex_search(x, p.pattern))
        pat = exp.Literal.string(p.pattern)
        if p.kind == "contains":
            core = exp.GT(this=exp.StrPosition(this=x, substr=pat), expression=exp.Literal.number(0))
        else:
            cls = exp.Left if p.kind == "starts" else exp.Right
            # literal matching: no LIKE, so no wildcard or escape differences between engines
            core = exp.EQ(this=cls(this=x, expression=exp.Length(this=pat.copy())), expression=pat)
        return self._guarded(positive, [p.operand], core)

    # ---- what the conditions need ----
    def _agg_column(self, a: ir.Agg) -> str:
        src = self.sources.get(a.source)
        if src is None:
            src = self.sources[a.source] = _Source(a.source, {})
        name = src.aggs.get(a)  # an ir.Agg hashes its whole tree, each time: once here
        if name is None:
            if a.label and a.label not in [n for s in self.sources.values() for n in s.aggs.values()]:
                name = a.label
            else:
                self.n_aggs += 1
                name = f"segc_agg_{self.n_aggs}"
            src.aggs[a] = name
            edge = _edge_time(a, self.schema)
            if edge is not None:  # its first pass, in the source's GROUP BY
                self._agg_column(edge)
        return name

    def _cut(self, by: ir.Value, spec: tuple) -> exp.Column:
        """The column of a cut: a value of `by` that bounds who ranks (see _cut_ctes)."""
        if by not in self.cuts:
            self.value(by)  # register the features/aggregates it ranks before the CTEs are built
            self.cuts[by] = {}
        cuts = self.cuts[by]
        if spec not in cuts:
            cuts[spec] = f"segc_cut_{sum(map(len, self.cuts.values())) + 1}"
        return col(cuts[spec])

    # ---- the query ----
    def query(self, population: ir.Pred, select) -> exp.Select:
        """`select(lowerer)` returns (projections, condition) over the final relation."""
        self.conditions = 0  # the bound is a query's (the playground's lowerer makes many)
        pop = self.pred(population)
        projections, where = select(self)
        groups = self._event_groups()
        ctes = [(name, self._event_cte(source, aggs)) for name, source, aggs in groups]
        ctes.append((FEATURES, self._features_select(groups)))
        cond = and_([pop, where]) if where is not None else pop
        joins = []
        for i, (by, cuts) in enumerate(self.cuts.items(), 1):
            ctes += self._cut_ctes(i, by, cuts, pop.copy())
            joins.append(exp.Join(this=table(f"segc_cuts_{i}"), kind="CROSS"))
        return with_ctes(make_select(projections, table(FEATURES), cond, joins=joins), ctes)

    def _cut_ctes(self, i: int, by: ir.Value, cuts: dict[tuple, str], pop: exp.Expression):
        """Ranks as cuts: whether a customer is in the top p%, or has a quantile score of at
        least s, only depends on whether their value reaches one value of the population's
        distribution, its cut. So the distinct present values are counted once
        (segc_dist_N: how many have it, how many have it or less), each cut is a MIN/MAX
        over them (segc_cuts_N, one row), and the final relation compares with it: no
        window over the population, no join back on the key (benchmarks/README.md §4)."""
        v, n, le, total = (col(c) for c in ("segc_value", "segc_n", "segc_le", "segc_total"))
        values = make_select([alias(self.value(by), "segc_value")], table(FEATURES), and_([pop, *self.guards(by)]))
        count = exp.Count(this=exp.Star())
        running = exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW")
        dist = make_select([v.copy(), alias(count, "segc_n"),
                            alias(exp.Window(this=exp.Sum(this=count.copy()), spec=running,
                                             order=exp.Order(expressions=[exp.Ordered(this=v.copy(), nulls_first=True)])), "segc_le"),
                            alias(exp.Window(this=exp.Sum(this=count.copy())), "segc_total")],
                           table(f"segc_values_{i}"), group_by=[v.copy()])

        def times(k: int, c: exp.Expression) -> exp.Expression:
            return exp.Mul(this=exp.Literal.number(k), expression=paren(c.copy()))

        columns = []
        for spec, name in cuts.items():
            kind, a, b = spec
            if kind == "quantile":  # ceil(a * le / total) >= b  <=>  a * le > (b - 1) * total
                test, pick = exp.GT(this=times(a, le), expression=times(b - 1, total)), exp.Min
            elif kind == "top":  # share a/b: (values >= v) / total <= a / b
                ge = exp.Add(this=exp.Sub(this=total.copy(), expression=le.copy()), expression=n.copy())
                test, pick = exp.LTE(this=times(b, ge), expression=times(a, total)), exp.Min
            elif kind == "bottom":  # (values <= v) / total <= a / b
                test, pick = exp.LTE(this=times(b, le), expression=times(a, total)), exp.Max
            else:  # top_n / bottom_n: fewer than a values strictly better (ties go in together)
                test, pick = absolute_rank_test(kind, a, n, le, total)
            columns.append(alias(pick(this=exp.Case(ifs=[exp.If(this=test, true=v.copy())])), name))
        return [(f"segc_values_{i}", values), (f"segc_dist_{i}", dist),
                (f"segc_cuts_{i}", make_select(columns, table(f"segc_dist_{i}")))]

    def _event_groups(self) -> list[tuple[str, str, dict]]:
        """(CTE name, source, {aggregate: column}): one GROUP BY per event source, and one
        per COUNT(DISTINCT), filtered before grouping: beside plain aggregates DuckDB
        materializes the events to group them twice (benchmarks/README.md §4)."""
        out, n = [], 0
        for name in sorted(self.sources):
            aggs = self.sources[name].aggs
            plain = {a: c for a, c in aggs.items() if _own_cte(a) is None}
            if plain:
                out.append((f"segc_src_{name}", name, plain))
            for a, c in aggs.items():
                if _own_cte(a) is not None:
                    n += 1
                    out.append((f"segc_{_own_cte(a)}_{n}", name, {a: c}))
        return out

    def _event_cte(self, name: str, aggs: dict) -> exp.Select:
        src = self.schema.sources[name]
        conds = [self._agg_conds(a) for a in aggs]
        seq = next(iter(aggs)).sequence
        if next(iter(aggs)).func in ir.PICKS:  # one aggregate: backend/picks.py
            return self._pick_cte(src, *aggs.items(), conds[0])
        if seq is not None:  # one aggregate: backend/sequences.py
            y_where = self.pred(seq.where) if seq.where is not None else None
            w = next(iter(aggs)).window
            bounds = (self.value(w.lo) if w.lo is not None else None,
                      self.value(w.hi) if w.hi is not None and not isinstance(w.hi, ir.AsOf) else None)
            return sequence_cte(self.schema, *aggs, *aggs.values(), conds[0], y_where, self._as_of_bound(), table,
                                bounds)  # in the order of aggs (no hashing of aggregates)
        # conditions every aggregate shares filter the events once, in WHERE
        shared = [c for c in conds[0] if all(c in cs for cs in conds)]
        where = list(shared)
        if src.time:
            lows = [self._fold_date(a.window.lo) if a.window.lo is not None else None for a in aggs]
            if None not in lows and len(set(lows)) > 1:  # different windows: skip older events
                where.insert(0, exp.GTE(this=col(src.time), expression=literal(min(lows), "date")))
            point_in_time = exp.LT(this=col(src.time), expression=self._as_of_bound())
            where.append(point_in_time)
        projections = [alias(col(src.key), KEY)]
        for (agg, column), agg_conds in zip(aggs.items(), conds):
            own = [c for c in agg_conds if c not in shared]
            projections.append(alias(self._aggregate(agg, own), column))
        return make_select(projections, table(src.table), and_(where) if where else None, [col(src.key)])

    def _pick_cte(self, src, pick: tuple[ir.Agg, str], conds: list[exp.Expression]) -> exp.Select:
        agg, column = pick
        value = col(agg.column.name)
        value = nan_free(value) if agg.column.type == "float" else value
        where = and_([*conds, exp.LT(this=col(src.time), expression=self._as_of_bound())] if src.time else conds)
        edge = _edge_time(agg, self.schema)
        latest = None if edge is None else (table(f"segc_src_{agg.source}"), self.sources[agg.source].aggs[edge])
        return pick_cte(agg.func, agg.n, column, table(src.table), col(src.key), col(src.time) if src.time else None,
                        [col(c) for c in src.order_by], value, None if is_true(where) else where, latest)

    def _as_of_bound(self) -> exp.Expression:
        return literal(self.as_of, "date") if self.as_of else exp.CurrentDate()

    def _agg_conds(self, a: ir.Agg) -> list[exp.Expression]:
        src = self.schema.sources[a.source]
        conds = []
        if a.window.lo is not None:
            conds.append(exp.GTE(this=col(src.time), expression=self.value(a.window.lo)))
        if a.window.hi is not None and not isinstance(a.window.hi, ir.AsOf):
            conds.append(exp.LT(this=col(src.time), expression=self.value(a.window.hi)))
        if a.where is not None:
            conds.append(self.pred(a.where))
        return conds

    @staticmethod
    def _aggregate(a: ir.Agg, conds: list[exp.Expression]) -> exp.Expression:
        cond = and_(conds) if conds else None
        target = exp.Literal.number(1) if a.column is None else col(a.column.name)
        if a.column is not None and a.column.type == "float":
            target = nan_free(target)
        value = exp.Case(ifs=[exp.If(this=cond, true=target)]) if cond is not None else target
        if a.func == "count":
            return exp.Count(this=value if cond is not None or a.column else exp.Star())
        if a.func == "count_distinct":
            return exp.Count(this=exp.Distinct(expressions=[value]))
        cls = {"sum": exp.Sum, "avg": exp.Avg, "min": exp.Min, "max": exp.Max}[a.func]
        node = cls(this=value)
        if a.func in ("sum", "avg") and a.column is not None and a.column.type == "float":
            node.meta[FLOAT_SUM] = True  # a dialect whose parallel float sums vary rewrites it
        return node

    def _features_select(self, groups) -> exp.Select:
        schema = self.schema
        base = schema.sources[schema.base]
        projections = [alias(col(schema.key, BASE), KEY)]
        for name in self.columns:
            f = schema.features[name]
            if f.kind == "sql":
                expr = f.sql.copy()
                for c in expr.find_all(exp.Column):
                    c.set("table", ident(BASE))
                    c.this.set("quoted", True)
                projections.append(alias(nan_free(expr) if f.type == "float" else expr, name))
            else:
                column = col(f.column, BASE)
                projections.append(alias(nan_free(column) if f.type == "float" else column, name))
        joins = []
        for cte, _source, aggs in groups:
            for agg, column in aggs.items():
                ref = col(column, cte)
                if agg.func in ("count", "count_distinct", "sum"):
                    ref = exp.Coalesce(this=ref, expressions=[exp.Literal.number(0)])
                projections.append(alias(ref, column))
            joins.append(exp.Join(this=table(cte, cte), side="LEFT",
                                  on=exp.EQ(this=col(KEY, cte), expression=col(schema.key, BASE))))
        return make_select(projections, table(base.table, BASE), self._present(base), joins=joins)

    def _present(self, base) -> exp.Expression | None:
        """DESIGN §8.2: with `time:` on the base, the population at the as-of is the rows
        that appeared before it (as events: `time < as_of`); a missing time counts as
        present since always. Without it, every base row."""
        if not base.time:
            return None
        since = col(base.time, BASE)
        return exp.Or(this=exp.Is(this=since, expression=exp.Null()),
                      expression=exp.LT(this=since.copy(), expression=self._as_of_bound()))


def _edge_time(a: ir.Agg, schema) -> ir.Agg | None:
    """The latest (first: earliest) time of a first / last's events, an aggregate of the
    source's one GROUP BY that its grouped form (backend/picks.py) joins back on; None
    for the picks that keep the window (order_by:, booleans: PostgreSQL has no MIN(boolean))."""
    src = schema.sources[a.source]
    if a.func not in ("first", "last") or src.order_by or not src.time or a.column.type == "bool":
        return None
    time = ir.Col(src.time, src.columns.get(src.time, "timestamp"), True, "event")
    return ir.Agg("max" if a.func == "last" else "min", a.source, time, a.where, a.window, time.type)


def _edge_tests(op: str) -> int:
    """How many edge-time columns `first / last op constant` uses (backend/picks.py COMPARED_AT)."""
    if op == "!=":
        return _edge_tests("<") + _edge_tests(">")
    return sum(map(len, COMPARED_AT[op]))


def _per_query(v: ir.Value) -> bool:
    """A value that is the same for every entity: a constant, the as-of, a shift of them."""
    if isinstance(v, ir.DateShift):
        return _per_query(v.base)
    return isinstance(v, (ir.Const, ir.AsOf))


def _own_cte(a: ir.Agg) -> str | None:
    """The kind of CTE an aggregate needs of its own, beside its source's one GROUP BY."""
    if a.func in ir.PICKS:
        return "pick"
    if a.sequence is not None:
        return "seq"
    return "distinct" if a.func == "count_distinct" else None


def _is_not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=e, expression=exp.Null()))


def _nonzero_const(v: ir.Value) -> bool:
    return isinstance(v, ir.Const) and v.value != 0
