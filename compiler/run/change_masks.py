"""`segc changes` compared per key in the wide form (issue 18): each customer's membership
as bit masks, one bit per (definition, branch), now and in the stored snapshot; only the
keys whose masks differ are unfolded into (key, definition, branch, change) rows.

Why: the long form compares ~6M (key, pair) rows with ~6M stored ones (a hash join of 6M
x 6M at 1M customers); the masks join 1M x 1M rows on the key alone. The masks now come
from the population scan (one expression per row: the count's scan); the stored ones from
one GROUP BY key with BIT_OR over the stored rows. A bit is `CAST(2^i AS BIGINT)`, 62 to
a mask (no sign bit), so a project with more pairs has several masks. Used on the engines
segc runs on (DuckDB, PostgreSQL: BIT_OR, `&` and FULL JOIN); the `--template changes`
keeps the portable EXCEPTs (membership._differences)."""
from __future__ import annotations

from sqlglot import exp

from segc.backend.lower import KEY
from segc.backend.trees import alias, col, ident, table

BITS = 62  # per BIGINT mask: 2^0 .. 2^61, never the sign bit
NOW_MASKS, THEN_MASKS, DIFF = "segc_now_masks", "segc_then_masks", "segc_diff"


def _bigint(value) -> exp.Expression:
    return exp.Cast(this=value, to=exp.DataType.build("bigint"))


def bit(code: int) -> exp.Expression:
    """The bit of a pair's code in its mask (the mask: code // BITS)."""
    return _bigint(exp.Literal.number(1 << (code % BITS)))


def mask_count(n_pairs: int) -> int:
    return max(1, -(-n_pairs // BITS))


def now_masks(members: str, conditions: list[exp.Expression]) -> exp.Select:
    """Per key of the scan `members`: masks segc_mask_k, the sum of the bits whose
    condition (the i-th pair's membership over the scan's columns) holds: distinct bits,
    so the sum is their OR."""
    masks = []
    for k in range(mask_count(len(conditions))):
        terms = [exp.Case(ifs=[exp.If(this=cond.copy(), true=bit(i))], default=_bigint(exp.Literal.number(0)))
                 for i, cond in enumerate(conditions) if i // BITS == k]
        total = terms[0]
        for t in terms[1:]:
            total = exp.Add(this=total, expression=t)
        masks.append(alias(total, f"segc_mask_{k}"))
    return exp.Select(expressions=[alias(col(KEY), "key"), *masks], from_=exp.From(this=table(members)))


def then_masks(coded_then: str, n_pairs: int) -> exp.Select:
    """Per stored key: BIT_OR of its rows' bits (`coded_then`: key, code, mask, bit; the rows of
    a pair not compared now, code NULL, are left out: changes_rows makes them exits)."""
    masks = [alias(exp.BitwiseOrAgg(this=exp.Case(ifs=[exp.If(
        this=exp.EQ(this=col("mask"), expression=exp.Literal.number(k)), true=col("bit"))])), f"segc_mask_{k}")
        for k in range(mask_count(n_pairs))]
    if len(masks) == 1:  # the common case: every bit in one mask
        masks = [alias(exp.BitwiseOrAgg(this=col("bit")), "segc_mask_0")]
    return exp.Select(expressions=[col("key"), *masks], from_=exp.From(this=table(coded_then)),
                      where=exp.Where(this=exp.Not(this=exp.Is(this=col("code"), expression=exp.Null())))
                      ).group_by(col("key"))


def diff(n_pairs: int) -> exp.Select:
    """The keys whose masks differ (a key absent on one side: masks 0), with both masks."""
    zero = exp.Literal.number(0)
    sides = {s: [exp.Coalesce(this=col(f"segc_mask_{k}", s), expressions=[zero.copy()])
                 for k in range(mask_count(n_pairs))] for s in ("n", "t")}
    differs = [exp.NEQ(this=a.copy(), expression=b.copy()) for a, b in zip(sides["n"], sides["t"])]
    return exp.Select(
        expressions=[alias(exp.Coalesce(this=col("key", "n"), expressions=[col("key", "t")]), "key"),
                     *(alias(v, f"segc_{s}_{k}") for s in ("n", "t") for k, v in enumerate(sides[s]))],
        from_=exp.From(this=table(NOW_MASKS, "n")),
        joins=[exp.Join(this=table(THEN_MASKS, "t"), side="FULL", kind="OUTER",
                        on=exp.EQ(this=col("key", "n"), expression=col("key", "t")))],
        where=exp.Where(this=exp.or_(*differs)))


def changes_rows(pairs: list[tuple[str, str | None]], coded_then: str, entered: str, exited: str) -> exp.Expression:
    """(key, definition, branch, change): per pair, the keys of DIFF whose bit differs
    (set now: entered), then the stored rows of pairs not compared now (exits)."""
    null = exp.Cast(this=exp.Null(), to=exp.DataType.build("varchar"))
    selects = []
    for i, (definition, branch) in enumerate(pairs):
        k = i // BITS
        now, then = (exp.BitwiseAnd(this=col(f"segc_{s}_{k}"), expression=bit(i)) for s in ("n", "t"))
        change = exp.Case(ifs=[exp.If(this=exp.NEQ(this=now.copy(), expression=exp.Literal.number(0)),
                                      true=exp.Literal.string(entered))], default=exp.Literal.string(exited))
        selects.append(exp.Select(
            expressions=[col("key"), alias(exp.Literal.string(definition), "definition"),
                         alias(exp.Literal.string(branch) if branch else null.copy(), "branch"), alias(change, "change")],
            from_=exp.From(this=table(DIFF)), where=exp.Where(this=exp.NEQ(this=now, expression=then))))
    selects.append(exp.Select(
        expressions=[col("key"), col("definition"), col("branch"), alias(exp.Literal.string(exited), "change")],
        from_=exp.From(this=table(coded_then)), where=exp.Where(this=exp.Is(this=col("code"), expression=exp.Null()))))
    union = selects[0]
    for s in selects[1:]:
        union = exp.Union(this=union, expression=s, distinct=False)
    return union


def named(n_pairs: int, members: str, conditions: list[exp.Expression], coded_then: str):
    """The CTEs (name, query) after the scan and the coded stored rows."""
    return [(NOW_MASKS, now_masks(members, conditions)), (THEN_MASKS, then_masks(coded_then, n_pairs)),
            (DIFF, diff(n_pairs))]
