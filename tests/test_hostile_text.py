"""Text that acts where it is shown: terminal escape sequences and Rich markup in .seg
files, file names and warehouse values; line breaks in names written into `--` comments
of generated SQL; formulas in CSV cells. Each route that shows such text is walked: the
diagnostics, `segc diff`, `segc fmt --check`, every table of the previews and the report,
`segc build`'s headers (every template), every `--format csv`."""
from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from segc.apps.outputs import csv_text
from segc.cli.main import app
from segc.front.printable import has_control, one_line, visible
from tests.conftest import EXAMPLE, drop_experiments

runner = CliRunner()

ESC = "\x1b]0;pwned\x07\x1b[8m"  # set the window's title; conceal what follows
MARKUP = "[bold red]x[/]"  # Rich would style it and drop the brackets


def cli(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def shown_safely(output: str) -> None:
    """No control character reached the output (CliRunner is no terminal: Rich adds no
    style of its own, so any ESC or BEL came from the user's text)."""
    assert "\x1b" not in output and "\x07" not in output, output[-3000:]


def test_printable_functions():
    assert visible("a\x1b[31mb\tc\nd\u202ee") == "a\\x1b[31mb\tc\nd\\u202ee"
    assert one_line("a\nb\rc\td\u2028") == "a\\x0ab\\x0dc\\x09d\\u2028"
    assert has_control("x\u0085") and not has_control("é ü 東京")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The example with a city holding an escape sequence and another holding Rich markup
    (each shared by many customers, so that a profile may show it), and a .seg file whose
    doc and string literal hold escape sequences."""
    root = tmp_path_factory.mktemp("hostile") / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    drop_experiments(root)
    data = root / "data" / "customers.parquet"
    con = duckdb.connect()
    con.execute(f"""copy (select * replace (case when customer_id % 3 = 0 then ? when customer_id % 3 = 1
                    then ? else "City Name" end as "City Name") from '{data}')
                    to '{root / "data" / "c2.parquet"}' (format parquet)""", [ESC, MARKUP])
    con.close()
    (root / "data" / "c2.parquet").replace(data)
    (root / "segments" / "hostile.seg").write_text(
        f"## A doc line with {ESC} in it.\nsegment hostile = city = \"{ESC}\" or city = \"{MARKUP}\"\n",
        encoding="utf-8")
    return root


def test_diagnostics_show_control_characters_escaped(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    drop_experiments(root)
    (root / "segments" / "bad.seg").write_text(f'segment zz = city = "{ESC}" and \x1b[31m\n', encoding="utf-8")
    for fmt in ("text", "github"):
        result = cli("check", root, "--format", fmt)
        assert result.exit_code == 1 and "E101" in result.output
        shown_safely(result.output)
    text = cli("check", root).output
    assert "\\x1b]0;pwned\\x07" in text  # the literal, escaped, in the excerpt
    # the caret stays under the character it points at, counted in the escaped line
    lines = text.splitlines()
    excerpt = next(i for i, line in enumerate(lines) if line.startswith("1 | "))
    caret = lines[excerpt + 1].index("^")
    assert lines[excerpt][caret:caret + 4] == "\\x1b", lines[excerpt:excerpt + 2]


def test_diff_and_fmt_show_source_text_escaped(hostile, tmp_path):
    new = tmp_path / "new"
    shutil.copytree(hostile, new)
    seg = new / "segments" / "hostile.seg"
    seg.write_text(seg.read_text(encoding="utf-8").replace("## A doc", f"## {ESC}Another doc"), encoding="utf-8")
    result = cli("diff", hostile, new)
    assert result.exit_code == 0, result.output[-2000:]
    assert "hostile" in result.output
    shown_safely(result.output)
    seg.write_text(f"## {ESC}\nsegment   hostile =   age>3\n", encoding="utf-8")
    result = cli("fmt", "--check", seg)
    assert result.exit_code == 1 and "segment hostile = age > 3" in result.output
    shown_safely(result.output)


@pytest.mark.parametrize("args", [
    ["profile", "hostile"], ["profile", "-e", "age > 30"], ["sample", "hostile"], ["count", "hostile"],
    ["overlap", "hostile", "young_urban_fr"], ["report", "hostile", "--by", "city"],
    ["count", "-e", f'city = "{MARKUP}"'],
], ids=lambda a: "-".join(a[:2]))
def test_tables_show_data_values_as_they_are(hostile, args):
    result = cli(*args, "-p", hostile, "--as-of", "2024-07-01")
    assert result.exit_code == 0, result.output[-2000:]
    shown_safely(result.output)
    if args[0] in ("profile", "sample", "report"):  # they show the city's values
        assert MARKUP in result.output.replace("\n", "") or "[bold red]" in result.output, result.output[-3000:]


@pytest.mark.parametrize("args", [
    ["count", "hostile", "--format", "csv"], ["sample", "hostile", "--format", "csv"],
    ["report", "hostile", "--by", "city", "--format", "csv"],
], ids=lambda a: a[0])
def test_csv_cells_never_start_a_formula(hostile, tmp_path, args):
    formula = tmp_path / "formula"
    shutil.copytree(hostile, formula)
    data = formula / "data" / "customers.parquet"
    con = duckdb.connect()
    con.execute(f"""copy (select * replace (case when customer_id % 2 = 0 then '=HYPERLINK("http://x","y")'
                    else '-12' end as "City Name") from '{data}') to '{formula / "data" / "c3.parquet"}'
                    (format parquet)""")
    con.close()
    (formula / "data" / "c3.parquet").replace(data)
    (formula / "segments" / "hostile.seg").write_text("segment hostile = city is present\n", encoding="utf-8")
    result = cli(*args, "-p", formula, "--as-of", "2024-07-01")
    assert result.exit_code == 0, result.output[-2000:]
    cells = [c for row in csv.reader(io.StringIO(result.stdout)) for c in row]
    assert not any(c.startswith(("=", "+", "@")) for c in cells)
    assert not any(c.startswith("-") and not _number(c) for c in cells), [c for c in cells if c.startswith("-")]
    if args[0] != "count":
        assert "'=HYPERLINK(\"http://x\",\"y\")" in cells and "-12" in cells


def _number(text: str) -> bool:
    try:
        float(text)
        return text.lower().lstrip("+-") not in ("inf", "infinity", "nan")
    except ValueError:
        return False


def test_csv_text_neutralises_text_not_numbers():
    rows = csv_text([["=1+1", "+33 6", "-3.5", "-", "@x", "\tx", "a=b", -4, "1e5", "-inf"]])
    assert next(csv.reader(io.StringIO(rows))) == ["'=1+1", "'+33 6", "-3.5", "'-", "'@x", "'\tx", "a=b", "-4",
                                                     "1e5", "'-inf"]


BREAK = "x\nDROP TABLE shop.customers; --"


def test_a_project_name_on_several_lines_is_refused(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    text = (root / "segc.yml").read_text(encoding="utf-8")
    (root / "segc.yml").write_text(text.replace("name: retail", 'name: "retail\\nDROP TABLE x; --"', 1),
                                   encoding="utf-8")
    result = cli("check", root)
    assert result.exit_code == 1 and "E005" in result.output and "segc.yml:" in result.output


def test_a_key_on_several_lines_is_refused(tmp_path):
    """The key column is named in `build -t members`'s comments: a line break there wrote a
    DROP TABLE line into the SQL (attack11 B3)."""
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    text = (root / "segc.yml").read_text(encoding="utf-8")
    (root / "segc.yml").write_text(text.replace("\nkey: customer_id", '\nkey: "customer_id\\nDROP TABLE x; --"', 1),
                                   encoding="utf-8")
    result = cli("check", root)
    assert result.exit_code == 1 and "E005" in result.output and "segc.yml:6:" in result.output
    assert "`key:`" in result.output and "hint:" in result.output


@pytest.mark.parametrize("template", ["view", "table", "select", "members", "dbt", "changes"])
def test_every_template_writes_the_key_into_comments_on_one_line(template):
    """Second layer: were a key with a line break to get past segc.yml, no template
    writes it raw into a comment (each value in a comment goes through `one_line`)."""
    import dataclasses

    import segc
    from segc.apps.build import render_build

    project = segc.load_project(EXAMPLE)
    project.schema = dataclasses.replace(project.schema, key=f"customer_id{BREAK}\r\u2028")
    files, _manifest = render_build(project, template, names=["loyal_big_basket", "quadrant"])
    for path, content in files.items():
        if not path.endswith(".sql"):
            continue
        lines = content.decode("utf-8").split("\n")  # (the key is also in the query, as a quoted name)
        for line, after in zip(lines, lines[1:]):
            if line.startswith("--"):
                assert not after.startswith("DROP"), (path, line, after)
                assert "\r" not in line and "\u2028" not in line, (path, line)


@pytest.mark.parametrize("template", ["view", "table", "select", "members", "dbt", "changes"])
def test_a_file_name_cannot_end_the_comment_of_generated_sql(tmp_path, template):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    drop_experiments(root)
    (root / "segments" / "audience.seg").rename(root / "segments" / f"a{BREAK}\r\u2028.seg")
    result = cli("build", "-p", root, "-t", template, "-o", tmp_path / "out", "young_urban_fr")
    assert result.exit_code == 0, result.output[-2000:]
    files = [f for f in (tmp_path / "out").rglob("*.sql")]
    assert files
    for f in files:
        for line in f.read_text(encoding="utf-8").splitlines():
            assert not line.startswith("DROP"), (f, line)
        assert "\r" not in f.read_text(encoding="utf-8") and "\u2028" not in f.read_text(encoding="utf-8")
    shown_safely(result.output)


def test_a_schema_on_several_lines_is_refused_and_never_ends_a_comment(tmp_path):
    """`--schema` is written in the changes template's comment (`... in <schema>.segc_snapshots`):
    a line break there wrote a DROP TABLE line into the SQL."""
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    drop_experiments(root)
    for schema in (BREAK, "x\r", "  ", "a\u2028b"):
        result = cli("build", "-p", root, "-t", "changes", "--schema", schema, "-o", tmp_path / "out")
        assert result.exit_code == 1 and "E826" in result.output and not (tmp_path / "out").exists()
        shown_safely(result.output)
    assert cli("build", "-p", root, "-t", "changes", "--schema", "analytics", "-o", tmp_path / "out").exit_code == 0


def test_compile_writes_a_literals_control_characters_exactly_into_a_pipe(tmp_path):
    """A string literal's escape sequence is part of the query: `segc compile > q.sql` had
    it removed (click's style stripping), so the file compared with another value than the
    segment and than `segc build` wrote. On a terminal it is shown escaped instead."""
    import subprocess
    import sys

    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    drop_experiments(root)
    (root / "segments" / "esc.seg").write_text('segment esc = city = "\\u001b[31mX\\u0007" or city = "a\\rb"\n',
                                                 encoding="utf-8")
    piped = subprocess.run([sys.executable, "-m", "segc.cli.main", "compile", "esc", "-p", str(root)],
                           capture_output=True, check=True).stdout.decode("utf-8")
    assert "'\x1b[31mX\x07'" in piped and "'a\rb'" in piped
    assert cli("build", "-p", root, "-o", tmp_path / "out", "esc").exit_code == 0
    built = (tmp_path / "out" / "esc.sql").read_bytes().decode("utf-8")  # no newline translation of the CR
    assert piped.rstrip("\n") in built


def test_output_paths_in_messages_are_shown_escaped(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests"))
    drop_experiments(root)
    odd = "q\x07\x1b]0;T\x07q"
    for args in (["build", "-p", root, "-o", tmp_path / f"b{odd}"],
                 ["docs", "-p", root, "-o", tmp_path / f"d{odd}", "--no-counts"],
                 ["report", "young_urban_fr", "-p", root, "--format", "json", "--out", tmp_path / f"r{odd}.json"],
                 ["init", tmp_path / f"i{odd}"]):
        result = cli(*args)
        assert result.exit_code == 0, result.output[-1500:]
        shown_safely(result.output)
        assert "\\x07" in result.output
