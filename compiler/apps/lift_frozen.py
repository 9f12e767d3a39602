"""Where `segc lift` takes its arms from (DESIGN §8.3): the snapshot stored by `segc
snapshot` at the experiment's assigned_at when there is one holding both arms with the
definitions they have now, else the point-in-time membership at assigned_at.

A stored snapshot is what was really assigned: it stays the same when the data is later
corrected or backfilled, where the point-in-time membership would move. A snapshot whose
definition hash for an arm differs from the arm's hash now (the segment was edited since)
says who was in *another* definition: the readout then falls back to the point-in-time
membership and warns (W770, the code of `segc changes` for the same finding), as it does
when the snapshot of that date does not hold an arm. The stores are run/snapshots.py's:
the local .segc/snapshots/ on the embedded DuckDB, a warehouse table (`--table`) on
PostgreSQL; another engine, or PostgreSQL without a table, has no store to read."""
from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from segc.backend.lower import KEY
from segc.backend.trees import alias, col, literal, table
from segc.run import membership
from segc.run.snapshots import open_store, stored_as

POINT_IN_TIME = "point-in-time at assigned_at"


@dataclass(frozen=True)
class Arms:
    """How the arms are read: `select(TARGET, CONTROL)` builds the arms subquery from the
    snapshot (None: point-in-time), `membership` says which for the readout, with its
    warnings."""
    membership: str
    snapshot: object = None  # (relation, as_of, target parts, control parts) when frozen
    warnings: tuple[str, ...] = ()

    def select(self, target_flag: str, control_flag: str) -> exp.Select:
        """Per key of either arm in the stored snapshot: the two arm flags (1/0). Only the
        arms' own rows are read (a branch's: its definition AND its branch), so a member of
        another branch of the same segmentation is in neither arm."""
        relation, d, target, control = self.snapshot
        flags = [alias(exp.Max(this=_flag(target)), target_flag), alias(exp.Max(this=_flag(control)), control_flag)]
        return (exp.select(alias(col("key"), KEY), *flags).from_(table(relation))
                .where(exp.and_(exp.EQ(this=col("as_of"), expression=literal(d, "date")),
                                exp.Or(this=exp.Paren(this=_row(target)), expression=exp.Paren(this=_row(control))),
                                membership.members_only()))
                .group_by(col("key")))


def _row(parts: list) -> exp.Expression:
    """True on a stored row of the arm (its definition, and its branch for a branch)."""
    p = parts[0]
    row = exp.EQ(this=col("definition"), expression=exp.Literal.string(p.definition))
    if p.branch:
        row = exp.and_(row, exp.EQ(this=col("branch"), expression=exp.Literal.string(p.branch)))
    return row


def _flag(parts: list) -> exp.Expression:
    """1 on a stored row of the arm, else 0."""
    return exp.Case(ifs=[exp.If(this=_row(parts), true=exp.Literal.number(1))], default=exp.Literal.number(0))


def _store(project, table_name: str | None):
    """The snapshot store lift can read on this engine, or None."""
    if table_name is None and project.engine.name != "duckdb":
        return None  # PostgreSQL keeps snapshots in a table that must be named; Spark has none
    return open_store(project, table_name)


def arms(project, e, table_name: str | None = None) -> Arms:
    """Where experiment `e`'s arms come from: the snapshot of assigned_at (every arm
    stored there under its current definition hash), else point-in-time."""
    store = _store(project, table_name)
    d = e.assigned_at
    if store is None or d not in store.dates():
        return Arms(POINT_IN_TIME)
    relation = store.relation(d)
    sides = [membership.parts(project.targets([t.name], membership.MEMBERS)) for t in (e.target, e.control)]
    q = (exp.select(col("definition"), col("definition_hash")).distinct().from_(table(relation))
         .where(exp.EQ(this=col("as_of"), expression=literal(d, "date"))))
    stored: dict[str, set[str]] = {}
    for definition, digest in project.run(q):
        stored.setdefault(definition, set()).add(digest)
    warnings = []
    for t, parts in zip((e.target, e.control), sides):
        p = parts[0]
        if p.definition not in stored:
            warnings.append(f"W770 `{t.name}` is not in the snapshot of {d}: the arms are the point-in-time "
                            "membership at assigned_at")
        elif not {membership.definition_hash(project, x) for x in stored_as(project, p)} & stored[p.definition]:
            warnings.append(f"W770 `{t.name}` changed since the snapshot of {d} (its definition hash differs): "
                            "the arms are the point-in-time membership at assigned_at")
    if warnings:
        return Arms(POINT_IN_TIME, warnings=tuple(warnings))
    return Arms(f"snapshot of {d} ({store.where})", (relation, d, *sides))
