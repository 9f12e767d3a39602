"""The snapshot store and what reads it: `segc snapshot` (the membership at an as-of,
stored) and `segc changes` (who entered and exited since a stored snapshot, with a
payload). DESIGN §8.2. The queries are membership.py's; this module stores and reads.

Two stores, the same rows (membership.COLUMNS: key, definition, branch, as_of,
definition_hash):
- local (the default, on the embedded DuckDB): parquet under `<project>/.segc/snapshots/`,
  one folder per as-of, `as_of=YYYY-MM-DD/part.parquet`. DuckDB writes the file into a
  new folder beside the partition, which is then swapped in (front/files.fill_folder):
  a run killed at any point leaves every partition whole (a swap killed half-way is put
  back by the next reader or writer). Writers take turns (a flock on .segc/snapshots.lock).
- a warehouse table (`--engine postgres --table schema.name`): created if missing; a
  snapshot is one transaction (DELETE the as-of's rows it replaces, then INSERT ... SELECT:
  the rows never leave the warehouse), under an advisory lock: writers take turns.
Re-running an as-of replaces exactly the rows it writes (written_rows: a definition's, or
one branch's for `seg.branch`; the others of that date are kept), so there are never
duplicates."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlglot import exp

from segc import ir
from segc.backend.dialects import name_too_long
from segc.backend.trees import alias, col, ident, literal, table
from segc.backend.render import render
from segc.check.policy import allowed_features
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.front.files import fill_folder, one_writer, recover_folders
from segc.run import membership
from segc.run.engine import duckdb_path
from segc.run.membership import COLUMNS, ENTERED, Part

STORE = Path(".segc") / "snapshots"
LOCK = Path(".segc") / "snapshots.lock"  # held by the writer of the local store (one at a time)
PARTITION = re.compile(r"^as_of=(\d{4}-\d{2}-\d{2})$")
LOCAL_VIEW = "segc_snapshots"  # the local store's partition, as a table of the DuckDB session
TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class Snapshot:
    """What `segc snapshot` stored: where, at which as-of, and the size of each
    (definition, branch)."""
    as_of: str
    store: str  # the local folder (relative to the project) or the warehouse table
    counts: list[tuple[str, str | None, int]]
    warnings: tuple[Diagnostic, ...] = ()  # W704: a damaged partition replaced whole

    def to_dict(self) -> dict:
        return {"as_of": self.as_of, "store": self.store,
                "definitions": [{"definition": d, "branch": b, "members": n} for d, b, n in self.counts]}


@dataclass(frozen=True)
class Changes:
    """Who entered and who exited each definition (and branch) between two dates."""
    since: str
    as_of: str
    columns: list[str]  # key, definition, branch, change, then the payload
    rows: list[tuple]
    definitions: list[tuple[str, str | None]] = field(default_factory=list)  # every (definition, branch) compared
    warnings: tuple[Diagnostic, ...] = ()  # W770: a definition changed since the snapshot, or not in it
    since_by: dict[str, str] = field(default_factory=dict)  # per name compared (`seg.b` for a branch alone): its snapshot

    def records(self) -> list[dict]:
        """One dict per row (pandas.DataFrame(changes.records()))."""
        return [dict(zip(self.columns, map(_plain, r))) for r in self.rows]

    def column_dict(self) -> dict[str, list]:
        """{column: values} (pandas.DataFrame(changes.column_dict()), polars alike)."""
        return {c: [_plain(r[i]) for r in self.rows] for i, c in enumerate(self.columns)}

    def counts(self) -> list[tuple[str, int, int]]:
        """(definition or `definition.branch`, entered, exited) for each definition compared."""
        out = {(f"{d}.{b}" if b else d): [0, 0] for d, b in self.definitions}
        for r in self.rows:
            name = f"{r[1]}.{r[2]}" if r[2] else r[1]
            out.setdefault(name, [0, 0])[0 if r[3] == ENTERED else 1] += 1
        return [(n, e, x) for n, (e, x) in out.items()]

    def to_dict(self) -> dict:
        return {"since": self.since, "as_of": self.as_of, "since_by_definition": dict(self.since_by),
                "columns": list(self.columns),
                "counts": [{"definition": n, "entered": e, "exited": x} for n, e, x in self.counts()],
                "rows": self.records()}

    def to_csv(self) -> list[list]:
        return [list(self.columns), *([_plain(v) for v in r] for r in self.rows)]


def _plain(value):
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


# ---- where the snapshots are ------------------------------------------------------------

def snapshot_as_of(project, as_of) -> dt.date:
    """The as-of a snapshot is taken at: --as-of, else the project's, else today (UTC)."""
    d = project.as_of if as_of is None else project.as_of_date(as_of)
    return d or ir.utc_today()


class LocalStore:
    """Parquet partitions under the project's .segc/snapshots/, read and written by the
    project's DuckDB session."""

    def __init__(self, project):
        self.project = project
        self.folder = Path(project.root) / STORE

    @property
    def where(self) -> str:
        return STORE.as_posix()

    def partition(self, d: dt.date) -> Path:
        return self.folder / f"as_of={d.isoformat()}"

    def dates(self) -> list[dt.date]:
        recover_folders(self.folder)  # a swap killed half-way: its partition back first
        if not self.folder.is_dir():
            return []
        found = [p.name for p in self.folder.iterdir() if p.name.startswith("as_of=") and (p / "part.parquet").is_file()]
        return sorted(self._date(name) for name in found)

    def _date(self, name: str) -> dt.date:
        """The as-of of a partition folder `as_of=YYYY-MM-DD`; E704 naming a folder whose
        name is not a date (a hand copy, a typo): it is not read, nor silently skipped."""
        m = PARTITION.match(name)
        try:
            if not m:
                raise ValueError(name)
            return dt.date.fromisoformat(m.group(1))
        except ValueError:
            shown = (STORE / name).as_posix()
            raise SegcError(Diagnostic(
                "E704", f"`{shown}` is not a snapshot partition: `{name.partition('=')[2]}` is not a date",
                file=shown, hints=("remove that folder, or rename it to the as-of it holds (as_of=YYYY-MM-DD, a real "
                                   "date): every command that reads the store stops at it",))) from None

    def _scan(self, d: dt.date | list[dt.date]) -> exp.Expression:
        paths = [exp.Literal.string(duckdb_path(self.partition(x) / "part.parquet")) for x in (d if isinstance(d, list) else [d])]
        return exp.Table(this=exp.Anonymous(this="read_parquet", expressions=[
            paths[0] if len(paths) == 1 else exp.Array(expressions=paths)]))

    def damaged(self, d: dt.date) -> Diagnostic | None:
        """E704 naming the partition of `d` when its file cannot be read as a snapshot (not
        parquet, truncated, empty, or without the snapshot columns), else None."""
        import duckdb

        shown = (STORE / f"as_of={d.isoformat()}" / "part.parquet").as_posix()
        try:
            cursor = self.project.duckdb().execute(exp.select(exp.Star()).from_(self._scan(d)).limit(0).sql("duckdb"))
            missing = [c for c in COLUMNS if c not in [x[0] for x in cursor.description]]
            reason = f"it has no column {', '.join(missing)}" if missing else None
        except duckdb.Error as e:
            from segc.run.engine import engine_message

            reason = engine_message(e)
        if reason is None:
            return None
        return Diagnostic("E704", f"the snapshot partition `{shown}` is damaged and cannot be read", file=shown,
                          hints=(reason, f"re-take it: `segc snapshot --as-of {d}` replaces it whole (the rows of "
                                 "the definitions it does not store are lost), or delete that folder"))

    def checked(self, d: dt.date) -> dt.date:
        """`d`, after checking its partition can be read (E704 naming it if not)."""
        problem = self.damaged(d)
        if problem is not None:
            raise SegcError(problem)
        return d

    def latest_of(self, items: list[Part], before: dt.date) -> dict[str, dt.date]:
        """Each part's `last` as-of before `before` (membership.latest_columns; a part
        never stored: absent), reading the partitions from the newest back until every
        part is found."""
        held: dict[str, dt.date] = {}
        any_row: dict[str, dt.date] = {}
        wholes = membership.whole_hashes(self.project, items)
        for d in reversed([x for x in self.dates() if x < before]):
            if all(p.name in held for p in items):
                break
            q = exp.select(*membership.latest_columns(items, wholes)).from_(self._scan(self.checked(d)))
            membership.latest_seen(items, self.project.run(q)[0], held, any_row, at=d)
        return membership.last_of(items, held, any_row)

    def write(self, query: exp.Select, d: dt.date, replaced: exp.Expression) -> tuple[Diagnostic, ...]:
        """The partition of `d` becomes `query`'s rows plus its stored rows that
        `replaced` (written_rows) does not match. One writer at a time (the lock file
        .segc/snapshots.lock, held from reading the kept rows to the swap): two runs at
        one as-of take turns, each keeping the other's rows. A damaged partition (nothing
        in it can be read) is replaced whole: W704 says so."""
        con = self.project.duckdb()
        warnings = ()
        with one_writer(Path(self.project.root) / LOCK):
            damaged = self.damaged(d) if d in self.dates() else None
            if damaged is not None:
                warnings = (Diagnostic("W704", f"the damaged partition `{damaged.file}` was replaced whole",
                                       severity="warning", file=damaged.file, hints=(
                                           "rows it held of definitions not stored now could not be kept: snapshot "
                                           "them again at this as-of if they are needed",)),)
            elif d in self.dates():  # keep that date's rows that this run does not store
                kept = exp.select(*[col(c) for c in COLUMNS]).from_(self._scan(d)).where(
                    exp.Not(this=exp.Paren(this=replaced)))
                query = exp.union(query, kept, distinct=False)
            sql = render(query, "duckdb", pretty=False, copy=False, quoting=self.project.schema.quoting)

            def fill(tmp: Path) -> None:
                _duckdb(lambda: con.sql(sql).write_parquet(duckdb_path(tmp / "part.parquet")))

            fill_folder(self.partition(d), fill)
        return warnings

    def relation(self, d: dt.date | list[dt.date]) -> str:
        """The snapshot of `d` (or of several dates) as a view of the DuckDB session, for
        the changes query."""
        for x in d if isinstance(d, list) else [d]:
            self.checked(x)
        view = exp.Create(this=table(LOCAL_VIEW), kind="VIEW", replace=True, properties=exp.Properties(
            expressions=[exp.TemporaryProperty()]), expression=exp.select(exp.Star()).from_(self._scan(d)))
        _duckdb(lambda: self.project.duckdb().execute(view.sql("duckdb")))
        return LOCAL_VIEW


class TableStore:
    """A warehouse table (PostgreSQL) holding every snapshot."""

    def __init__(self, project, name: str):
        if not TABLE_NAME.match(name or ""):
            raise SegcError(Diagnostic("E771", f"--table `{name}` is not a table name",
                                       hints=("write schema.name (letters, digits and _), e.g. --table crm.segc_snapshots",)))
        if any(name_too_long(part, "postgres") for part in name.split(".")):
            # PostgreSQL would cut it at 63 bytes: `crm.<70 letters>` and `crm.<70 letters>_other`
            # would be one table, each command reading the other's snapshots
            raise SegcError(Diagnostic("E771", f"--table `{name}` has a part longer than PostgreSQL keeps "
                                       "(at most 63 bytes)", hints=(
                                           "PostgreSQL would cut it, and two names cut alike would be one table: "
                                           "give a shorter name, e.g. --table crm.segc_snapshots",)))
        self.project, self.name, self.where = project, name, name

    def _run(self, query) -> list[tuple]:
        return self.project.engine.execute(query if isinstance(query, str) else query.sql("postgres"))

    def exists(self) -> bool:
        schema, _dot, name = self.name.rpartition(".")
        tables = exp.select(exp.Count(this=exp.Star())).from_(table("information_schema.tables")).where(
            exp.and_(exp.EQ(this=col("table_name"), expression=exp.Literal.string(name)),
                     exp.EQ(this=col("table_schema"), expression=exp.Literal.string(schema)) if schema else
                     exp.true()))
        return bool(self._run(tables)[0][0])

    def dates(self) -> list[dt.date]:
        if not self.exists():
            return []
        q = exp.select(col("as_of")).distinct().from_(table(self.name)).order_by(col("as_of"))
        return [r[0] for r in self._run(q)]

    def write(self, query: exp.Select, d: dt.date, replaced: exp.Expression) -> tuple[Diagnostic, ...]:
        schema = self.name.rpartition(".")[0]
        # CREATE ... IF NOT EXISTS needs the CREATE privilege even when the object exists: a
        # role granted only SELECT, INSERT and DELETE on the table (least privilege, a CI job)
        # could never write a snapshot. Made only when missing (under the lock below, a
        # second writer's IF NOT EXISTS then does nothing)
        statements = []
        if not self.exists():
            if schema and not self._schema_exists(schema):
                statements.append(exp.Create(this=table(schema), kind="SCHEMA", exists=True))
            empty = exp.select(exp.Star()).from_(exp.Subquery(this=query.copy(), alias=exp.TableAlias(
                this=ident("segc_rows")))).limit(0)
            statements.append(exp.Create(this=table(self.name), kind="TABLE", exists=True, expression=empty))
        statements += [
            exp.Delete(this=table(self.name), where=exp.Where(this=exp.and_(
                exp.EQ(this=col("as_of"), expression=literal(d, "date")), exp.Paren(this=replaced)))),
            exp.Insert(this=exp.Schema(this=table(self.name), expressions=[ident(c) for c in COLUMNS]),
                       expression=query)]
        # one writer of the table at a time, from creating it to the commit: a second
        # snapshot waits, then deletes the first one's rows (READ COMMITTED alone lets both
        # DELETEs miss the other's INSERT: every row twice; and two CREATE ... IF NOT EXISTS race)
        lock = exp.select(exp.Anonymous(this="pg_advisory_xact_lock", expressions=[
            exp.Literal.number(_lock_key(self.name))]))
        self.project.engine.execute_in_transaction([s.sql("postgres") for s in [lock, *statements]])
        return ()

    def _schema_exists(self, schema: str) -> bool:
        q = exp.select(exp.Count(this=exp.Star())).from_(table("pg_catalog.pg_namespace")).where(
            exp.EQ(this=col("nspname"), expression=exp.Literal.string(schema)))
        return bool(self._run(q)[0][0])

    def latest_of(self, items: list[Part], before: dt.date) -> dict[str, dt.date]:
        """Each part's `last` as-of before `before` (membership.latest_columns; a part never
        stored: absent)."""
        if not self.exists():
            return {}
        q = exp.select(*membership.latest_columns(items, membership.whole_hashes(self.project, items))).from_(
            table(self.name)).where(
            exp.LT(this=col("as_of"), expression=literal(before, "date")))
        held, any_row = {}, {}
        membership.latest_seen(items, self._run(q)[0], held, any_row)
        return {n: _day(x) for n, x in membership.last_of(items, held, any_row).items()}

    def relation(self, d) -> str:
        return self.name


def _lock_key(name: str) -> int:
    """The PostgreSQL advisory lock of a snapshot table: a signed 64-bit number from its name."""
    digest = hashlib.sha256(f"segc snapshot store {name.lower()}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def open_store(project, table_name: str | None):
    """The store a command reads or writes: the warehouse table on PostgreSQL, else the
    local parquet store on the embedded DuckDB (E771 for another pairing)."""
    engine = project.engine.name
    if table_name is not None:
        if engine != "postgres":
            raise SegcError(Diagnostic("E771", f"--table stores snapshots in a warehouse table: it needs "
                                       f"--engine postgres (the engine is {engine})",
                                       hints=("without --table, snapshots go to the project's .segc/snapshots/",)))
        return TableStore(project, table_name)
    if engine == "postgres":
        raise SegcError(Diagnostic("E771", "on the postgres engine, snapshots are stored in a warehouse table",
                                   hints=("give --table schema.name (created if missing)",)))
    if engine != "duckdb":
        raise SegcError(Diagnostic("E771", f"snapshots cannot be stored from the {engine} engine",
                                   hints=("run on the embedded DuckDB (the local store .segc/snapshots/), or "
                                          "--engine postgres --table schema.name",)))
    return LocalStore(project)


# ---- snapshot ---------------------------------------------------------------------------

def _parts(project, names) -> list[Part]:
    """The parts the names give (default: every segment and segmentation); E211 for none."""
    items = membership.parts(project.targets(names or membership.default_targets(project), membership.MEMBERS))
    if not items:
        raise SegcError(Diagnostic("E211", "there are no segments to snapshot or compare",
                                   hints=("define segments in segments/*.seg",)))
    return items


def snapshot(project, names=None, as_of=None, table_name: str | None = None) -> Snapshot:
    store = open_store(project, table_name)
    items = _parts(project, names)
    # each definition stored once: a name given twice, or a branch beside its whole
    # segmentation, stored every member twice (the whole stores that branch's members)
    whole = {p.definition for p in items if not p.branch}
    items = list({p.name: p for p in items if not (p.branch and p.definition in whole)}.values())
    d = snapshot_as_of(project, as_of)
    query = membership.snapshot_query(project, items, d)
    warnings = store.write(query, d, written_rows(items))
    return Snapshot(d.isoformat(), store.where, _stored_counts(project, store, d, items), warnings)


def written_rows(items: list[Part]) -> exp.Expression:
    """Which stored rows of the as-of a snapshot of `items` replaces: exactly those it
    stores. Every row of a definition stored whole (a segment, a whole segmentation); for
    a branch stored alone (`segc snapshot seg.b`), that branch's rows only: the other
    branches of the segmentation stored at that date are kept."""
    whole = sorted({p.definition for p in items if not p.branch})
    alone = sorted({(p.definition, p.branch) for p in items if p.branch and p.definition not in whole})
    cases = [exp.In(this=col("definition"), expressions=[exp.Literal.string(n) for n in whole])] if whole else []
    cases += [exp.and_(exp.EQ(this=col("definition"), expression=exp.Literal.string(n)),
                       exp.EQ(this=exp.Coalesce(this=col("branch"), expressions=[exp.Literal.string("")]),
                              expression=exp.Literal.string(b))) for n, b in alone]
    return exp.or_(*cases)


def _stored_counts(project, store, d: dt.date, items: list[Part]) -> list[tuple[str, str | None, int]]:
    """Rows per (definition, branch) of what was just stored, read back from the store."""
    relation = store.relation(d)
    q = (exp.select(col("definition"), col("branch"), exp.Count(this=exp.Star())).from_(table(relation))
         .where(exp.and_(exp.In(this=col("definition"), expressions=[exp.Literal.string(p.definition) for p in items]),
                         membership.members_only()))
         .group_by(col("definition"), col("branch")))
    if isinstance(store, TableStore):
        q.set("where", exp.Where(this=exp.and_(q.args["where"].this, exp.EQ(this=col("as_of"), expression=literal(d, "date")))))
    found = {(r[0], r[1]): int(r[2]) for r in project.run(q)}
    # every definition and branch, an empty one with 0, in the order of the targets
    return [(d, b, found.get((d, b), 0)) for d, b in membership.pairs(project, items)]


# ---- changes ----------------------------------------------------------------------------

def changes(project, names=None, since="last", as_of=None, with_=(), table_name: str | None = None) -> Changes:
    store = open_store(project, table_name)
    items = _parts(project, names)
    targets = [p.target for p in items]
    d = snapshot_as_of(project, as_of)
    features, base_columns = payload(project, targets, with_)
    then = since_dates(store, since, d, items)
    relation = store.relation(sorted(set(then.values())))
    query = membership.changes_query(project, items, d, relation, then,
                                     {f: project.feature_values([f])[f] for f in features}, base_columns,
                                     order=tuple(n for n in dict.fromkeys(with_ or ()) if n in features or n in base_columns))
    rows = project.run(query)
    warnings = _edited_since(project, relation, then, items, since)
    columns = [project.schema.key, "definition", "branch", "change", *dict.fromkeys(with_ or ())]
    return Changes(max(then.values()).isoformat(), d.isoformat(), columns, rows, membership.pairs(project, items),
                   warnings, {n: x.isoformat() for n, x in then.items()})


def since_dates(store, since, as_of: dt.date, items: list[Part]) -> dict[str, dt.date]:
    """The snapshot each part (by name) is compared with: a `--since DATE` for all; `last`,
    each part's own latest snapshot before the as-of that holds it (membership.holds: a
    later snapshot of other definitions only is not its one; a segmentation's, the latest
    that stored it whole, not one of a branch stored alone; a branch's, the latest that
    stored it, alone or with the whole). A part never stored before the as-of: the
    store's latest (where it is not: W770, every member entered). A branch named beside
    its whole segmentation is compared with the whole's snapshot (its pair is compared
    once). E770 when the store has no snapshot before the as-of (since_date)."""
    latest = since_date(store, since, as_of)
    if since not in (None, "last"):
        return {p.name: latest for p in items}
    own = store.latest_of(items, as_of)
    out = {p.name: own.get(p.name, latest) for p in items}
    whole = {p.definition for p in items if not p.branch}
    return {n: out[n.partition(".")[0]] if n.partition(".")[0] in whole else x for n, x in out.items()}


def _edited_since(project, relation: str, then: dict[str, dt.date], items: list[Part],
                  since="last") -> tuple[Diagnostic, ...]:
    """W770 for each part whose stored hash differs from its hash now (its changes then
    include what the edit moved, not only what the data did), that the snapshot does not
    hold (every member counts as entered), or, for a segmentation never stored whole,
    whose snapshot holds only branches stored alone (their siblings' members entered:
    rows under a branch's hash now and no whole mark; rows under no hash known now, with
    no mark, are a store from before the mark, stored whole then edited)."""
    q = (exp.select(col("definition"), col("as_of"), col("definition_hash"), alias(membership.whole_mark(), "whole"))
         .distinct().from_(table(relation))
         .where(exp.In(this=col("as_of"), expressions=[literal(x, "date") for x in sorted(set(then.values()))])))
    stored: dict[tuple[str, dt.date], set[str]] = {}
    marked: set[tuple[str, dt.date]] = set()
    for definition, at, digest, whole in project.run(q):
        stored.setdefault((definition, _day(at)), set()).add(digest)
        if whole:
            marked.add((definition, _day(at)))
    out = []
    for p in items:
        at = then[p.name]
        if (p.definition, at) not in stored:
            out.append(Diagnostic("W770", f"`{p.name}` is not in the snapshot of {at}: all its members count as entered",
                                  severity="warning", hints=("snapshot it (`segc snapshot`) before comparing",)))
        elif not {membership.definition_hash(project, q) for q in stored_as(project, p)} & stored[(p.definition, at)]:
            if (not p.branch and p.target.kind == "segmentation" and (p.definition, at) not in marked
                    and _branch_hashes(project, p) & stored[(p.definition, at)]):
                earlier = ", nor in an earlier one" if since in (None, "last") else ""
                out.append(Diagnostic("W770", f"`{p.name}` is not stored whole in the snapshot of {at} "
                                      f"(only branches of it stored alone){earlier}: the members of its "
                                      "other branches count as entered", severity="warning",
                                      hints=(f"snapshot it whole (`segc snapshot {p.name}`) before comparing",)))
                continue
            out.append(Diagnostic("W770", f"`{p.name}` changed since the snapshot of {at} (its definition hash "
                                  "differs): its changes include what the edit moved", severity="warning",
                                  hints=("compare with a snapshot taken after the edit to see only what the data moved",)))
    return tuple(out)


def _branch_hashes(project, p: Part) -> set[str]:
    """The definition hashes now of each branch of the segmentation `p` stored alone."""
    names = [f"{p.definition}.{b}" for b, _pred in project.checked.segmentations[p.definition].branches]
    return {membership.definition_hash(project, q) for q in membership.parts(project.targets(names, membership.MEMBERS))}


def _day(value) -> dt.date:
    """A stored as_of as a date (a driver may give a datetime or a string)."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def stored_as(project, p: Part) -> list[Part]:
    """How a part may have been stored: a branch alone, or with its whole segmentation."""
    if not p.branch:
        return [p]
    whole = project.targets([p.definition], membership.MEMBERS)[0]
    return [p, Part(p.definition, None, whole)]


def since_date(store, since, as_of: dt.date) -> dt.date:
    """The snapshot compared with: `last` = the latest strictly before the as-of; a date
    must have a snapshot. E770 when there is none."""
    dates = store.dates()
    run = "take one with `segc snapshot --as-of DATE`"
    if since in (None, "last"):
        before = [x for x in dates if x < as_of]
        if not before:
            earlier = f"segc snapshot --as-of {as_of - dt.timedelta(days=1)}"
            hint = (f"the snapshot at {as_of} is the as-of itself, not one before it: take an earlier one, e.g. "
                    f"`{earlier}`, then `segc changes --since last`" if as_of in dates else
                    f"take one before it, e.g. `{earlier}` (daily in CI: `segc snapshot --as-of DATE`), then "
                    "`segc changes --since last`")
            raise SegcError(Diagnostic("E770", f"no snapshot before {as_of} in {store.where}", hints=(hint,)))
        return before[-1]
    try:
        d = since if isinstance(since, dt.date) else dt.date.fromisoformat(str(since))
    except ValueError:
        raise SegcError(Diagnostic("E009", f"--since `{since}` is not a date",
                                   hints=("write YYYY-MM-DD, or `last` for the latest snapshot",))) from None
    if d not in dates:
        shown = ", ".join(x.isoformat() for x in dates[-5:]) or "none"
        raise SegcError(Diagnostic("E770", f"no snapshot at {d} in {store.where}",
                                   hints=(f"snapshots: {shown}; {run}",)))
    return d


def payload(project, targets, names) -> tuple[list[str], tuple[str, ...]]:
    """The `--with` names split into features and columns of the base source. A sensitive
    one only where every target allows it (the one policy function: check/policy.py),
    else E501 naming the definitions; an unknown name is E772."""
    schema = project.schema
    base = schema.sources[schema.base]
    known_columns = set(base.columns or ()) | {f.column for f in schema.features.values() if f.kind == "column"}
    features, columns, diags = [], [], []
    for name in dict.fromkeys(names or ()):
        if name in schema.features:
            features.append(name)
        elif name in known_columns and name != schema.key:
            columns.append(name)
        else:
            close = suggest(name, list(schema.features) + sorted(known_columns))
            diags.append(Diagnostic("E772", f"--with `{name}` is neither a feature nor a column of the base "
                                    f"source `{schema.base}`",
                                    hints=(f"did you mean `{close}`?" if close else
                                           "declare the column in segc.yml (a feature, or `columns:` of the base)",)))
    for n in features + columns:  # one E501 per name, naming the definitions that refuse it
        refused = [t.name for t in targets if n not in allowed_features(schema, [n], _allowance(project, t))]
        if refused:
            diags.append(Diagnostic("E501", f"--with `{n}`: sensitive data that {_refusing(refused, len(targets))} "
                                    "with @allow_sensitive",
                                    hints=("a changes payload shows a sensitive column only for a segment that "
                                           "uses it with @allow_sensitive(\"reason\"); leave it out of --with",)))
    if diags:
        raise SegcError(diags)
    return features, tuple(columns)


def _refusing(names: list[str], of: int, shown: int = 3) -> str:
    """The definitions that do not use a --with name: a few by name, then how many more."""
    if len(names) == of > 1:
        return f"none of the {of} definitions uses"
    listed = ", ".join(f"`{n}`" for n in names[:shown]) + (f" and {len(names) - shown} more" if len(names) > shown else "")
    return f"{listed} {'does' if len(names) == 1 else 'do'} not use"


def _allowance(project, target) -> dict[str, str]:
    """The sensitive data a target is allowed (a whole segmentation: what all its branches are)."""
    if target.kind != "segmentation":
        return target.sensitive
    allowed = [project.checked.segments[b].sensitive for b in target.branches]
    return {k: v for k, v in allowed[0].items() if all(k in a for a in allowed)} if allowed else {}


def _duckdb(run) -> None:
    """A DuckDB call on the store: its failure is E722-like, values masked (engine_message)."""
    import duckdb

    from segc.run.engine import engine_message

    try:
        run()
    except duckdb.Error as e:
        raise SegcError(Diagnostic("E704", "reading or writing the snapshot store failed",
                                   hints=(engine_message(e),))) from None
