"""Targets: what a name given to a command stands for, resolved at one place
(segc.check.targets). A segmentation counts, overlaps, profiles and reports as its
branches side by side; compile, build and transitions take it whole; sample refuses it
with a hint naming its branches (E011). `-e EXPR` is an ad-hoc target of count, sample
and profile, checked as `segc compile -e` checks one. Unknown names get a did-you-mean
over every definition and feature (E212)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "retail"
QUADRANT = ["quadrant.frequent_big", "quadrant.frequent_small", "quadrant.occasional_big",
            "quadrant.occasional_small"]


@pytest.fixture(scope="module")
def retail():
    return segc.load_project(EXAMPLE)


def cli(*args):
    return CliRunner().invoke(app, [*args, "-p", str(EXAMPLE)])


def test_count_of_a_segmentation_is_its_branches(retail):
    # was AttributeError: 'NoneType' object has no attribute 'pred'
    result = retail.count(["quadrant"])
    assert [s.name for s in result.segments] == QUADRANT
    one_by_one = {s.name: s.count for s in retail.count(QUADRANT).segments}
    assert {s.name: s.count for s in result.segments} == one_by_one
    assert sum(one_by_one.values()) > 0


def test_cli_count_of_a_segmentation():
    result = cli("count", "quadrant", "loyal_control", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [s["name"] for s in json.loads(result.stdout)["segments"]] == [*QUADRANT, "loyal_control"]


def test_overlap_of_a_segmentation_puts_the_branches_side_by_side(retail):
    o = retail.overlap(["quadrant"])
    assert o.names == QUADRANT
    # the branches are exclusive (first match wins): nobody is in two of them
    assert all(o.matrix[i][j] == 0 for i in range(4) for j in range(4) if i != j)
    assert [o.matrix[i][i] for i in range(4)] == [s.count for s in retail.count(QUADRANT).segments]


def test_profile_of_a_segmentation_puts_the_branches_side_by_side(retail):
    profiles = retail.profiles(["value_tier"]).profiles
    assert [p.name for p in profiles] == [f"value_tier.{b}" for b in ("very_good", "good", "average", "occasional")]
    assert sum(p.size for p in profiles) == profiles[0].population  # `else`: everyone is in one
    result = cli("profile", "value_tier", "--format", "json")
    assert result.exit_code == 0, result.output
    assert [p["name"] for p in json.loads(result.stdout)["profiles"]] == [p.name for p in profiles]
    table = cli("profile", "value_tier")
    assert table.exit_code == 0, table.output
    assert "value_tier: mean (missing)" in table.stdout and "population" in table.stdout
    # each branch has its own top values: a value missing from one column is inside its
    # (other), marked, never a blank that reads as none; and (other) is the last row
    city = table.stdout.split("\ncity")[1].split("\n\n")[0].split("└")[0]
    rows = [line for line in city.splitlines() if line.startswith("│")]
    assert rows[-1].startswith("│ (other)")
    cells = [c.strip() for line in rows for c in line.strip("│").split("│")[1:]]
    assert "" not in cells and "·" in cells
    assert "· not among that column's top values: counted in its (other)" in table.stdout


def test_profile_of_one_segment_is_unchanged():
    result = cli("profile", "at_risk", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "at_risk"


def test_report_of_a_segmentation_is_one_row_per_branch(retail):
    from segc.apps.report.measure import build_report

    report = build_report(retail, ["quadrant"], kpis=[], periods=2)
    assert report.segments[1:] == QUADRANT


@pytest.mark.parametrize("args, message, hint", [
    (["sample", "quadrant"], "`quadrant` is a segmentation: segc sample takes one segment",
     "name one of its branches: `quadrant.frequent_big`, `quadrant.frequent_small`"),
    (["transitions", "loyal_control", "--from", "2024-01-01", "--to", "2024-07-01"],
     "`loyal_control` is a segment: segc transitions takes a segmentation", "segmentations: quadrant, rfm, value_tier"),
    (["transitions", "rfm.loyal", "--from", "2024-01-01", "--to", "2024-07-01"],
     "`rfm.loyal` is a branch: segc transitions takes a segmentation", "give the whole segmentation `rfm`"),
    (["build", "quadrant.frequent_big", "--out", "unused"], "`quadrant.frequent_big` is a branch: segc build",
     "give `quadrant`"),
    (["compile", "quadrant", "--form", "count"], "`quadrant` is a segmentation: the form `count`",
     "`quadrant.frequent_big`"),
])
def test_a_kind_a_command_cannot_take_is_one_coded_diagnostic(args, message, hint):
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "error[E011]" in result.stderr and message in result.stderr and hint in result.stderr
    assert result.stderr.count("error[") == 1


def test_api_sample_and_profile_of_a_segmentation_say_so(retail):
    for call in (lambda: retail.sample("quadrant"), lambda: retail.profile("quadrant")):
        with pytest.raises(segc.SegcError) as e:
            call()
        assert e.value.diagnostics[0].code == "E011"
        assert "`quadrant.frequent_big`" in e.value.diagnostics[0].hints[0]


@pytest.mark.parametrize("name, message, hint", [
    ("rfm.nosuch", "`rfm` has no branch `nosuch`",
     "its branches: `rfm.champions`, `rfm.loyal`, `rfm.promising`, `rfm.at_risk`, `rfm.hibernating`"),
    ("rfm.champs", "`rfm` has no branch `champs`", "did you mean `rfm.champions`?"),
    ("champions", "unknown segment `champions`", "did you mean `rfm.champions`?"),  # a branch
    ("quadrnt", "unknown segment `quadrnt`", "did you mean `quadrant`?"),  # a segmentation
    ("agee", "unknown segment `agee`", "did you mean `age`? (a feature"),  # a feature
    ("age", "`age` is a feature, not a segment", "-e 'age ...'"),
    ("potential", "`potential` is a feature, not a segment", "-e 'potential ...'"),  # a score
])
def test_did_you_mean_considers_every_definition(retail, name, message, hint):
    for call in (lambda: retail.count([name]), lambda: retail.compile(name)):
        with pytest.raises(segc.SegcError) as e:
            call()
        d = e.value.diagnostics[0]
        assert (d.code, d.message) == ("E212", message)
        assert hint in d.hints[0]


def test_every_bad_target_is_reported_at_once(retail):
    with pytest.raises(segc.SegcError) as e:
        retail.count(["nosuch", "quadrant", "rfm.nosuch"])
    assert [d.code for d in e.value.diagnostics] == ["E212", "E212"]


def test_segtest_expect_uses_the_same_resolution(tmp_path):
    from segc.apps.segtest import run_tests

    p = segc.load_project(EXAMPLE)
    test = tmp_path / "t.yml"
    test.write_text("as_of: 2024-07-01\nrows: {customers: []}\nexpect:\n  quadrant: []\n  rfm.nosuch: []\n")
    with pytest.raises(segc.SegcError) as e:
        run_tests(p, [test])
    found = [(d.code, d.message) for d in e.value.diagnostics]
    assert ("E805", "`quadrant` is a segmentation: `expect:` takes one segment") in found
    assert ("E805", "`rfm` has no branch `nosuch`") in found


# ---- -e EXPR: ad-hoc count, sample and profile ---------------------------------------------

def test_count_expression_is_the_count_of_compile_e(retail):
    expr = 'age >= 30 and country in ["FR", "BE"]'
    result = cli("count", "-e", expr, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["segments"]
    sql = retail.compile_expression(expr, form="count", dialect="duckdb")
    assert rows == [{"name": expr, "count": retail.duckdb().execute(sql).fetchone()[0],
                     "share": rows[0]["share"]}]


def test_count_expressions_with_names():
    result = cli("count", "at_risk", "-e", "email_optin", "-e", "sms_optin", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert [line.split(",")[0] for line in result.stdout.splitlines()[2:]] == ["at_risk", "email_optin", "sms_optin"]


def test_sample_expression_shows_the_features_it_uses():
    result = cli("sample", "-e", "basket_avg > 500", "-n", "3", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 3 and all(set(r) == {"customer_id", "basket_avg"} and r["basket_avg"] > 500 for r in rows)


def test_profile_expression(retail):
    result = cli("profile", "-e", "age >= 60", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["name"] == "age >= 60"
    age = next(n for n in data["numeric"] if n["feature"] == "age")
    assert age["mean"] >= 60 and age["missing"] == 0


def test_expression_errors_and_warnings_are_compile_e_s():
    bad = cli("count", "-e", "agee > 3")
    assert bad.exit_code == 1 and "error[E201]" in bad.stderr and "did you mean `age`?" in bad.stderr
    sensitive = cli("sample", "-e", 'religion = "x"')
    assert sensitive.exit_code == 1 and "error[E501]" in sensitive.stderr
    never = cli("count", "-e", "age > 5 and age < 3")
    assert never.exit_code == 0 and "warning[W101]" in never.stderr


def test_sample_needs_one_target():
    result = cli("sample", "at_risk", "-e", "age > 3")
    assert result.exit_code == 2 and "give exactly one segment name, or -e EXPRESSION" in result.output


@pytest.mark.parametrize("expr, hint", [
    ("champions and age > 3", "did you mean `rfm.champions`?"),  # a branch, in an expression
    ("rfm.champs", "did you mean `rfm.champions`?"),
    ("rfm.nosuch", "branches: champions, loyal, promising, at_risk, hibernating"),
    ("quadrnt.frequent_big", "did you mean `quadrant.frequent_big`?"),
])
def test_did_you_mean_in_expressions_considers_branches(retail, expr, hint):
    with pytest.raises(segc.SegcError) as e:
        retail.compile_expression(expr)
    d = e.value.diagnostics[0]
    assert d.code == "E201" and hint in (d.label or "") + " ".join(d.hints)


def test_readme_quick_tour_runs(tmp_path, monkeypatch):
    # the tour's commands (targets of every kind, -e, init) as the README shows them
    import shlex

    text = (EXAMPLE.parent.parent / "README.md").read_text(encoding="utf-8")
    tour = text.split("## Quick tour", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    lines = [ln[2:] for ln in tour.splitlines() if ln.startswith("$ segc ")]
    assert any(" -e " in ln for ln in lines) and any("segc count quadrant" in ln for ln in lines)
    monkeypatch.chdir(tmp_path)  # `segc init my_segments` writes here
    for line in lines:
        words = [a.replace("examples/retail", str(EXAMPLE)) for a in shlex.split(line, comments=True)]
        assert "&&" not in words, f"one command per line (the README's lines are run one by one): {line}"
        result = CliRunner().invoke(app, words[1:])
        assert result.exit_code == 0, (line, result.output)


def test_an_empty_expression_is_no_empty_branch():
    # its text holds a dot (`100000.5`): it was taken for a segmentation branch (W741)
    result = cli("count", "-e", "basket_avg > 100000.5")
    assert result.exit_code == 0, result.output
    assert "W741" not in result.stderr
    assert "W741" in cli("count", "-e", "age > 1", "quadrant.frequent_big", "--as-of", "1990-01-01").stderr


def test_an_expression_given_as_a_name_points_at_e():
    result = cli("count", "age > 30")
    assert result.exit_code == 1
    assert "error[E212]: `age > 30` is not a segment name" in result.stderr
    assert "-e 'age > 30'" in result.stderr


@pytest.mark.parametrize("word", [".", "..", "segments/value.seg", "./segments", "segments\\value.seg"])
def test_a_path_where_compile_takes_a_segment_name_says_so(word, monkeypatch):
    # `segc compile .` in a project folder said "unknown segment `.`", its hint 20 names
    monkeypatch.chdir(EXAMPLE)
    result = CliRunner().invoke(app, ["compile", word, "-p", str(EXAMPLE)])
    assert result.exit_code == 1, result.output
    assert f"error[E212]: `{word}` is a path, not a segment name" in result.stderr
    assert "--project DIR" in result.stderr


@pytest.mark.parametrize("command", ["sample", "profile", "count", "overlap"])
@pytest.mark.parametrize("word", [".", "..", "segments/value.seg", "segments\\value.seg"])
def test_a_path_as_a_target_is_a_diagnostic(command, word, monkeypatch):
    # the commands that take targets read a folder or .seg file as the project (load_targets)
    monkeypatch.chdir(EXAMPLE)
    result = CliRunner().invoke(app, [command, word])
    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 1 and "E212" in result.stderr:
        assert "is a path, not a segment name" in result.stderr


@pytest.mark.parametrize("n", ["0", "1000001", "100000000000000000000000"])
def test_sample_n_out_of_range_is_a_usage_error(n):
    # 10^23 reached DuckDB, whose conversion error came with a hint blaming the data files
    result = cli("sample", "-e", "age > 1", "-n", n)
    assert result.exit_code == 2 and "-n" in result.output and "data files" not in result.output, result.output
