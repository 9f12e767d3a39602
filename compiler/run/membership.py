"""Membership as rows, built as sqlglot trees: who is in each definition (key, definition,
branch), for `project.members`, `segc snapshot` (the rows stored, with the as-of and the
definition's hash) and `segc changes` (who entered and who exited since a stored
snapshot, with the `--with` payload), and `segc build --template changes` (the same
query over the warehouse's snapshot table). DESIGN §8.2.

One scan of the population computes every definition at once (a flag per segment, the
branch of each segmentation: the CASE of `--form label`); the rows are then one
`UNION ALL` branch per definition over that scan. The lowerer's CTEs are hoisted to the
top (a nested WITH is hoisted by some dialects, and renamed by none)."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlglot import exp

from segc.backend.lower import KEY, Lowerer
from segc.backend.trees import alias, col, datatype, flag, ident, literal, or_, table, take_ctes
from segc.backend.render import render
from segc.check.targets import BRANCH, SEGMENT, SEGMENTATION, WHOLE, Takes, Target
from segc.run import change_masks
from segc.backend.rewrites import binary_order

# what members, snapshot and changes take: names (no expression); a segmentation whole
MEMBERS = Takes("members, snapshots and changes", frozenset({SEGMENT, BRANCH, SEGMENTATION}), WHOLE)
COLUMNS = ("key", "definition", "branch", "as_of", "definition_hash")  # a snapshot row
MEMBERS_CTE, NOW, THEN = "segc_members", "segc_now", "segc_then"
ENTERED, EXITED = "entered", "exited"


@dataclass(frozen=True)
class Part:
    """One definition as stored: `definition` and, for one branch of a segmentation,
    `branch`; `target` is what computes it (a whole segmentation: its label)."""
    definition: str
    branch: str | None
    target: Target

    @property
    def name(self) -> str:
        """As named on the command line: `seg.b` for a branch alone, else the definition."""
        return f"{self.definition}.{self.branch}" if self.branch else self.definition


def parts(targets: list[Target]) -> list[Part]:
    """Each target as stored: a segment under its name; a branch `seg.b` as definition
    `seg`, branch `b`; a whole segmentation as `seg` with each member's branch."""
    out = []
    for t in targets:
        if t.kind == BRANCH:
            seg, _dot, branch = t.name.partition(".")
            out.append(Part(seg, branch, t))
        else:
            out.append(Part(t.name, None, t))
    return out


def default_targets(project) -> list[str]:
    """Every segment and every segmentation (whole), in file order."""
    branches = {f"{s}.{b}" for s, info in project.checked.segmentations.items() for b, _p in info.branches}
    return [n for n in project.checked.segments if n not in branches] + list(project.checked.segmentations)


def label_case(lw: Lowerer, branches) -> tuple[exp.Expression, exp.Expression | None]:
    """The branch of a segmentation's member (first matching branch, `else` last) and the
    condition of belonging to one (None: with `else`, everyone does)."""
    ifs, default = [], None
    for branch, pred in branches:
        if pred is None:
            default = exp.Literal.string(branch)
        else:
            ifs.append(exp.If(this=lw.pred(pred), true=exp.Literal.string(branch)))
    case = exp.Case(ifs=ifs, default=default) if ifs else default
    return case, None if default is not None else or_([i.this.copy() for i in ifs])


def _scan(project, items: list[Part], as_of, payload: dict[str, object] = None):
    """The population with one column per part (segc_i: a segment's flag, a segmentation's
    branch) and the payload features (segc_with_i), as (CTEs, select)."""
    payload = payload or {}

    def select(lw: Lowerer):
        cols = [alias(col(KEY), KEY)]
        for i, p in enumerate(items):
            if p.target.kind == SEGMENTATION:
                cols.append(alias(label_case(lw, project.checked.segmentations[p.definition].branches)[0], f"segc_{i}"))
            else:
                cols.append(alias(flag(lw.pred(p.target.pred)), f"segc_{i}"))
        cols += [alias(lw.value(v), f"segc_with_{i}") for i, v in enumerate(payload.values())]
        return cols, None

    q = Lowerer(project.schema, as_of).query(project.checked.population, select)
    return take_ctes(q), q


def _member(i: int, p: Part) -> tuple[exp.Expression, exp.Expression]:
    """The i-th part's branch column and the condition of a member of it, over the scan."""
    c = col(f"segc_{i}")
    if p.target.kind == SEGMENTATION:
        return c.copy(), exp.Not(this=exp.Is(this=c, expression=exp.Null()))
    return _fixed_branch(p), exp.EQ(this=c, expression=exp.Literal.number(1))


def _fixed_branch(p: Part) -> exp.Expression:
    """The branch column of a part that is not a whole segmentation: its branch, or NULL."""
    return exp.Literal.string(p.branch) if p.branch else exp.Cast(this=exp.Null(), to=datatype("varchar"))


def _rows(items: list[Part], extra=lambda i: [], empty: bool = False) -> exp.Expression:
    """UNION ALL of each part's members over the scan: key, definition, branch (+ the
    columns `extra(i)` gives the i-th part). `empty`: also marker rows with a NULL key: for
    a part with no member, one (a snapshot then records that it stored the definition, and
    its hash, though nobody is in it); for a whole segmentation, always one with a NULL
    branch too (WHOLE_MARK: the snapshot holds the segmentation whole, not only a branch
    stored alone: `--since last` of the whole segmentation is the latest such date)."""
    selects = []
    for i, p in enumerate(items):
        branch, where = _member(i, p)
        selects.append(exp.Select(expressions=[alias(col(KEY), "key"), alias(exp.Literal.string(p.definition), "definition"),
                                               alias(branch, "branch"), *extra(i)],
                                  from_=exp.From(this=table(MEMBERS_CTE)), where=exp.Where(this=where)))
    for i, p in enumerate(items) if empty else ():
        when = None  # a whole segmentation's mark: always
        if p.target.kind != SEGMENTATION:
            anyone = exp.Exists(this=exp.select(exp.Literal.number(1)).from_(table(MEMBERS_CTE)).where(_member(i, p)[1]))
            when = exp.Where(this=exp.Not(this=anyone))
        # no FROM: the branch is a fixed value (NULL for a whole segmentation's mark)
        selects.append(exp.Select(expressions=[alias(exp.Null(), "key"), alias(exp.Literal.string(p.definition), "definition"),
                                               alias(_fixed_branch(p), "branch"), *extra(i)], where=when))
    union = selects[0]
    for s in selects[1:]:
        union = exp.Union(this=union, expression=s, distinct=False)
    return union


def _with(ctes: list, named: list[tuple[str, exp.Expression]], body: exp.Select) -> exp.Select:
    body.set("with_", exp.With(expressions=ctes + [exp.CTE(this=q, alias=exp.TableAlias(this=ident(n)))
                                                  for n, q in named]))
    return body


def members_query(project, target: Target, as_of) -> exp.Select:
    """The keys of one definition (a whole segmentation: key and branch), by key."""
    items = parts([target])
    ctes, scan = _scan(project, items, as_of)
    out = [col("key")] + ([col("branch")] if target.kind == SEGMENTATION else [])
    body = exp.Select(expressions=out, from_=exp.From(this=exp.Subquery(this=_rows(items), alias=exp.TableAlias(
        this=ident("segc_rows"))))).order_by(*(binary_order(c.copy()) for c in out))
    return _with(ctes, [(MEMBERS_CTE, scan)], body)


def definition_hash(project, part: Part) -> str:
    """sha256 of the definition's compiled SQL: its membership query (a segmentation's
    label query) rendered for DuckDB, rolling (no as-of date in it, so the hash of one
    definition is the same at every as-of). It changes whenever what decides membership
    does: the condition, a segment it uses, a feature's or a parameter's definition."""
    ctes, scan = _scan(project, [part], None)
    sql = render(_with(ctes, [(MEMBERS_CTE, scan)], exp.select(exp.Star()).from_(_rows([part]))),
                 "duckdb", pretty=False, copy=False)
    return hashlib.sha256(sql.encode("utf-8")).hexdigest()


def snapshot_query(project, items: list[Part], as_of: dt.date) -> exp.Select:
    """The snapshot rows at `as_of` (COLUMNS), in one scan."""
    hashes = [definition_hash(project, p) for p in items]
    ctes, scan = _scan(project, items, as_of)
    rows = _rows(items, lambda i: [alias(literal(as_of, "date"), "as_of"),
                                   alias(exp.Literal.string(hashes[i]), "definition_hash")], empty=True)
    body = exp.Select(expressions=[col(c) for c in COLUMNS],
                      from_=exp.From(this=exp.Subquery(this=rows, alias=exp.TableAlias(this=ident("segc_rows")))))
    return _with(ctes, [(MEMBERS_CTE, scan)], body)


def whole_mark() -> exp.Expression:
    """A stored row that marks a segmentation stored whole at its as-of (NULL key and
    branch: a member row always has a key, a member of a segmentation a branch)."""
    return exp.and_(exp.Is(this=col("key"), expression=exp.Null()), exp.Is(this=col("branch"), expression=exp.Null()))


def whole_hashes(project, items: list[Part]) -> dict[str, str]:
    """{segmentation: its definition hash now as stored whole} for each part that is a
    segmentation or one of its branches (holds(): a row with that hash was stored with the
    whole, also by a segc that wrote no WHOLE_MARK)."""
    out = {}
    for p in items:
        if p.definition not in out and (p.branch or p.target.kind == SEGMENTATION):
            whole = p.target if not p.branch else project.targets([p.definition], MEMBERS)[0]
            out[p.definition] = definition_hash(project, Part(p.definition, None, whole))
    return out


def holds(p: Part, wholes: dict[str, str]) -> exp.Expression:
    """A stored row that shows its as-of holds `p`: a segment's row; a whole segmentation's
    WHOLE_MARK (a date with only some branches stored alone does not hold it) or a row
    stored with the whole (its hash is the whole's now, `wholes`: whole_hashes; a store
    written before WHOLE_MARK has no mark); a branch's own row (stored alone, or a member
    stored with the whole), the WHOLE_MARK of its segmentation or a row stored with the
    whole (stored whole with that branch empty)."""
    of = exp.EQ(this=col("definition"), expression=exp.Literal.string(p.definition))
    if not p.branch and p.target.kind != SEGMENTATION:
        return of
    with_whole = exp.EQ(this=col("definition_hash"), expression=exp.Literal.string(wholes[p.definition]))
    if p.branch:
        return exp.and_(of, exp.or_(exp.EQ(this=col("branch"), expression=exp.Literal.string(p.branch)),
                                    exp.Is(this=col("branch"), expression=exp.Null()), with_whole))
    return exp.and_(of, exp.or_(exp.Paren(this=whole_mark()), with_whole))


def latest_columns(items: list[Part], wholes: dict[str, str]) -> list[exp.Expression]:
    """Per part, over stored rows: the latest as_of that holds it (holds()); for a whole
    segmentation, then the latest as_of with any row of it (a store written before
    segc wrote WHOLE_MARK, under another hash: its dates then count, as they did). Two
    columns per part."""
    def latest(cond):
        return exp.Max(this=exp.Case(ifs=[exp.If(this=cond, true=col("as_of"))]))

    return [c for p in items for c in (latest(holds(p, wholes)), latest(exp.EQ(
        this=col("definition"), expression=exp.Literal.string(p.definition))))]


def latest_seen(items: list[Part], row, held: dict, any_row: dict, at=None) -> None:
    """Adds a row of latest_columns to `held` / `any_row` ({part name: as-of}), keeping a
    value already there (the store read from the newest back); `at`: the as-of of a row
    read from one partition (its columns are then only non-NULL)."""
    for i, p in enumerate(items):
        for found, value in ((held, row[2 * i]), (any_row, row[2 * i + 1])):
            if value is not None:
                found.setdefault(p.name, value if at is None else at)


def last_of(items: list[Part], held: dict, any_row: dict) -> dict:
    """{part name: its `last` as-of}: the latest date that holds it; a whole segmentation
    no date holds: its latest date with any row (as latest_before's COALESCE)."""
    out = {}
    for p in items:
        found = held.get(p.name)
        if found is None and not p.branch and p.target.kind == SEGMENTATION:
            found = any_row.get(p.name)
        if found is not None:
            out[p.name] = found
    return out


def latest_before(snapshots: str, as_of: dt.date | None, p: Part, wholes: dict[str, str]) -> exp.Expression:
    """The as-of of the latest snapshot in `snapshots` that holds the part `p` (holds())
    strictly before `as_of` (None: the current date), as a scalar subquery: `--since last`
    in SQL (`--template changes`), as the CLI's (snapshots.since_dates). Per part: a later
    snapshot of other definitions only (`segc snapshot a b`), or of one branch alone, is
    not a whole segmentation's. `wholes`: whole_hashes."""
    bound = literal(as_of, "date") if as_of else exp.CurrentDate()

    def before(cond):  # the condition in WHERE: a warehouse filters on it (latest_columns' CASE, per row)
        return exp.Subquery(this=exp.select(exp.Max(this=col("as_of"))).from_(table(snapshots)).where(
            exp.and_(exp.LT(this=col("as_of"), expression=bound), cond)))

    if p.branch or p.target.kind != SEGMENTATION:
        return before(holds(p, wholes))
    return exp.Coalesce(this=before(holds(p, wholes)), expressions=[before(
        exp.EQ(this=col("definition"), expression=exp.Literal.string(p.definition)))])


def changes_query(project, items: list[Part], as_of, snapshots: str,
                  since: dt.date | exp.Expression | dict[str, dt.date | exp.Expression],
                  features: dict[str, object] = None, base_columns: tuple[str, ...] = (),
                  ordered: bool = True, portable: bool = False, order: tuple[str, ...] = ()) -> exp.Select:
    """Who entered and who exited each part between the snapshot of `since` in the table
    `snapshots` (one date for all, or {part name: date}: each part's own `last`)
    and the membership at `as_of`: key (named as the project's key),
    definition, branch, change, then the payload at `as_of` (features, base columns: empty
    for a key no longer in the population / the base). A move between branches is an exit
    from one and an entry into the other (rows compare whole). Ordered, deterministic.
    `order`: the payload columns' order (default: features, then base columns).
    `portable`: the differences as two EXCEPTs, which every dialect has (MySQL has no FULL
    JOIN); else, for the engines segc runs on, per key in the wide form: a bit mask of
    the pairs now and then, compared on the key alone (change_masks: a 1M x 1M join at 1M
    customers instead of 6M x 6M rows)."""
    features = features or {}
    ctes, scan = _scan(project, items, as_of, features)
    then = exp.Select(expressions=[col("key"), col("definition"), col("branch")],
                      from_=exp.From(this=table(snapshots)),
                      where=exp.Where(this=exp.and_(_stored_at(since, items), members_only())))

    compared = list(dict.fromkeys(pairs(project, items)))  # a pair named twice is compared once
    changes = _differences() if portable else change_masks.changes_rows(compared, THEN, ENTERED, EXITED)
    key = project.schema.key
    out = [alias(col("key", "c"), key), col("definition", "c"), col("branch", "c"), col("change", "c")]
    with_ = {name: col(f"segc_with_{i}", "m") for i, name in enumerate(features)}
    with_.update({c: col(c, "b") for c in base_columns})
    out += [alias(with_[name], name) for name in (order or with_)]  # as --with lists them
    joins = [exp.Join(this=table(MEMBERS_CTE, "m"), side="LEFT", on=exp.EQ(this=col(KEY, "m"), expression=col("key", "c")))
             ] if features else []
    if base_columns:
        base = project.schema.sources[project.schema.base]
        joins.append(exp.Join(this=table(base.table, "b"), side="LEFT",
                              on=exp.EQ(this=col(key, "b"), expression=col("key", "c"))))
    body = exp.Select(expressions=out, from_=exp.From(this=exp.Subquery(this=changes, alias=exp.TableAlias(
        this=ident("c")))))
    if joins:
        body.set("joins", joins)
    if ordered:  # not in a view (T-SQL refuses ORDER BY there)
        body = body.order_by(*(binary_order(col(c, "c")) for c in ("definition", "branch", "change", "key")))
    if portable:
        return _with(ctes, [(MEMBERS_CTE, scan), (NOW, _rows(items)), (THEN, then)], body)
    return _with(ctes, [(MEMBERS_CTE, scan), (PAIRS, _pairs_table(compared)), (THEN, _coded_then(then)),
                        *change_masks.named(len(compared), MEMBERS_CTE, _conditions(project, items, compared), THEN)],
                 body)


def _stored_at(since, items: list[Part]) -> exp.Expression:
    """The stored rows of the parts at their `since` (one date, or {part name: date}): a
    definition's rows, or for a branch named alone only that branch's."""
    def value(v):
        return v.copy() if isinstance(v, exp.Expression) else literal(v, "date")

    def at(p: Part):
        return since[p.name] if isinstance(since, dict) else since

    dates: dict[object, list[Part]] = {}  # whole definitions compared with the same date: one IN
    for p in items:
        if not p.branch:
            dates.setdefault(at(p) if not isinstance(at(p), exp.Expression) else p.name, []).append(p)
    cases = [exp.and_(exp.EQ(this=col("as_of"), expression=value(at(group[0]))),
                      exp.In(this=col("definition"), expressions=[exp.Literal.string(n) for n in
                                                                  sorted({q.definition for q in group})]))
             for group in dates.values()]
    cases += [exp.and_(exp.EQ(this=col("as_of"), expression=value(at(p))),
                       exp.EQ(this=col("definition"), expression=exp.Literal.string(p.definition)),
                       exp.EQ(this=col("branch"), expression=exp.Literal.string(p.branch))) for p in items if p.branch]
    return exp.or_(*cases)


def members_only() -> exp.Expression:
    """The stored rows that are members (not the NULL-key marker of a definition stored empty)."""
    return exp.Not(this=exp.Is(this=col("key"), expression=exp.Null()))


_ROW = ("key", "definition", "branch")


def _differences() -> exp.Expression:
    """The changes as (now EXCEPT then) UNION ALL (then EXCEPT now)."""
    def side(a: str, b: str, change: str) -> exp.Select:
        diff = exp.Except(distinct=True, this=exp.select(*map(col, _ROW)).from_(table(a)),
                          expression=exp.select(*map(col, _ROW)).from_(table(b)))
        return exp.Select(expressions=[*map(col, _ROW), alias(exp.Literal.string(change), "change")],
                          from_=exp.From(this=exp.Subquery(this=diff, alias=exp.TableAlias(this=ident(f"segc_{change}")))))

    return exp.Union(this=side(NOW, THEN, ENTERED), expression=side(THEN, NOW, EXITED), distinct=False)


PAIRS = "segc_pairs"


def pairs(project, items: list[Part]) -> list[tuple[str, str | None]]:
    """Every (definition, branch) compared; its index (once deduplicated) is its code:
    its bit in the masks of change_masks."""
    out = []
    for p in items:
        if p.target.kind == SEGMENTATION:
            out += [(p.definition, b) for b, _pred in project.checked.segmentations[p.definition].branches]
        else:
            out.append((p.definition, p.branch))
    return out


def _pairs_table(pairs) -> exp.Select:
    """The pairs as a relation (code, its mask and bit in it, definition, branch)."""
    null = exp.Cast(this=exp.Null(), to=exp.DataType.build("varchar"))
    rows = [exp.Tuple(expressions=[exp.Literal.number(i), exp.Literal.number(i // change_masks.BITS),
                                   change_masks.bit(i), exp.Literal.string(d),
                                   exp.Literal.string(b) if b else null.copy()]) for i, (d, b) in enumerate(pairs)]
    values = exp.Values(expressions=rows, alias=exp.TableAlias(this=ident("segc_p"), columns=[
        ident("code"), ident("mask"), ident("bit"), ident("definition"), ident("branch")]))
    return exp.select(col("code"), col("mask"), col("bit"), col("definition"), col("branch")).from_(values)


def _conditions(project, items: list[Part], pairs) -> list[exp.Expression]:
    """Per pair, whether a member of the scan is in it now, over the scan's columns (the
    first part that gives the pair decides)."""
    found = {}
    for i, p in enumerate(items):
        c = col(f"segc_{i}")
        if p.target.kind == SEGMENTATION:
            for b, _pred in project.checked.segmentations[p.definition].branches:
                found.setdefault((p.definition, b), exp.EQ(this=c.copy(), expression=exp.Literal.string(b)))
        else:
            found.setdefault((p.definition, p.branch), exp.EQ(this=c.copy(), expression=exp.Literal.number(1)))
    return [found[pair] for pair in pairs]


def _same_branch(a: str, b: str) -> exp.Expression:
    # a segment's NULL branch matches NULL: no branch is named ''
    return exp.EQ(this=exp.Coalesce(this=col("branch", a), expressions=[exp.Literal.string("")]),
                  expression=exp.Coalesce(this=col("branch", b), expressions=[exp.Literal.string("")]))


def _coded_then(then: exp.Select) -> exp.Select:
    """The stored rows with the code and bit of their pair (NULL: a pair not compared now,
    e.g. a branch since removed: such a row is an exit)."""
    on = exp.and_(exp.EQ(this=col("definition", "p"), expression=col("definition", "s")), _same_branch("p", "s"))
    return exp.Select(expressions=[col("key", "s"), col("definition", "s"), col("branch", "s"), col("code", "p"),
                                   col("mask", "p"), col("bit", "p")],
                      from_=exp.From(this=exp.Subquery(this=then, alias=exp.TableAlias(this=ident("s")))),
                      joins=[exp.Join(this=table(PAIRS, "p"), side="LEFT", on=on)])
