"""`segc build`: every segment and segmentation -> one file per definition, rendered with
jinja2 templates (shipped in segc/templates, overridable by the project's own
`templates/` folder), plus a manifest.json.

The SQL always comes from segc's compiler (sqlglot trees rendered per dialect); the
templates only wrap it (CREATE VIEW, CREATE TABLE, dbt config...). Output is
deterministic (no timestamps, no absolute paths, sorted keys), and written atomically:
everything is rendered in memory, written to a temporary folder next to `--out`, then
swapped in, so a failure at any point leaves the previous output as it was.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from segc import __version__

from segc.front import ast
from segc.front.files import check_output, project_path, replace_folder
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.front.printable import has_control, one_line
from segc.backend.render import render
from segc.backend.trees import ident, table
from segc.check.targets import SEGMENT, SEGMENTATION, WHOLE, Takes
from segc.backend.dialects import DIALECTS, TABLE as DIALECT_TABLE, name_too_long
from segc.apps.build_dbt import (dbt_escape, jinja_str, source_columns, source_description, source_groups,
                                  table_parts, yaml_scalar)

TEMPLATES = ("select", "view", "table", "members", "dbt", "changes")
PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"
MANIFEST = "manifest.json"
DBT_DIR = "models/segments"
# the templates each build uses (file names are the same in a project's templates/ folder)
TEMPLATE_FILES = {
    "select": ("select.sql.j2",),
    "view": ("view.sql.j2",),
    "table": ("table.sql.j2",),
    "members": ("members.sql.j2",),
    "changes": ("changes.sql.j2",),
    "dbt": ("dbt_model.sql.j2", "dbt_sources.yml.j2", "dbt_schema.yml.j2"),
}
# a segmentation builds whole (one file: key and branch); a branch is built with it
BUILD = Takes("segc build", frozenset({SEGMENT, SEGMENTATION}), WHOLE)
SEGMENT_COLUMN = "segment"  # the label/segment-name column of segmentations and members
SNAPSHOTS = "segc_snapshots"  # the table `--template changes` reads (in --schema): `segc snapshot --table`'s


@dataclass(frozen=True)
class BuildResult:
    out: Path
    files: dict[str, bytes]  # path relative to out -> content (manifest.json included)
    manifest: dict


# ---- the public entry points ---------------------------------------------------------

def build(project, template: str, out: str | Path, dialect: str | None = None,
          schema: str | None = None, names: list[str] | None = None) -> BuildResult:
    """Render every definition (or `names`) with `template` and swap the result into `out`."""
    out = Path(out)
    _check_out(project.root, out)  # before the work: a wrong --out is reported at once
    files, manifest = render_build(project, template, dialect, schema, names)
    write_atomically(files, out, project.root)
    return BuildResult(out, files, manifest)


def render_build(project, template: str, dialect: str | None = None, schema: str | None = None,
                 names: list[str] | None = None) -> tuple[dict[str, bytes], dict]:
    """Every output file in memory (nothing written): {relative path: bytes}, manifest."""
    if template not in TEMPLATES:
        close = suggest(template, TEMPLATES)
        raise SegcError(Diagnostic("E821", f"unknown template `{template}`",
                                   hints=((f"did you mean `{close}`?",) if close else ())
                                   + ("templates: " + ", ".join(TEMPLATES),)))
    dialect = dialect or project.schema.dialect
    if dialect not in DIALECTS:
        close = suggest(dialect, DIALECTS)
        raise SegcError(Diagnostic("E601", f"unknown dialect `{dialect}`",
                                   hints=((f"did you mean `{close}`?",) if close else ())
                                   + ("dialects: " + ", ".join(DIALECTS),)))
    if schema is not None:
        view_schema(template, schema_parts(schema, dialect), dialect)  # E826 before any work
    return _Builder(project, template, dialect, schema).run(names)


# ---- rendering -----------------------------------------------------------------------

class _Builder:
    def __init__(self, project, template: str, dialect: str, schema: str | None):
        self.project = project
        self.template = template
        self.dialect = dialect
        self.target_schema = schema
        self.as_of = project.as_of.isoformat() if project.as_of else None
        self.quoting = project.schema.quoting
        self.env = _environment(project.root / "templates", dialect, self.quoting)

    # which definitions, in file order: segments and whole segmentations (not branches)
    def definitions(self, names: list[str] | None) -> list[tuple[str, str, object]]:
        checked = self.project.checked
        found = []
        for module in self.project.modules:
            for node in module.definitions:
                if isinstance(node, ast.Segment) and node.name in checked.segments:
                    found.append((node.name, "segment", node))
                elif isinstance(node, ast.Segmentation) and node.name in checked.segmentations:
                    found.append((node.name, "segmentation", node))
        if names:
            known = {n: (n, k, node) for n, k, node in found}
            found = [known[n] for n in dict.fromkeys(t.name for t in self.project.targets(names, BUILD))]
        return found

    def run(self, names: list[str] | None) -> tuple[dict[str, bytes], dict]:
        defs = self.definitions(names)
        # one dbt source per table location (E825 once, before any definition)
        self.dbt_groups = source_groups(self.project.schema) if self.template == "dbt" else {}
        stems = _file_stems([n for n, _k, _node in defs])
        files: dict[str, bytes] = {}
        entries: dict[str, dict] = {}
        contexts = []
        diags: list[Diagnostic] = []
        for name, kind, node in defs:
            try:
                ctx = self.context(name, kind, node, stems[name])
            except SegcError as e:  # report every failing definition, not only the first
                diags.extend(_located(d, name, node) for d in e.diagnostics)
                continue
            contexts.append(ctx)
        if diags:
            raise SegcError(diags)
        for ctx in contexts:
            path = self.output_path(ctx["file_name"])
            files[path] = _text(self.render_template(self.model_template(), ctx))
            entries[ctx["name"]] = self.manifest_entry(ctx, path)
        if self.template == "dbt":
            common = self.common_context(contexts)
            files[f"{DBT_DIR}/sources.yml"] = _text(self.render_template("dbt_sources.yml.j2", common))
            files[f"{DBT_DIR}/schema.yml"] = _text(self.render_template("dbt_schema.yml.j2", common))
        manifest = self.manifest(entries)
        files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
        return dict(sorted(files.items())), manifest

    def model_template(self) -> str:
        return TEMPLATE_FILES[self.template][0]

    def output_path(self, stem: str) -> str:
        return f"{DBT_DIR}/{stem}.sql" if self.template == "dbt" else f"{stem}.sql"

    def render_template(self, file: str, ctx: dict) -> str:
        import jinja2

        try:
            return self.env.get_template(file).render(ctx)
        except jinja2.TemplateSyntaxError as e:
            where = e.filename or e.name or file
            raise SegcError(Diagnostic("E823", f"template {_display_template(where, self.project.root)} "
                                       f"line {e.lineno}: {e.message}", file=_display_template(where, self.project.root),
                                       hints=("fix the template's Jinja syntax (jinja.palletsprojects.com)",))) from None
        except jinja2.TemplateError as e:
            raise SegcError(Diagnostic("E823", f"template `{file}` failed: {e}",
                                       file=self._template_display(file),
                                       hints=(f"rendering `{ctx.get('name', '')}`" if ctx.get("name") else
                                              "rendering the project files",))) from None
        except SegcError:
            raise
        except Exception as e:  # a bug in a project template (e.g. a filter on a wrong type)
            raise SegcError(Diagnostic("E823", f"template `{file}` failed: {type(e).__name__}: {e}",
                                       file=self._template_display(file),
                                       hints=("the template is the project's: check the variables and filters it uses",))) from None

    def _template_display(self, file: str) -> str:
        own = self.project.root / "templates" / file
        return _display_template(str(own) if own.is_file() else f"segc/templates/{file}", self.project.root)

    # ---- per definition ----
    def context(self, name: str, kind: str, node, stem: str) -> dict:
        project, checked = self.project, self.project.checked
        key = project.schema.key
        if kind == "segment":
            d = checked.segments[name]
            tree = project.query(d.pred)
            features, sensitive = d.features, dict(d.sensitive)
            notes = d.annotations
            branches = []
            columns = [key]
        else:
            info = checked.segmentations[name]
            tree = project.label_query(name)
            features = info.features
            notes = info.annotations
            sensitive = {}
            for b, _pred in info.branches:
                bd = checked.segments.get(f"{name}.{b}")
                if bd is not None:
                    sensitive.update(bd.sensitive)
            branches = [{"name": b.name, "doc": b.doc, "is_else": b.expr is None} for b in node.branches]
            columns = [key, SEGMENT_COLUMN]
        if self.template in ("view", "table", "dbt"):
            _check_name_length(name if self.template != "dbt" else stem, self.dialect)
        sources = _sources_used(tree, project.schema)
        ctx = {
            "project": project.schema.name,
            "entity": project.schema.entity,
            "dialect": self.dialect,
            "template": self.template,
            "name": name,
            "file_name": stem,
            "kind": kind,
            "file": project_path(node.span.file if node.span else "", project.root),
            "doc": node.doc,
            "owner": notes.owner,
            "tags": list(notes.tags),
            "min_size": notes.min_size,
            "key": key,
            "columns": columns,
            "branches": branches,
            "features": sorted(features),
            "sources": sources,
            "sensitive": dict(sorted(sensitive.items())),
            "as_of": self.as_of,
            "hash": _definition_hash(node),
            "relation": _relation(name, self.target_schema, self.dialect, self.quoting),
            "target_schema": self.target_schema,
        }
        if self.template == "members":
            ctx["sql"] = render(_members(tree, name, kind), self.dialect, quoting=self.quoting)
            ctx["columns"] = [key, SEGMENT_COLUMN]
        elif self.template == "changes":
            ctx["snapshots"] = ".".join(p for p in (self.target_schema, SNAPSHOTS) if p)
            # `--table` names schema.table (a database part: connect to that database)
            ctx["store"] = ".".join(ctx["snapshots"].split(".")[-2:])
            ctx["sql"] = render(self.changes_tree(name, ctx["snapshots"]), self.dialect, quoting=self.quoting)
            ctx["columns"] = [key, "definition", "branch", "change"]
        elif self.template == "dbt":
            ctx["sql"] = self.dbt_sql(tree)
        else:
            ctx["sql"] = render(tree, self.dialect, quoting=self.quoting)
        if self.template == "table" and self.dialect == "tsql":
            # T-SQL has no CREATE TABLE AS: SELECT ... INTO on the outer query
            from sqlglot import exp

            into = tree.copy()
            into.set("into", exp.Into(this=_relation_table(name, self.target_schema, self.dialect)))
            ctx["select_into"] = render(into, self.dialect, quoting=self.quoting)
        else:
            ctx["select_into"] = None
        return ctx

    def changes_tree(self, name: str, snapshots: str):
        """Who entered and exited `name` since its latest snapshot in `snapshots` before the
        as-of that holds it (a segmentation: stored whole) (run/membership.py: the query of
        `segc changes --since last`)."""
        from segc.run.membership import MEMBERS, changes_query, latest_before, parts, whole_hashes

        as_of = self.project.as_of
        items = parts(self.project.targets([name], MEMBERS))
        wholes = whole_hashes(self.project, items)
        since = {p.name: latest_before(snapshots, as_of, p, wholes) for p in items}
        return changes_query(self.project, items, as_of, snapshots, since, ordered=False, portable=True)

    def dbt_sql(self, tree) -> str:
        """The query with each source table replaced by `{{ source(project, name) }}`, done
        on the tree (placeholder tables) and then substituted; the text around is
        protected from dbt's jinja (a string literal may hold `{{`)."""
        from sqlglot import exp

        schema, groups = self.project.schema, self.dbt_groups
        # a marker the query does not hold already (in a name, an alias, a literal): every
        # match in the rendered text is then a placeholder
        written = render(tree, self.dialect, quoting=self.quoting).casefold()
        for attempt in range(100):
            marker = f"segc_dbt_source_{attempt}_"
            if marker in written:
                continue
            t = tree.copy()
            replaced = list(_source_tables(t, schema))
            for i, node in enumerate(replaced):
                new = exp.Table(this=exp.Var(this=f"{marker}{i}"))
                if node.args.get("alias") is not None:
                    new.set("alias", node.args["alias"].copy())
                node.replace(new)
            sql = render(t, self.dialect, quoting=self.quoting)
            # no string literal holds the marker (a dialect's form may read a source once
            # where the portable tree reads it twice: each placeholder appears at most once)
            found = re.findall(re.escape(marker) + r"\d+", sql)
            if len(found) == len(set(found)) and not any(marker in lit.name for lit in t.find_all(exp.Literal)):
                break
        else:  # pragma: no cover - the query would need to hold 100 different markers
            raise SegcError(Diagnostic("E823", "cannot place dbt source() calls in the compiled SQL",
                                       hints=("segc marks the source tables with names such as "
                                              "`segc_dbt_source_0_1`: rename the columns or values named so",)))
        parts, last = [], 0
        for m in re.finditer(re.escape(marker) + r"(\d+)", sql):
            src = replaced[int(m.group(1))].meta["segc_source"]
            parts.append(dbt_escape(sql[last:m.start()]))
            parts.append("{{ source(" + jinja_str(groups[src]) + ", " + jinja_str(src) + ") }}")
            last = m.end()
        parts.append(dbt_escape(sql[last:]))
        return "".join(parts)

    def manifest_entry(self, ctx: dict, path: str) -> dict:
        entry = {k: ctx[k] for k in ("name", "kind", "file", "doc", "owner", "tags", "min_size", "hash",
                                      "features", "sources", "sensitive", "dialect", "columns")}
        entry["as_of"] = self.as_of_entry()
        entry["output"] = path
        if ctx["kind"] == "segmentation":
            entry["branches"] = [b["name"] for b in ctx["branches"]]
        return entry

    def as_of_entry(self) -> dict:
        return {"mode": "pinned", "date": self.as_of} if self.as_of else {"mode": "rolling"}

    def manifest(self, entries: dict) -> dict:
        schema = self.project.schema
        params = {n: p.default for n, p in schema.params.items()}
        params.update(self.project.params)
        return {
            "segc_version": __version__,
            "project": schema.name,
            "template": self.template,
            "dialect": self.dialect,
            "target_schema": self.target_schema,
            "as_of": self.as_of_entry(),
            "params": {n: _jsonable(v) for n, v in sorted(params.items())},
            "population": schema.population.text if schema.population else None,
            "segments": entries,
        }

    # ---- the dbt project files ----
    def common_context(self, contexts: list[dict]) -> dict:
        schema, groups = self.project.schema, self.dbt_groups
        used = sorted({s for c in contexts for s in c["sources"]})
        by_group: dict[str, dict] = {}
        for src_name in used:
            src = schema.sources[src_name]
            parts = src.table.split(".")
            group = by_group.setdefault(groups[src_name], {
                "name": groups[src_name],
                "database": parts[-3] if len(parts) > 2 else None,
                "schema": parts[-2] if len(parts) > 1 else None,
                "tables": []})
            group["tables"].append({"name": src_name, "identifier": parts[-1],
                                    "description": source_description(schema, src_name),
                                    "columns": source_columns(schema, src_name)})
        return {"project": schema.name, "entity": schema.entity, "key": schema.key, "dialect": self.dialect,
                "as_of": self.as_of, "sources": list(by_group.values()), "models": contexts}


# ---- helpers -------------------------------------------------------------------------

def _environment(project_templates: Path, dialect: str, quoting: str = "preserve"):
    """A sandboxed jinja2 environment: the project's templates/ first, then segc's."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(project_templates)),
                                    jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES))]),
        undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["comment"] = _comment
    env.filters["one_line"] = one_line  # a name in a `--` comment: a line break would end it
    env.filters["yaml"] = yaml_scalar
    env.filters["dbt_escape"] = dbt_escape
    env.globals["quote"] = env.filters["quote"] = lambda name: _quote(name, dialect, quoting)
    env.globals["relation_of"] = lambda name, schema=None: _relation(name, schema, dialect, quoting)
    return env


def _text(s: str) -> bytes:
    return (s.rstrip("\n") + "\n").encode("utf-8")


def _comment(text: str, prefix: str = "-- ") -> str:
    """Each line of `text` as an SQL line comment (nothing for an empty text)."""
    if not text:
        return ""
    return "\n".join((prefix + one_line(line)).rstrip() for line in str(text).splitlines())


def _quote(name: str, dialect: str, quoting: str = "preserve") -> str:
    from sqlglot import exp

    return _sql(exp.to_identifier(name, quoted=True), dialect, quoting)


def _sql(tree, dialect: str, quoting: str) -> str:
    """A name (or a table) as the project's `quoting:` writes it for the dialect."""
    if quoting == "fold":
        from sqlglot import Dialect

        from segc.backend.render import fold_identifiers

        tree = fold_identifiers(tree, Dialect.get_or_raise(dialect))
    return tree.sql(dialect=dialect)


def schema_parts(schema: str, dialect: str) -> list[str]:
    """`--schema` split at its dots: `schema`, or `db.schema` where the dialect names a
    table with three parts. E826 for a schema that names no place for a table."""
    parts = schema.split(".")
    most = DIALECT_TABLE[dialect].schema_parts
    shown = one_line(schema)
    if not schema.strip() or has_control(schema):
        problem, hint = "is not a schema name", "give the schema on one line, without control characters"
    elif any(not p.strip() for p in parts):
        problem, hint = "has an empty part", "write a name on each side of each dot"
    elif len(parts) > most:
        problem = f"has {len(parts)} parts; {dialect} names a table `{'db.' if most > 1 else ''}schema.table`"
        hint = "give `schema` or `db.schema`" if most > 1 else "give the schema alone, without a dot"
    elif any(name_too_long(p, dialect) for p in parts):
        limit = next(name_too_long(p, dialect) for p in parts if name_too_long(p, dialect))
        unit = "bytes" if DIALECT_TABLE[dialect].name_in_bytes else "characters"
        problem = f"has a part longer than {dialect} keeps (at most {limit} {unit})"
        hint = f"{dialect} would cut it: give a shorter name"
    else:
        return parts
    raise SegcError(Diagnostic("E826", f"--schema `{shown}` {problem}",
                               hints=(f"{hint}, e.g. --schema analytics" + (" or --schema warehouse.analytics"
                                                                            if most > 1 else ""),)))


# the parts of `--schema` a view's name may take where fewer than a table's: T-SQL's
# `CREATE [OR ALTER] VIEW [schema_name .] view_name` names no database (the view is made in
# the connection's), and must be the first statement of its batch (so no `USE db;` before
# it: a `GO` between is a client's command, not SQL)
VIEW_PARTS = {"tsql": 1}


def view_schema(template: str, parts: list[str], dialect: str) -> None:
    """E826 for `--schema db.schema` with `-t view` where the dialect's CREATE VIEW cannot
    name a database (T-SQL): the warehouse would refuse the file."""
    most = VIEW_PARTS.get(dialect)
    if template != "view" or most is None or len(parts) <= most:
        return
    db, schema = one_line(".".join(parts[:-1])), one_line(parts[-1])
    raise SegcError(Diagnostic(
        "E826", f"--schema `{db}.{schema}` names a database for a view: {dialect}'s CREATE VIEW takes "
        "`schema.view` only (the view is created in the database the file is run in)",
        hints=(f"give the schema alone (--schema {schema}) and run the file connected to the database `{db}`; "
               "`-t table` can name the database (SELECT ... INTO db.schema.table)",)))


def _relation_table(name: str, schema: str | None, dialect: str):
    """The table `name` in `schema` (`schema` or `db.schema`): what a template creates,
    the one tree behind every statement that names it (DROP, CREATE, SELECT ... INTO)."""
    t = table(name)
    if schema:
        *db, last = schema_parts(schema, dialect)
        t.set("db", ident(last))
        if db:
            t.set("catalog", ident(db[0]))
    return t


def _check_name_length(name: str, dialect: str) -> None:
    """E827 for a view or table name longer than the dialect keeps (PostgreSQL would cut it
    at 63 bytes with a mere NOTICE: two long names would then be one table)."""
    limit = name_too_long(name, dialect)
    if limit is not None:
        unit = "bytes" if DIALECT_TABLE[dialect].name_in_bytes else "characters"
        raise SegcError(Diagnostic("E827", f"the name is too long for a table or view on {dialect} "
                                   f"(at most {limit} {unit})",
                                   hints=(f"{dialect} would cut it to its first {limit} {unit}, and two names "
                                          "cut alike would be one table: give the definition a shorter name",)))


def _relation(name: str, schema: str | None, dialect: str, quoting: str = "preserve") -> str:
    """`"schema"."name"` quoted per dialect by sqlglot (schema may be `db.schema`)."""
    return _sql(_relation_table(name, schema, dialect), dialect, quoting)


def _file_stems(names: list[str]) -> dict[str, str]:
    """A safe, stable file name per definition; two names that would share a file (also on
    a case-insensitive file system) are an error."""
    stems, seen, diags = {}, {}, []
    for n in names:
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", n)
        if not stem or stem[0] in "-":
            stem = "_" + stem
        other = seen.get(stem.casefold())
        if other is not None:
            diags.append(Diagnostic("E825", f"`{n}` and `{other}` would be written to the same file `{stem}.sql`",
                                    hints=("rename one of them (file names ignore case on some systems)",)))
        seen[stem.casefold()] = n
        stems[n] = stem
    if diags:
        raise SegcError(diags)
    return stems


def _display_template(path: str, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix() if not str(path).startswith(str(PACKAGE_TEMPLATES)) else \
            "segc/templates/" + Path(path).name


def _definition_hash(node) -> str:
    """sha256 of the definition's text as written (doc, annotations and body), newlines
    normalised."""
    text = node.span.text() if node.span is not None else repr(node)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _jsonable(v):
    import datetime as dt

    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return v


def _source_tables(tree, schema):
    """The exp.Table nodes of `tree` that read a source (CTE references excluded); each gets
    meta['segc_source'] = the source's name."""
    from sqlglot import exp

    ctes = {c.alias for c in tree.find_all(exp.CTE)}
    by_parts = {table_parts(s.table): s.name for s in schema.sources.values()}
    for t in list(tree.find_all(exp.Table)):
        parts = (t.catalog, t.db, t.name)
        if not t.db and t.name in ctes:
            continue
        src = by_parts.get(parts)
        if src is not None:
            t.meta["segc_source"] = src
            yield t


def _sources_used(tree, schema) -> list[str]:
    return sorted({t.meta["segc_source"] for t in _source_tables(tree.copy(), schema)})


def _members(tree, name: str, kind: str):
    """The query with the segment's name as a column: key + segment (for a segmentation,
    `segmentation.branch`)."""
    from sqlglot import exp

    tree = tree.copy()
    if kind == "segment":
        tree.set("expressions", [*tree.expressions, exp.alias_(exp.Literal.string(name), ident(SEGMENT_COLUMN))])
        return tree
    label = tree.expressions[-1]  # the branch (alias `segment`) of label_query

    def qualify(node):
        if isinstance(node, exp.Literal) and node.is_string:
            return exp.Literal.string(f"{name}.{node.name}")
        return node

    value = label.this
    if isinstance(value, exp.Case):
        for i in value.args.get("ifs") or []:
            i.set("true", qualify(i.args["true"]))
        if value.args.get("default") is not None:
            value.set("default", qualify(value.args["default"]))
    else:
        label.set("this", qualify(value))
    return tree


# ---- writing -------------------------------------------------------------------------

def _made_by_segc(folder: Path) -> bool:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "segc_version" in data


def _check_out(root: Path, out: Path) -> None:
    """The rule for every output (files.check_output): a new or empty folder, or one this
    command made (its manifest.json says so)."""
    check_output(out, _made_by_segc, folder=True, root=root, kind="build")


def _located(d: Diagnostic, name: str, node) -> Diagnostic:
    """A problem found in the SQL of one definition (E602: the dialect cannot express it)
    has no place in a file: name the definition and point at it, or a build of 30 segments
    would only say that *something* cannot be expressed."""
    if d.span is not None or d.file is not None:
        return d
    return replace(d, message=f"`{name}`: {d.message}", span=node.name_span or node.span)


def write_atomically(files: dict[str, bytes], out: Path, root: Path | None = None) -> None:
    """Swap the new output folder in (files.replace_folder): the previous output stays as it
    was unless everything succeeded (E824 otherwise)."""
    def refuse(target: Path) -> None:  # checked again right before the swap: the folder may have changed
        if root is not None:
            _check_out(root, target)

    replace_folder(Path(out), files, refuse=refuse)
