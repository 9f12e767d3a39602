"""Checks of one source of segc.yml: its `path:`, `table:`, `order_by:` and `sensitive:`
names (schema/segc_yml.py calls them while building the sources)."""
from __future__ import annotations

import re

from segc.front.errors import Diagnostic, suggest


def check_path(text: str, path, err) -> None:
    """What no file system takes: a NUL character, a name of more than 255 bytes."""
    if "\0" in text:
        err(path, "a `path:` cannot hold a NUL character", "write the file's path as it is on disk")
    elif any(len(part.encode("utf-8", "surrogatepass")) > 255 for part in re.split(r"[/\\]", text)):
        err(path, "a `path:` holds a name of more than 255 bytes, which no file system takes",
            "write the file's path as it is on disk")


def check_table_name(table: str, path, err) -> None:
    """`table` or `schema.table` or `catalog.schema.table`, each part named: every
    dialect's table reference has at most three parts."""
    parts = table.split(".")
    if len(parts) > 3:
        err(path, f"`{table}` has {len(parts)} parts; a table is `table`, `schema.table` or "
            "`catalog.schema.table`", "the warehouse names a table with at most three parts")
    elif any(not p.strip() for p in parts):
        err(path, f"`{table}` has an empty part", "write `schema.table` with a name on each side of the dot")


def check_time_column(src, err) -> None:
    """A source's `time:` is compared with the as-of (and windows, `within`): declared
    under its `columns:`, it must be a date or a timestamp."""
    kind = src.columns.get(src.time) if src.time else None
    if kind is not None and kind not in ("date", "timestamp"):
        err(("sources", src.name, "columns", src.time),
            f"`{src.time}` is the `time:` of source `{src.name}`, and is declared {kind}; "
            "a time column is a date or a timestamp",
            f"declare it `{src.time}: timestamp` (or date), or name another column in `time:`")


def check_order_by(src, err) -> None:
    known = set(src.columns) | {c for c in (src.time, src.key) if c}
    for i, name in enumerate(src.order_by):
        if name not in known:
            close = suggest(name, known)
            err(("sources", src.name, "order_by", i), f"`order_by: {name}` is not a column of source `{src.name}`",
                f"did you mean `{close}`?" if close else f"declare it under sources.{src.name}.columns", code="E202")
    if src.order_by and not src.time:
        err(("sources", src.name, "order_by"), f"`order_by:` breaks ties of the time order, and source "
            f"`{src.name}` declares no `time:`", f"add `time: <column>` to source `{src.name}`", code="E210")


def check_sensitive(sources: dict, base: str, key: str, base_known: set[str], loc, diags) -> None:
    """A `sensitive:` name must be a column segc knows for its source (a typo protects nothing)."""
    for name, src in sources.items():
        known = base_known if name == base else \
            set(src.columns) | {c for c in (src.key, src.time) if c}
        for i, column in enumerate(src.sensitive):
            if column in (key, src.key):
                diags.append(Diagnostic(
                    "E005", f"`sensitive: {column}` is the key of source `{name}`, which every definition reads",
                    loc.span(("sources", name, "sensitive", i)),
                    hints=("segc lists, joins and hashes (holdout) the key for every segment, where "
                           "@allow_sensitive cannot reach: use a pseudonymous key (a customer number, "
                           "not an e-mail address)",)))
            elif column not in known:
                close = suggest(column, known)
                diags.append(Diagnostic(
                    "E202", f"`sensitive: {column}` is not a column of source `{name}`",
                    loc.span(("sources", name, "sensitive", i)),
                    hints=(f"did you mean `{close}`?" if close else
                           f"declare it under sources.{name}.columns: a column segc does not know is "
                           "read by nothing, so marking it protects nothing",)))
