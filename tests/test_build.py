"""`segc build`: templates -> one file per definition + manifest.json.

Golden outputs for every template (examples/retail, duckdb) live in
tests/golden_build/<template>/; regenerate them with SEGC_UPDATE_GOLDEN=1.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
import sqlglot
from typer.testing import CliRunner

import segc
from segc.front import files
import segc.apps.build as build_mod
from segc.apps.build import TEMPLATES, build, dbt_escape, render_build
from segc.cli.main import app
from segc.backend.dialects import DIALECTS, TABLE as DIALECT_TABLE
from tests.conftest import EXAMPLE, ROOT

GOLDEN = ROOT / "tests" / "golden_build"
UPDATE = os.environ.get("SEGC_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def project():
    return segc.load_project(EXAMPLE)


@pytest.fixture(scope="module")
def counts(project):
    return {s.name: s.count for s in project.count().segments}


@pytest.fixture
def example(tmp_path) -> Path:
    """A writable copy of the example project (its data copied: a link out of the project
    would need `allow_outside_paths: true`)."""
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "build"))
    return root


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".segc-" in p.name]


def _statement(text: str) -> str:
    """The SQL of a generated file without its comment lines and final semicolon."""
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("--"))
    return body.strip().rstrip(";")


def _definitions(project) -> tuple[list[str], list[str]]:
    segments = [n for n, d in project.checked.segments.items() if "." not in n]
    return segments, list(project.checked.segmentations)


# ---- golden outputs ------------------------------------------------------------------

@pytest.mark.parametrize("template", TEMPLATES)
def test_golden(project, template, tmp_path):
    out = tmp_path / "out"
    build(project, template, out, dialect="duckdb")
    got = _tree(out)
    golden = GOLDEN / template
    if UPDATE:
        shutil.rmtree(golden, ignore_errors=True)
        for rel, data in got.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_bytes(data)
    assert golden.is_dir(), f"no golden output for {template}: run with SEGC_UPDATE_GOLDEN=1"
    want = _tree(golden)
    assert sorted(got) == sorted(want), "the set of files differs (SEGC_UPDATE_GOLDEN=1 to accept)"
    for rel in want:
        assert got[rel].decode() == want[rel].decode(), f"{template}/{rel} differs (SEGC_UPDATE_GOLDEN=1 to accept)"


def test_one_file_per_definition(project, tmp_path):
    segments, segmentations = _definitions(project)
    result = build(project, "select", tmp_path / "out")
    files = sorted(result.files)
    assert files == sorted([f"{n}.sql" for n in segments + segmentations] + ["manifest.json"])
    assert not any("." in Path(f).stem for f in files)  # branches are not files


def test_byte_identical_across_runs_and_working_directories(tmp_path, monkeypatch):
    for template in TEMPLATES:
        a, b = tmp_path / f"{template}_a", tmp_path / f"{template}_b"
        monkeypatch.chdir(ROOT)
        build(segc.load_project(EXAMPLE), template, a)
        monkeypatch.chdir(tmp_path)  # other cwd: file paths in the output must not change
        build(segc.load_project(EXAMPLE), template, b)
        assert _tree(a) == _tree(b), template
        text = b"".join(_tree(b).values()).decode()
        assert str(tmp_path) not in text and str(ROOT) not in text  # no absolute paths


@pytest.mark.parametrize("linked", ["segments", "segments/rfm.seg"])
def test_a_linked_segments_folder_or_file_is_recorded_as_the_project_shows_it(tmp_path, linked):
    """A symbolic link (shared segment files) put its target's absolute path into
    manifest.json, every SQL header and dbt's schema.yml (attack11 B5)."""
    plain, checkout = tmp_path / "plain", tmp_path / "checkout"
    for root in (plain, checkout):
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    shared = tmp_path / "shared" / Path(linked).name
    shared.parent.mkdir()
    (checkout / linked).rename(shared)
    (checkout / linked).symlink_to(shared, target_is_directory=shared.is_dir())
    for template in ("select", "dbt"):
        want = render_build(segc.load_project(plain), template)[0]
        got = render_build(segc.load_project(checkout), template)[0]
        assert got == want, template
        assert json.loads(got["manifest.json"])["segments"]["loyal_big_basket"]["file"] == "segments/rfm.seg"
        assert str(tmp_path).encode() not in b"".join(got.values())
    assert files.project_path(checkout / "segments" / "rfm.seg", checkout) == "segments/rfm.seg"


def test_file_names_are_sanitized():
    assert build_mod._file_stems(["a_b", "x-y"]) == {"a_b": "a_b", "x-y": "x-y"}
    assert build_mod._file_stems(["../etc/passwd"]) == {"../etc/passwd": "___etc_passwd"}
    with pytest.raises(segc.SegcError) as e:
        build_mod._file_stems(["Loyal", "loyal"])  # one file on case-insensitive systems
    assert e.value.diagnostics[0].code == "E825"


# ---- what the SQL does ---------------------------------------------------------------

def _check_counts(con, project, counts, relation_of):
    segments, segmentations = _definitions(project)
    for name in segments:
        (n,) = con.execute(f"SELECT COUNT(*) FROM {relation_of(name)}").fetchone()
        assert n == counts[name], name
    for name in segmentations:
        rows = dict(con.execute(f'SELECT "segment", COUNT(*) FROM {relation_of(name)} GROUP BY 1').fetchall())
        for branch, _pred in project.checked.segmentations[name].branches:
            assert rows.get(branch, 0) == counts[f"{name}.{branch}"], f"{name}.{branch}"


def test_select_files_count_like_segc_count(project, counts, tmp_path):
    build(project, "select", tmp_path / "out", dialect="duckdb")
    con = project.duckdb()
    segments, segmentations = _definitions(project)
    for name in segments:
        sql = (tmp_path / "out" / f"{name}.sql").read_text()
        (n,) = con.execute(f"SELECT COUNT(*) FROM ({_statement(sql)})").fetchone()
        assert n == counts[name], name
        con.execute(sql).fetchall()  # the file as it is (comments, semicolon) runs too
    for name in segmentations:
        sql = _statement((tmp_path / "out" / f"{name}.sql").read_text())
        rows = dict(con.execute(f'SELECT "segment", COUNT(*) FROM ({sql}) GROUP BY 1').fetchall())
        for branch, _pred in project.checked.segmentations[name].branches:
            assert rows.get(branch, 0) == counts[f"{name}.{branch}"]


@pytest.mark.parametrize("template", ["view", "table"])
def test_view_and_table_files_run_on_duckdb(project, counts, template, tmp_path):
    build(project, template, tmp_path / "out", dialect="duckdb", schema="segments")
    con = duckdb.connect(":memory:")
    for src in project.schema.sources.values():  # the warehouse: shop.customers, ...
        con.execute('CREATE SCHEMA IF NOT EXISTS "shop"')
        con.execute(f'CREATE TABLE "shop"."{src.table.split(".")[1]}" AS SELECT * FROM '
                    f"read_parquet('{EXAMPLE / src.path}')")
    con.execute('CREATE SCHEMA "segments"')
    for f in sorted((tmp_path / "out").glob("*.sql")):
        con.execute(f.read_text())
        con.execute(f.read_text())  # re-running replaces
    _check_counts(con, project, counts, lambda n: f'"segments"."{n}"')


def test_members_files_run_on_duckdb(project, counts, tmp_path):
    build(project, "members", tmp_path / "out", dialect="duckdb")
    con = project.duckdb()
    key = project.schema.key
    con.execute(f'CREATE TEMP TABLE segc_members ("{key}" BIGINT, "segment" VARCHAR)')
    for f in sorted((tmp_path / "out").glob("*.sql")):
        con.execute(f'INSERT INTO segc_members ("{key}", "segment") {_statement(f.read_text())}')
    got = dict(con.execute('SELECT "segment", COUNT(*) FROM segc_members GROUP BY 1').fetchall())
    con.execute("DROP TABLE segc_members")
    for name, n in counts.items():
        assert got.get(name, 0) == n, name


@pytest.mark.parametrize("template", ["select", "view", "table", "members"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_parses_back(project, template, dialect):
    # the statements around the query are under test here (the queries have their own
    # golden tests): a segment, a ranking, segmentations with and without `else`
    names = ["at_risk", "big_spenders_fr_be", "quadrant", "value_tier"]
    files, _manifest = render_build(project, template, dialect, schema="analytics", names=names)
    for rel, data in files.items():
        if rel.endswith(".sql"):
            statements = [s for s in sqlglot.parse(data.decode(), read=dialect) if s is not None]
            assert statements, rel


def test_view_name_is_quoted_by_sqlglot(project):
    files, _ = render_build(project, "view", "tsql", schema="segments")  # a database: E826 (below)
    assert "CREATE OR ALTER VIEW [segments].[at_risk] AS" in files["at_risk.sql"].decode()
    files, _ = render_build(project, "view", "bigquery", schema="segments")
    assert "CREATE OR REPLACE VIEW `segments`.`at_risk` AS" in files["at_risk.sql"].decode()
    files, _ = render_build(project, "table", "tsql")
    text = files["at_risk.sql"].decode()
    assert "DROP TABLE IF EXISTS [at_risk];" in text and "INTO [at_risk]" in text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_statement_names_the_same_relation(project, dialect):
    """T-SQL's DROP named `[a.b.c].[d].[x]` and its SELECT ... INTO `[c].[d].[x]` for
    --schema a.b.c.d (attack11 B1): one tree names the table in every statement."""
    for schema in ("crm", "warehouse.crm")[:DIALECT_TABLE[dialect].schema_parts]:
        files, _ = render_build(project, "table", dialect, schema=schema, names=["at_risk"])
        named = set()
        for statement in sqlglot.parse(files["at_risk.sql"].decode(), read=dialect):
            if statement is None:
                continue
            target = statement.args.get("into").this if statement.args.get("into") else statement.this
            if isinstance(target, sqlglot.exp.Schema):
                target = target.this
            if isinstance(target, sqlglot.exp.Table):
                named.add(target.sql(dialect=dialect))
        assert len(named) == 1 and "at_risk" in named.pop(), (dialect, schema, named)


@pytest.mark.parametrize("schema, dialect", [("a.b.c.d", "tsql"), ("a.b.c", "duckdb"), ("a..b", "tsql"),
                                             (".", "duckdb"), ("a.", "postgres"), ("a. .b", "snowflake"),
                                             ("a.b", "sqlite"), ("a.b", "mysql")])
def test_a_schema_with_too_many_or_empty_parts_is_refused(project, schema, dialect):
    with pytest.raises(segc.SegcError) as e:
        render_build(project, "table", dialect, schema=schema, names=["at_risk"])
    (d,) = e.value.diagnostics
    assert d.code == "E826" and f"`{schema}`" in d.message and d.hints


def _statements(text: str) -> list:
    return [s for s in sqlglot.parse(text, read="tsql") if s is not None]


def test_tsql_views_name_no_database_and_tables_may(project, tmp_path):
    """SQL Server's `CREATE [OR ALTER] VIEW [schema_name .] view_name` takes no database:
    `-t view --schema db.sch` wrote `CREATE OR ALTER VIEW [db].[sch].[v]`, which it refuses.
    A schema alone is written as is; a database part is E826 (naming --schema, with a hint),
    nothing written; a table (DROP TABLE, SELECT ... INTO) may name the database."""
    files, _m = render_build(project, "view", "tsql", schema="sch", names=["at_risk"])
    text = files["at_risk.sql"].decode()
    assert "CREATE OR ALTER VIEW [sch].[at_risk] AS" in text
    (create,) = _statements(text)
    assert isinstance(create, sqlglot.exp.Create) and create.kind == "VIEW"
    assert (create.this.catalog, create.this.db, create.this.name) == ("", "sch", "at_risk")
    for schema in ("db.sch", "[db].sch"):
        with pytest.raises(segc.SegcError) as e:
            render_build(project, "view", "tsql", schema=schema, names=["at_risk"])
        (d,) = e.value.diagnostics
        assert d.code == "E826" and f"--schema `{schema}`" in d.message and "CREATE VIEW" in d.message
        assert "--schema sch" in d.hints[0] and "`-t table`" in d.hints[0]
    out = tmp_path / "views"
    result = CliRunner().invoke(app, ["build", "-p", str(EXAMPLE), "--dialect", "tsql", "-t", "view", "--schema",
                                      "db.sch", "--out", str(out), "at_risk"])
    assert result.exit_code == 1 and "error[E826]" in result.output and "Traceback" not in result.output
    assert not out.exists()
    files, _m = render_build(project, "table", "tsql", schema="db.sch", names=["at_risk"])
    drop, into = _statements(files["at_risk.sql"].decode())
    (dropped,) = drop.args["tables"]
    assert isinstance(drop, sqlglot.exp.Drop) and (dropped.catalog, dropped.db, dropped.name) == ("db", "sch", "at_risk")
    target = into.args["into"].this
    assert (target.catalog, target.db, target.name) == ("db", "sch", "at_risk")
    # other dialects name a view with the database as before
    files, _m = render_build(project, "view", "snowflake", schema="db.sch", names=["at_risk"])
    assert 'CREATE OR REPLACE VIEW "db"."sch"."at_risk" AS' in files["at_risk.sql"].decode()


def test_dbt_models_render_to_the_compiled_sql(project):
    """After dbt's jinja (source() -> the table name), each model is exactly segc's SQL."""
    import jinja2

    files, _ = render_build(project, "dbt", "duckdb")
    tables = {s.name: s.table for s in project.schema.sources.values()}
    env = jinja2.Environment()
    source = lambda _group, name: ".".join(f'"{p}"' for p in tables[name].split("."))  # noqa: E731
    segments, segmentations = _definitions(project)
    for name in segments + segmentations:
        text = files[f"models/segments/{name}.sql"].decode()
        assert text.startswith("{{ config(materialized='view') }}\n")
        assert "{{ source(\"retail\", \"customers\") }}" in text
        rendered = env.from_string(text).render(source=source, config=lambda **kw: "")
        assert _statement(rendered) == project.compile(name, dialect="duckdb")


def test_dbt_escapes_jinja_in_literals_and_docs(example):
    (example / "segments" / "zz.seg").write_text(
        '## Docs with {{ braces }} and {% tags %}.\n'
        'segment jinja_trap = city = "{{ evil }}" or city = "{% raw %}" or city = "segc_dbt_source_0_0"\n')
    p = segc.load_project(example)
    files, _ = render_build(p, "dbt", "duckdb", names=["jinja_trap"])
    import jinja2
    import yaml

    env = jinja2.Environment()
    text = files["models/segments/jinja_trap.sql"].decode()
    rendered = env.from_string(text).render(source=lambda g, n: f'"shop"."{n}"', config=lambda **kw: "")
    assert _statement(rendered) == p.compile("jinja_trap", dialect="duckdb")
    schema_yml = env.from_string(files["models/segments/schema.yml"].decode()).render()
    assert yaml.safe_load(schema_yml)["models"][0]["description"] == "Docs with {{ braces }} and {% tags %}."
    assert dbt_escape("no braces") == "no braces"


@pytest.mark.parametrize("column", ["segc_dbt_source_0_7", "segc_dbt_source_0_0", "SEGC_DBT_SOURCE_1_0"])
def test_dbt_placeholders_never_take_a_column_named_like_them(example, column):
    """A column named like the placeholder of a source table was taken for one: a
    traceback (IndexError, attack11 B7) or a column replaced by a source() call."""
    import jinja2

    text = (example / "segc.yml").read_text(encoding="utf-8")
    (example / "segc.yml").write_text(text.replace(
        "params:\n", f"  marker_a:\n    type: int\n    column: {column}\nparams:\n", 1), encoding="utf-8")
    (example / "segments" / "zz.seg").write_text("segment mk_a = marker_a > 1 and purchases_365d > 2\n")
    p = segc.load_project(example)
    files, _ = render_build(p, "dbt", "duckdb", names=["mk_a"])
    text = files["models/segments/mk_a.sql"].decode()
    assert f'"{column}"' in text
    rendered = jinja2.Environment().from_string(text).render(source=lambda g, n: f'"shop"."{n}"',
                                                            config=lambda **kw: "")
    assert _statement(rendered) == p.compile("mk_a", dialect="duckdb")


def _dbt_locations(files) -> dict[str, str]:
    """Each table of sources.yml -> `db.schema.identifier` as dbt reads it."""
    import yaml

    found = {}
    for group in yaml.safe_load(files["models/segments/sources.yml"])["sources"]:
        for tbl in group["tables"]:
            found[(group["name"], tbl["name"])] = ".".join(
                p for p in (group.get("database"), group["schema"], tbl["identifier"]) if p)
    return found


def test_dbt_sources_in_locations_named_alike_stay_apart(example):
    """`shop_eu.orders` and `shop.eu.carts` were one dbt source `retail_shop_eu`: orders was
    then read from `shop.eu.orders` (attack11 B6)."""
    text = (example / "segc.yml").read_text(encoding="utf-8")
    text = text.replace("    table: shop.orders", "    table: shop_eu.orders").replace(
        "    table: shop.carts", "    table: shop.eu.carts")
    (example / "segc.yml").write_text(text, encoding="utf-8")
    p = segc.load_project(example)
    files, _ = render_build(p, "dbt", "duckdb")
    where = _dbt_locations(files)
    tables = {n: s.table for n, s in p.schema.sources.items()}
    assert sorted(t for _g, t in where) == sorted(tables)
    for (_group, name), location in where.items():
        assert location == tables[name]
    for path, content in files.items():
        for group, name in re.findall(r'source\("([^"]+)", "([^"]+)"\)', content.decode()):
            assert where[(group, name)] == tables[name], (path, group, name)


def test_dbt_source_names_are_refused_when_they_cannot_be_told_apart(example):
    """A location literally named like the suffixed name of two others: E825 naming both."""
    text = (example / "segc.yml").read_text(encoding="utf-8")
    text = text.replace("    table: shop.orders", "    table: shop_eu.orders").replace(
        "    table: shop.carts", "    table: shop.eu.carts")
    (example / "segc.yml").write_text(text, encoding="utf-8")
    files, _ = render_build(segc.load_project(example), "dbt", "duckdb")
    suffixed = sorted(g for g, _t in _dbt_locations(files) if g.startswith("retail_shop_eu_"))[0]
    (example / "segc.yml").write_text(text.replace("    table: shop.customers", f"    table: "
                                                   f"{suffixed.removeprefix('retail_')}.customers"), encoding="utf-8")
    with pytest.raises(segc.SegcError) as e:
        render_build(segc.load_project(example), "dbt", "duckdb")
    (d,) = e.value.diagnostics
    assert d.code == "E825" and "one dbt source" in d.message and d.hints and d.span is not None


HOSTILE_YAML = "a\x85b \x9b[2J \x80 \x7f \ufffe \ufeff \u2028 \u2029 é\u00a0 \U0001F600 \\ \" ' # : - end"


def test_dbt_yaml_reads_back_every_character_as_written(example):
    """C1 controls, U+FFFE, U+2028... in a `##` doc, an @owner or a segc.yml description
    were written raw: YAML (and dbt) refused schema.yml, or read U+0085 as a line break
    (attack11 B2). Each YAML loader reads back exactly the text written."""
    import yaml

    assert yaml.safe_load("k: " + build_mod.yaml_scalar(HOSTILE_YAML))["k"] == HOSTILE_YAML
    text = (example / "segc.yml").read_text(encoding="utf-8")
    (example / "segc.yml").write_text(text.replace(
        "params:\n", f"  hostile_f:\n    type: int\n    column: hostile_c\n    description: {json.dumps(HOSTILE_YAML)}\n"
        "params:\n", 1), encoding="utf-8")
    (example / "segments" / "zz.seg").write_text(
        f"## Doc {HOSTILE_YAML}\n## second line\n@owner({json.dumps(HOSTILE_YAML)})\n"
        "segment hostile_doc = hostile_f > 3\n", encoding="utf-8")
    p = segc.load_project(example)
    files, manifest = render_build(p, "dbt", "duckdb", names=["hostile_doc"])
    described = p.schema.features["hostile_f"].description  # as PyYAML read it: the emoji's escape as two halves
    assert "\ud83d\ude00" in described
    described = described.replace("\ud83d\ude00", "\U0001F600")  # written as the one character they spell
    assert described.startswith("a\x85b \x9b[2J")
    written = manifest["segments"]["hostile_doc"]
    loaders = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])
    for loader in loaders:
        (model,) = yaml.load(files["models/segments/schema.yml"].decode(), Loader=loader)["models"]
        assert model["description"] == written["doc"] and HOSTILE_YAML in written["doc"]
        assert model["config"]["meta"]["owner"] == written["owner"] == HOSTILE_YAML
        sources = yaml.load(files["models/segments/sources.yml"].decode(), Loader=loader)["sources"]
        columns = {c["name"]: c["description"] for s in sources for tbl in s["tables"] for c in tbl.get("columns", [])}
        assert columns["hostile_c"] == described


def test_dbt_sources_yml(project):
    import yaml

    files, _ = render_build(project, "dbt", "duckdb")
    sources = yaml.safe_load(files["models/segments/sources.yml"])
    assert sources["version"] == 2
    (group,) = sources["sources"]
    assert group["name"] == "retail" and group["schema"] == "shop"
    assert [t["name"] for t in group["tables"]] == ["carts", "customers", "orders"]
    customers = next(t for t in group["tables"] if t["name"] == "customers")
    described = {c["name"]: c["description"] for c in customers["columns"]}
    assert described["City Name"].startswith("City of the postal address")
    models = yaml.safe_load(files["models/segments/schema.yml"])["models"]
    loyal = next(m for m in models if m["name"] == "loyal_big_basket")
    assert loyal["description"].startswith("Loyal customers with a big basket")
    assert loyal["config"]["tags"] == ["segc", "rfm", "loyalty"]
    assert loyal["config"]["meta"]["owner"] == "crm"
    assert [c["name"] for c in loyal["columns"]] == ["customer_id"]
    quadrant = next(m for m in models if m["name"] == "quadrant")
    assert [c["name"] for c in quadrant["columns"]] == ["customer_id", "segment"]


# ---- templates -----------------------------------------------------------------------

def test_project_templates_override_by_file_name(example, tmp_path):
    (example / "templates").mkdir()
    (example / "templates" / "view.sql.j2").write_text(
        "-- house style for {{ name }}\nCREATE VIEW {{ relation_of(name, 'mart') }} AS\n{{ sql }};\n")
    p = segc.load_project(example)
    build(p, "view", tmp_path / "views")
    text = (tmp_path / "views" / "at_risk.sql").read_text()
    assert text.startswith('-- house style for at_risk\nCREATE VIEW "mart"."at_risk" AS\nWITH ')
    # templates the project does not override still come from segc, with its partials...
    build(p, "table", tmp_path / "tables")
    assert "CREATE OR REPLACE TABLE" in (tmp_path / "tables" / "at_risk.sql").read_text()
    # ...and a project partial is used by segc's own templates
    (example / "templates" / "_header.sql.j2").write_text("-- (c) the shop: {{ name }}\n")
    build(segc.load_project(example), "table", tmp_path / "tables")
    assert (tmp_path / "tables" / "at_risk.sql").read_text().startswith("-- (c) the shop: at_risk\nCREATE OR")


@pytest.mark.parametrize("body, message", [
    ("{% if %}", "line 1"),                       # syntax error
    ("{{ not_a_variable }}", "not_a_variable"),    # undefined (StrictUndefined)
    ("{{ name.__class__.__mro__ }}", "unsafe"),    # the sandbox
])
def test_template_errors_are_diagnostics(example, tmp_path, body, message):
    (example / "templates").mkdir()
    (example / "templates" / "select.sql.j2").write_text(body)
    p = segc.load_project(example)
    with pytest.raises(segc.SegcError) as e:
        build(p, "select", tmp_path / "out")
    d = e.value.diagnostics[0]
    assert d.code == "E823" and message in (d.message + d.location), d
    assert "select.sql.j2" in d.message + d.location
    assert not (tmp_path / "out").exists()


# ---- atomicity -----------------------------------------------------------------------

@pytest.fixture
def previous(example, tmp_path):
    """A project and a good previous build in tmp/out."""
    out = tmp_path / "out"
    # `holdout` (control groups) cannot be expressed on SQLite (E602): the build there
    # would fail before these tests make it fail on purpose
    (example / "segments" / "experiments.seg").unlink()
    config = yaml.safe_load((example / "segc.yml").read_text(encoding="utf-8"))
    config.pop("experiments")  # its arms were in experiments.seg
    (example / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    build(segc.load_project(example), "view", out, dialect="sqlite")
    return example, out, _tree(out)


def test_a_failing_segment_keeps_the_previous_output(previous):
    example, out, before = previous
    # months added to a column cannot be expressed on SQLite (E602): the last file fails
    (example / "segments" / "zz_last.seg").write_text("segment zz_bad = signup_date + 6 months < today\n")
    p = segc.load_project(example)
    with pytest.raises(segc.SegcError) as e:
        build(p, "view", out, dialect="sqlite")
    assert [d.code for d in e.value.diagnostics] == ["E602"]
    assert _tree(out) == before
    assert not _leftovers(out.parent)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failing_write_keeps_the_previous_output(previous, monkeypatch, error):
    example, out, before = previous
    written = []
    real = files._write_all  # every file of an output is written through it

    def flaky(f, data):
        if len(written) == 5:
            raise error
        written.append(f.name)
        return real(f, data)

    monkeypatch.setattr(files, "_write_all", flaky)
    p = segc.load_project(example)
    with pytest.raises((segc.SegcError, KeyboardInterrupt)) as e:
        build(p, "table", out, dialect="duckdb")
    if isinstance(error, OSError):
        assert e.value.diagnostics[0].code == "E824"
    assert len(written) == 5
    assert _tree(out) == before
    assert not _leftovers(out.parent)


def test_a_killed_build_is_swept_by_the_next(previous):
    """SIGKILL leaves the temporary folder behind; the next build into the same folder
    removes it, unless a running build holds its lock (files.py `_abandoned`)."""
    fcntl = pytest.importorskip("fcntl")
    example, out, _before = previous
    stale, busy = out.parent / ".out.segc-new.dead", out.parent / ".out.segc-new.busy"
    for folder in (stale, busy):
        (folder / "views").mkdir(parents=True)
    fd = os.open(busy, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as the build writing it holds it
        build(segc.load_project(example), "view", out, dialect="sqlite")
        assert _leftovers(out.parent) == [busy.name]
    finally:
        os.close(fd)


def test_a_failing_swap_restores_the_previous_output(previous, monkeypatch):
    example, out, before = previous
    real = os.rename
    calls = []

    def rename(src, dst):
        calls.append((Path(src).name, Path(dst).name))
        if len(calls) == 2:  # the new folder into place
            raise OSError(13, "Permission denied")
        real(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(segc.SegcError):
        build(segc.load_project(example), "table", out)
    assert _tree(out) == before
    assert not _leftovers(out.parent)


def test_a_successful_build_replaces_everything(previous):
    example, out, _before = previous
    (out / "stale.sql").write_text("-- from an older build\n")
    (example / "segments" / "audience.seg").unlink()
    build(segc.load_project(example), "select", out)
    assert not (out / "stale.sql").exists() and not (out / "young_urban_fr.sql").exists()
    assert (out / "at_risk.sql").exists()
    assert not _leftovers(out.parent)


def test_out_must_be_segc_output(example, tmp_path):
    p = segc.load_project(example)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    for out in (mine, example, example / "segments" / "..", tmp_path / "file"):
        if out.name == "file":
            out.write_text("x")
        with pytest.raises(segc.SegcError) as e:
            build(p, "select", out)
        # a file where the folder goes is in the way (E824); the others are not segc's (E822)
        assert e.value.diagnostics[0].code == ("E824" if out.name == "file" else "E822")
    assert (mine / "notes.txt").read_text() == "precious"
    empty = tmp_path / "empty"
    empty.mkdir()
    build(p, "select", empty)  # an empty folder is fine
    assert (empty / "manifest.json").is_file()


# ---- manifest ------------------------------------------------------------------------

def test_manifest(project, tmp_path):
    result = build(project, "view", tmp_path / "out", dialect="snowflake")
    m = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert m == result.manifest
    assert m["segc_version"] == segc.__version__
    assert m["project"] == "retail" and m["dialect"] == "snowflake" and m["template"] == "view"
    assert m["as_of"] == {"mode": "pinned", "date": "2024-07-01"}
    assert m["params"] == {"min_basket": 80.0}
    segments, segmentations = _definitions(project)
    assert sorted(m["segments"]) == sorted(segments + segmentations)
    loyal = m["segments"]["loyal_big_basket"]
    text = (EXAMPLE / "segments" / "rfm.seg").read_text()
    start = text.index("## Loyal customers with a big basket")
    end = text.index("\n", text.index("segment loyal_big_basket"))
    assert loyal == {
        "name": "loyal_big_basket", "kind": "segment", "file": "segments/rfm.seg",
        "doc": project.checked.segments["loyal_big_basket"].node.doc,
        "owner": "crm", "tags": ["rfm", "loyalty"], "min_size": 500,
        "hash": hashlib.sha256(text[start:end].encode()).hexdigest(),
        "features": ["basket_avg", "purchases_365d"], "sources": ["customers", "orders"],
        "sensitive": {}, "dialect": "snowflake", "as_of": {"mode": "pinned", "date": "2024-07-01"},
        "columns": ["customer_id"], "output": "loyal_big_basket.sql",
    }
    assert m["segments"]["shoe_fans"]["sources"] == ["customers", "orders"]  # inline count(orders ...)
    assert m["segments"]["engaged_30d"]["sources"] == ["carts", "customers", "orders"]
    assert m["segments"]["young_urban_fr"]["sources"] == ["customers"]
    tier = m["segments"]["value_tier"]
    assert tier["kind"] == "segmentation" and tier["branches"] == ["very_good", "good", "average", "occasional"]
    assert tier["columns"] == ["customer_id", "segment"] and tier["features"] == ["revenue_365d"]
    # keys sorted, no timestamps
    raw = (tmp_path / "out" / "manifest.json").read_text()
    assert raw == json.dumps(json.loads(raw), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert not re.search(r"\d{2}:\d{2}:\d{2}", raw)


def test_manifest_rolling_params_sensitive_and_hash(example, tmp_path):
    (example / "segments" / "zz.seg").write_text(
        '## Uses a sensitive feature, with a reason.\n'
        '@allow_sensitive("legal basis: explicit consent, art. 9(2)(a)")\n'
        'segment zz_faith = religion = "none"\n')
    p = segc.load_project(example, as_of="today", params={"min_basket": "100"})
    m = build(p, "select", tmp_path / "a").manifest
    assert m["as_of"] == {"mode": "rolling"} and m["params"] == {"min_basket": 100.0}
    assert m["segments"]["at_risk"]["as_of"] == {"mode": "rolling"}
    assert m["segments"]["zz_faith"]["sensitive"] == {"religion": "legal basis: explicit consent, art. 9(2)(a)"}
    assert "100.0" in (tmp_path / "a" / "loyal_big_basket.sql").read_text()
    # the hash follows the definition's text, not its position in the file
    before = m["segments"]["zz_faith"]["hash"]
    (example / "segments" / "zz.seg").write_text("\n\n" + (example / "segments" / "zz.seg").read_text())
    assert build(segc.load_project(example), "select", tmp_path / "b").manifest["segments"]["zz_faith"]["hash"] == before
    (example / "segments" / "zz.seg").write_text((example / "segments" / "zz.seg").read_text().replace('"none"', '"other"'))
    assert build(segc.load_project(example), "select", tmp_path / "c").manifest["segments"]["zz_faith"]["hash"] != before


def test_build_selected_names(project, tmp_path):
    result = build(project, "select", tmp_path / "out", names=["quadrant", "at_risk"])
    assert sorted(result.files) == ["at_risk.sql", "manifest.json", "quadrant.sql"]
    with pytest.raises(segc.SegcError) as e:
        build(project, "select", tmp_path / "out", names=["quadrant.frequent_big"])
    # a known name of a kind build cannot take: E011 (as every command), naming the whole
    assert e.value.diagnostics[0].code == "E011"
    assert e.value.diagnostics[0].hints == ("give `quadrant`",)


# ---- command line --------------------------------------------------------------------

def test_cli_build(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["build", "-p", str(EXAMPLE), "--dialect", "postgres", "--template", "view",
                                      "--out", str(out), "--schema", "segments"])
    assert result.exit_code == 0, result.output
    assert 'CREATE OR REPLACE VIEW "segments"."at_risk" AS' in (out / "at_risk.sql").read_text()
    assert json.loads((out / "manifest.json").read_text())["dialect"] == "postgres"
    result = CliRunner().invoke(app, ["build", str(EXAMPLE), "quadrant", "--out", str(out), "--as-of", "today",
                                      "--param", "min_basket=90"])
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(out)) == ["manifest.json", "quadrant.sql"]
    assert "90.0" in (out / "quadrant.sql").read_text() and "CURRENT_DATE" in (out / "quadrant.sql").read_text()


def test_cli_build_pinned_by_segc_yml_unless_as_of_today(tmp_path):
    """The README's promise: `as_of:` in segc.yml is pinned in the built SQL; `--as-of
    today` makes it rolling."""
    pinned, rolling = tmp_path / "pinned", tmp_path / "rolling"
    for out, extra in ((pinned, []), (rolling, ["--as-of", "today"])):
        result = CliRunner().invoke(app, ["build", "-p", str(EXAMPLE), "inactive_6m", "--dialect", "snowflake",
                                          "--template", "view", "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
    sql = (pinned / "inactive_6m.sql").read_text()
    assert "2024-07-01" in sql and "CURRENT_DATE" not in sql
    assert json.loads((pinned / "manifest.json").read_text())["as_of"] == {"mode": "pinned", "date": "2024-07-01"}
    sql = (rolling / "inactive_6m.sql").read_text()
    assert "CURRENT_DATE" in sql and "2024-07-01" not in sql
    assert json.loads((rolling / "manifest.json").read_text())["as_of"] == {"mode": "rolling"}


@pytest.mark.parametrize("args, code", [
    (["--template", "viewz"], "E821"),
    (["--dialect", "snowflak"], "E601"),
    (["--out", "FILE"], "E824"),  # a file in the way of the output folder
    (["nope"], "E212"),
])
def test_cli_build_errors(tmp_path, args, code):
    (tmp_path / "FILE").write_text("x")
    args = [str(tmp_path / "FILE") if a == "FILE" else a for a in args]
    if "--out" not in args:
        args += ["--out", str(tmp_path / "out")]
    result = CliRunner().invoke(app, ["build", "-p", str(EXAMPLE), *args])
    assert result.exit_code == 1, result.output
    assert f"error[{code}]" in result.output
    assert "Traceback" not in result.output


def test_readme_build_examples_run(tmp_path):
    """Every `segc build` line of the README's "Shipping segments" section works."""
    import shlex

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Shipping segments"):]
    lines = [ln[2:].split("#")[0] for ln in section.splitlines() if ln.startswith("$ segc build")]
    assert len(lines) >= 5
    for i, line in enumerate(lines):
        args = shlex.split(line)[1:]
        args = [str(EXAMPLE) if a == "examples/retail" else a for a in args]
        args[args.index("--out") + 1] = str(tmp_path / f"out{i}")
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (line, result.output)
        assert (tmp_path / f"out{i}" / "manifest.json").is_file()
