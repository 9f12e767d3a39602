"""Physical data (DESIGN §8.5): sensitivity belongs to the columns of a table or file, not
to the names segc.yml gives them. Two sources over the same table (its normalised
`table:`) or the same file (its resolved `path:`) are one physical table; a column is
sensitive when a source over that table lists it under `sensitive:`, or when a feature
marked `sensitive: true` reads it. Every feature that reads a sensitive column is then
sensitive, whatever it is called and however it reads it (`column:`, `where:`, `sql:`);
check/policy.py enforces that at one place."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from segc.schema.sql_feature import columns_read
from segc.records import record


def normalised_table(table: str) -> str:
    """`Shop."Customers"` and `shop.customers` name the same table where names fold case;
    segc compares them folded, so that a second spelling is never a way round."""
    return ".".join(part.strip().strip('"`[]').casefold() for part in table.split("."))


def resolved_path(path: str, root: Path | None) -> str:
    """The file a `path:` names (symlinks followed), or its normalised text without a root."""
    if root is None:
        return os.path.normcase(os.path.normpath(path))
    try:
        return str((Path(root) / path).resolve())
    except (OSError, ValueError):  # a NUL character, a name too long: segc.yml's E005 says so
        return os.path.normcase(os.path.normpath(os.path.join(os.path.abspath(root), path)))


def outside_project(path: str, root: Path) -> bool:
    """Whether a `path:` leaves the project folder: `..`, an absolute path, or a symlink
    (of the file or of a folder on the way) pointing out."""
    return not Path(resolved_path(path, root)).is_relative_to(Path(root).resolve())


def physical_tables(sources: dict, root: Path | None) -> dict[str, str]:
    """source name -> one name per physical table: sources that share a table or a file
    (directly or through a third source) get the same name (the first source's)."""
    parent = {name: name for name in sources}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    owner: dict[tuple, str] = {}
    for name, s in sources.items():
        for i in _physical_ids(s, root):
            if i in owner:
                parent[find(name)] = find(owner[i])
            else:
                owner[i] = name
    return {name: find(name) for name in sources}


def _physical_ids(source, root: Path | None) -> list[tuple]:
    """What makes two sources one data for the policy. A table by its last name part only:
    `cust`, `public.cust` and `db.public.cust` may be one table (the warehouse's search path
    and default database decide, which segc cannot see), so they are taken as one — at
    worst, a same-named column of another schema's table needs the allowance too. A file by
    its resolved path and, when it exists, its device and inode (a hard link)."""
    ids = [("table", normalised_table(source.table).rpartition(".")[2])]
    if source.path:
        ids.append(("path", resolved_path(source.path, root)))
        if root is not None:
            try:
                st = (Path(root) / source.path).stat()
            except (OSError, ValueError):  # a glob, a file not there yet (segc check --data says so), a NUL
                pass
            else:
                ids.append(("inode", st.st_dev, st.st_ino))
    return ids


def feature_reads(f, base: str) -> set[tuple[str, str]]:
    """The (source, column) pairs a feature reads: its `column:`, the columns its `sql:`
    names, and the event columns its `where:` names."""
    if f.kind == "sql":
        return {(base, c) for c in columns_read(f.sql)} if f.sql is not None else set()
    if f.kind == "column":
        return {(base, f.column)}
    out = {(f.source, f.column)} if f.column else set()
    if f.where is not None:
        out |= {(f.source, c) for c in _where_names(f.where)}
    return out


def event_order(src, func: str) -> tuple[str, ...]:
    """The columns of an event source that an aggregate `func` over it reads without naming
    them: the time (the as-of keeps the events before it; windows and a sequence's `within`
    compare times) and, for first / last / nth, the `order_by:` that breaks its ties."""
    time = (src.time,) if getattr(src, "time", None) else ()
    return time + (tuple(src.order_by) if func in ("first", "last", "nth") else ())


def _where_names(text) -> set[str]:
    """The names a `where:` reads (event columns); none when it does not parse, which the
    checker reports."""
    from segc.front import ast
    from segc.front.errors import SegcError
    from segc.front.nesting import children
    from segc.front.parser import parse_expression

    try:
        tree = parse_expression(text.span.source, text.text, text.offset)
    except SegcError:
        return set()
    out: set[str] = set()
    stack = [tree]
    while stack:  # the syntax nodes only (a walk of every field went through each span's source)
        node = stack.pop()
        if isinstance(node, ast.Name):
            out.add(node.name)
        stack.extend(children(node))
    return out


@record
class Sensitivity:
    """Which physical columns are sensitive; `source` names map to physical tables."""
    tables: dict[str, str]
    columns: frozenset[tuple[str, str]]  # (physical table, column folded)

    def is_sensitive(self, source: str, column: str) -> bool:
        table = self.tables.get(source)
        return table is not None and (table, column.casefold()) in self.columns


def sensitivity(sources: dict, features: dict, base: str, root: Path | None) -> Sensitivity:
    tables = physical_tables(sources, root)
    marked = {(tables[s.name], c.casefold()) for s in sources.values() for c in s.sensitive}
    for f in features.values():
        if f.sensitive:
            marked |= {(tables[s], c.casefold()) for s, c in feature_reads(f, base) if s in tables}
    return Sensitivity(tables, frozenset(marked))


def mark_features(features: dict, base: str, found: Sensitivity, sources: dict) -> dict:
    """The features with `sensitive` set on every one that reads a sensitive column: one
    it names, or its source's time and tie-breakers (event_order). (What a feature marked
    `sensitive: true` marks in turn is only what it names: `sensitivity`.)"""
    def reads(f):
        out = feature_reads(f, base)
        if f.kind == "agg" and f.source in sources:
            out |= {(f.source, c) for c in event_order(sources[f.source], f.agg)}
        return out
    return {name: f if f.sensitive or not any(found.is_sensitive(s, c) for s, c in reads(f))
            else dataclasses.replace(f, sensitive=True) for name, f in features.items()}
