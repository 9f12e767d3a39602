"""The dbt side of `segc build --template dbt`: the dbt source name of each segc source,
what sources.yml says of it, and text written so that dbt (its YAML and its jinja) reads
back exactly what segc wrote. build.py renders the templates with these."""
from __future__ import annotations

import hashlib
import json
import re

from segc.front.errors import Diagnostic, SegcError


# what JSON leaves raw and YAML cannot hold as such: DEL and the C1 controls (a raw U+0085
# is read as a line break), the line and paragraph separators, the byte order mark (libyaml
# refuses it) and the non-characters U+FFFE/U+FFFF
_NOT_YAML = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def yaml_scalar(value) -> str:
    """A value as a YAML flow scalar (JSON is YAML); strings are protected from dbt's jinja,
    and every character YAML would refuse or read otherwise is written as its `\\u` escape
    (the same in YAML's double-quoted scalars): YAML reads back the text as written."""
    def escape(v):
        if isinstance(v, str):
            return dbt_escape(_whole_characters(v))
        if isinstance(v, (list, tuple)):
            return [escape(x) for x in v]
        if isinstance(v, dict):
            return {k: escape(x) for k, x in v.items()}
        return v

    return _NOT_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(escape(value), ensure_ascii=False))


def _whole_characters(text: str) -> str:
    """A surrogate pair (segc.yml's `"\\ud83d\\ude00"`, read by PyYAML as two halves) as the
    character it spells; a lone half, which no YAML reader of dbt takes, as U+FFFD."""
    if not re.search("[\ud800-\udfff]", text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def dbt_escape(text: str) -> str:
    """Text that dbt's jinja renders back to itself: every `{` of a `{{`, `{%` or `{#`
    becomes `{{ '{' }}`."""
    if not re.search(r"\{[{%#]", text):
        return text
    return text.replace("{", "{{ '{' }}")


def jinja_str(value: str) -> str:
    """A jinja string literal that needs no escape: dbt's static parser (dbt-extractor)
    keeps `\\u00e9` or `\\"` as written, and then finds no such source. The names given
    here are segc source names (identifiers) and dbt_name()s."""
    assert not _NOT_IN_DBT_NAME.search(value), value
    return '"' + value + '"'


# what a dbt source name cannot hold: a quote or a backslash (an escape dbt would not read
# back), jinja's braces, and the characters that one_line or yaml_scalar would escape
_NOT_IN_DBT_NAME = re.compile("[\"'\\\\{}\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069"
                              "\ud800-\udfff\ufeff\ufffe\uffff]")


def dbt_name(text: str) -> str:
    """The dbt source name made from the project's name (and a location): each character
    it cannot hold becomes `_`; `café` stays `café` (dbt reads it back as written)."""
    return _NOT_IN_DBT_NAME.sub("_", text)


def table_parts(name: str) -> tuple[str, str, str]:
    parts = name.split(".")
    return (parts[-3] if len(parts) > 2 else "", parts[-2] if len(parts) > 1 else "", parts[-1])


def source_groups(schema) -> dict[str, str]:
    """The dbt source name of each segc source: the project name when every table lives in
    the same schema (the usual case), else `<project>_<schema>` (`<project>_<db>_<schema>`)
    per location, each written as dbt_name() writes it. Two locations named alike so
    (`shop_eu` and `shop.eu`) each get a suffix from a hash of their location: one dbt
    source per location, always."""
    locations = {n: table_parts(s.table)[:2] for n, s in schema.sources.items()}
    if len(set(locations.values())) <= 1:
        return {n: dbt_name(schema.name) for n in schema.sources}
    plain = {loc: dbt_name("_".join(p for p in (schema.name, *loc) if p)) for loc in sorted(set(locations.values()))}
    alike = [name for name in plain.values() if list(plain.values()).count(name) > 1]
    named = {loc: f"{name}_{hashlib.sha256(chr(0).join(loc).encode()).hexdigest()[:8]}" if name in alike else name
             for loc, name in plain.items()}
    seen: dict[str, tuple] = {}
    for loc, name in named.items():
        if name in seen:  # a hashed name that another location has as its own
            shown = [".".join(p for p in where if p) for where in (seen[name], loc)]
            src = next(n for n in sorted(locations) if locations[n] == loc)
            raise SegcError(Diagnostic("E825", f"the tables in `{shown[0]}` and in `{shown[1]}` would be one dbt "
                                       f"source `{name}`", schema.sources[src].span,
                                       hints=("move one group of tables to another schema, "
                                              "or build another template",)))
        seen[name] = loc
    return {n: named[loc] for n, loc in locations.items()}


def source_description(schema, name: str) -> str:
    src = schema.sources[name]
    if name == schema.base:
        return f"One row per {schema.entity} (the base of segc project `{schema.name}`)."
    return f"Events of segc project `{schema.name}`" + (f", time column `{src.time}`." if src.time else ".")


def source_columns(schema, name: str) -> list[dict]:
    """Columns that segc.yml describes: the base's feature columns, an event source's key,
    time and declared columns."""
    src = schema.sources[name]
    cols: dict[str, str] = {}
    if name == schema.base:
        cols[schema.key] = f"Key of a {schema.entity}."
        for f in schema.features.values():
            if f.kind == "column" and f.column:
                cols.setdefault(f.column, f.description or f"Feature `{f.name}` ({f.type}).")
    else:
        if src.key:
            cols[src.key] = f"Key of the {schema.entity}."
        if src.time:
            cols[src.time] = "Event time."
        for c, t in src.columns.items():
            cols.setdefault(c, f"{t}")
    return [{"name": c, "description": d} for c, d in cols.items()]
