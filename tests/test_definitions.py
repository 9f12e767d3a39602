"""What a .seg file holds besides expressions, and how a segment's text reaches the SQL:
`##` docs attach to the next definition, `#` comments are dropped, annotations are kept,
a file holding only an expression is one segment named after the file, `--param`
overrides a default, a missing value in a list is E305 (whether written `null` or
`missing`), only nullable operands get a NULL guard under `not`, only the features a
segment uses are computed, and a file that is not UTF-8 is reported at its bad byte.
"""
from __future__ import annotations

import json

import pytest
import sqlglot
from sqlglot import exp
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import write_project

CONFIG = {
    "name": "defs",
    "base": "customers",
    "key": "customer_id",
    "sources": {"customers": {"table": "customers"}},
    "features": {
        "age": {"type": "int"},
        "country": {"type": "string", "values": ["FR", "BE"], "nullable": False},
        "vip": {"type": "bool"},
    },
    "params": {"min_age": {"type": "int", "default": 18}},
}

SEGMENTS = """\
# a comment about the file, not a doc
## Adults by the legal age.
## Second doc line.
@owner("crm") @tags(age, "legal") @min_size(5)
segment adults = age >= $min_age  # a trailing comment

# a plain comment: `fr` has no doc
segment fr = country = "FR"
"""


@pytest.fixture
def project_dir(tmp_path):
    root = write_project(tmp_path / "p", CONFIG, SEGMENTS)
    (root / "segments" / "vip_adults.seg").write_text("## VIPs of age.\nvip and adults\n", encoding="utf-8")
    return root


def test_docs_comments_and_annotations_are_kept(project_dir):
    project = segc.load_project(project_dir)
    adults = project.checked.segments["adults"].node
    assert adults.doc == "Adults by the legal age.\nSecond doc line."
    annotations = {a.name: a.args for a in adults.annotations}
    assert annotations == {"owner": ("crm",), "tags": ("age", "legal"), "min_size": (5,)}
    assert project.min_size("adults") == 5
    assert project.checked.segments["fr"].node.doc == ""  # `#` lines are not docs


def test_a_bare_expression_file_is_a_segment_named_after_it(project_dir):
    project = segc.load_project(project_dir)
    assert set(project.segment_names) >= {"adults", "fr", "vip_adults"}
    assert project.checked.segments["vip_adults"].node.doc == "VIPs of age."
    sql = project.compile("vip_adults", dialect="postgres")
    where = sqlglot.parse_one(sql, read="postgres").args["where"].sql("postgres")
    assert '"vip"' in where and '"age" >= 18' in where  # the reference to `adults` is inlined


@pytest.mark.parametrize("stem", ["and", "today", "my-seg", "a.b", "x y", "ü", "1st"])
def test_a_bare_file_whose_name_no_expression_can_write_is_e005(project_dir, tmp_path, stem):
    import shutil

    root = tmp_path / "bare_name"
    shutil.copytree(project_dir, root)
    (root / "segments" / f"{stem}.seg").write_text("age > 3\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(root)])
    assert result.exit_code == 1 and "E005" in result.output and f"{stem}.seg:1:1" in result.output, result.output


def _min_age_literal(sql: str) -> int:
    tree = sqlglot.parse_one(sql, read="duckdb")
    [ge] = [n for n in tree.find_all(exp.GTE) if n.this.name == "age"]
    return int(ge.expression.name)


def test_param_default_and_cli_override(project_dir):
    runner = CliRunner()
    default = runner.invoke(app, ["compile", "adults", "-p", str(project_dir)])
    assert default.exit_code == 0, default.output
    assert _min_age_literal(default.stdout) == 18
    for value in ("21", "65"):
        result = runner.invoke(app, ["compile", "adults", "-p", str(project_dir), "--param", f"min_age={value}"])
        assert result.exit_code == 0, result.output
        assert _min_age_literal(result.stdout) == int(value)
    # the override reaches segments that use the parameter through a reference, too
    result = runner.invoke(app, ["compile", "vip_adults", "-p", str(project_dir), "--param", "min_age=40"])
    assert _min_age_literal(result.stdout) == 40


@pytest.mark.parametrize("text, col", [
    ("segment a = age in [18, missing]\n", 25),
    ("segment a = age not in [missing]\n", 25),
    ("segment a = age in [18, null]\n", 25),
])
def test_missing_in_a_list_is_e305(tmp_path, text, col):
    root = write_project(tmp_path / "p", CONFIG, text + "segment b = agee > 1\n")
    with pytest.raises(segc.SegcError) as info:
        segc.load_project(root)
    first, second = info.value.diagnostics
    assert (first.code, first.message) == ("E305", "a list cannot hold a missing value")
    assert first.span.file.endswith("main.seg") and (first.span.line, first.span.col) == (1, col)
    assert "`age is missing`" in first.hints[0]
    assert second.code == "E201"  # the next definition is still checked


def _guarded(sql: str, dialect: str) -> set[str]:
    """Names of the columns that the WHERE clause tests with IS NULL."""
    where = sqlglot.parse_one(sql, read=dialect).args["where"]
    return {n.this.name for n in where.find_all(exp.Is) if isinstance(n.expression, exp.Null)}


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "tsql"])
def test_only_nullable_operands_are_guarded(tmp_path, dialect):
    project = segc.load_project(write_project(tmp_path / "p", CONFIG, SEGMENTS))
    sql = project.compile_expression('not (country = "FR" and age > 3 and vip)', dialect=dialect)
    assert _guarded(sql, dialect) == {"age", "vip"}
    sql = project.compile_expression('not (country = "FR")', dialect=dialect)
    assert _guarded(sql, dialect) == set()


def test_parser_is_built_once_per_process(tmp_path, monkeypatch):
    from segc.front import parser

    first = parser.get_parser()
    built = []
    monkeypatch.setattr(parser.Parser, "__init__", lambda self: built.append(self))
    segc.load_project(write_project(tmp_path / "p", CONFIG, SEGMENTS)).compile_expression("vip")
    assert parser.get_parser() is first and built == []


def _computed(sql: str, dialect: str) -> set[str]:
    """The columns every CTE of the query computes (its select-list aliases)."""
    tree = sqlglot.parse_one(sql, read=dialect)
    return {item.alias for cte in tree.find_all(exp.CTE) for item in cte.this.expressions}


@pytest.mark.parametrize("dialect", ["duckdb", "snowflake"])
def test_only_the_features_used_are_computed(tmp_path, dialect):
    config = {**CONFIG, "sources": {**CONFIG["sources"], "orders": {
        "table": "orders", "key": "customer_id", "time": "at", "columns": {"amount": "float"}}},
        "features": {**CONFIG["features"],
                     "spend": {"type": "float", "from": "orders", "agg": "sum", "column": "amount"},
                     "orders_n": {"type": "int", "from": "orders", "agg": "count"},
                     "double_age": {"type": "int", "sql": "age * 2"}}}
    project = segc.load_project(write_project(tmp_path / "p", config, SEGMENTS))
    key = {"segc_key"}
    assert _computed(project.compile_expression("age > 3", dialect=dialect), dialect) == key | {"age"}
    assert _computed(project.compile_expression("fr and vip", dialect=dialect), dialect) == key | {"country", "vip"}
    assert _computed(project.compile_expression("spend > 10", dialect=dialect), dialect) == key | {"spend"}
    assert _computed(project.compile_expression("double_age > 40 or orders_n = 0", dialect=dialect),
                     dialect) == key | {"double_age", "orders_n"}


def test_a_file_that_is_not_utf8_is_located(tmp_path):
    """Latin-1 bytes in a .seg file (an editor's old default): E007 at the line and column
    of the first bad byte, after a CRLF line; the other files are still checked."""
    root = write_project(tmp_path / "p", CONFIG, "segment b = agee > 1\n")
    (root / "segments" / "latin1.seg").write_bytes(b'segment a = age > 1\r\nsegment c = vip and age > "caf\xe9"\n')
    result = CliRunner().invoke(app, ["check", str(root), "--format", "json"])
    assert result.exit_code == 1, result.output
    found = {(d["code"], d["file"].rsplit("/", 1)[-1], d.get("line"), d.get("col"))
             for d in json.loads(result.stdout)["diagnostics"]}
    assert found == {("E007", "latin1.seg", 2, 31), ("E201", "main.seg", 1, 13)}


def test_an_allowance_that_allows_nothing_is_w502(tmp_path):
    """A stale @allow_sensitive would silently cover a later edit that reads religion."""
    import shutil

    from tests.conftest import EXAMPLE

    root = tmp_path / "stale"
    shutil.copytree(EXAMPLE, root)
    (root / "segments" / "w.seg").write_text('@allow_sensitive("consent")\nsegment e = age > 1\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(root), "--format", "json"])
    assert result.exit_code == 0, result.output
    [w] = [d for d in json.loads(result.stdout)["diagnostics"] if d["code"] == "W502"]
    assert w["file"].endswith("w.seg") and (w["line"], w["col"]) == (1, 1)
    assert [d["code"] for d in json.loads(CliRunner().invoke(app, ["check", str(EXAMPLE), "--format", "json"])
                                         .stdout)["diagnostics"]].count("W502") == 0
