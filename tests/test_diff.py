"""`segc diff OLD NEW`: segments added, removed and changed between two versions of the
retail example (folders, or a git revision), with membership moves on the preview data
checked against independent DuckDB queries over the parquet files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

import segc
from typer.testing import CliRunner

from segc.cli.main import app
from segc.apps.diff import diff_projects
from segc.front.errors import SegcError
from tests.conftest import EXAMPLE

runner = CliRunner()


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def edit(root: Path) -> None:
    """One segment edited, one added, one removed, one segmentation branch edited."""
    seg = root / "segments"
    text = (seg / "behaviour.seg").read_text(encoding="utf-8")
    text = text.replace("segment inactive_6m = days_since(last_order_at) > 180",
                        "segment inactive_6m = days_since(last_order_at) > 120")
    text = text.replace("## Frequent returners", "## Big cart abandoners.\n@owner(\"ecommerce\") @tags(cart)\n"
                        "segment big_carters = abandoned_cart_value_30d > 300\n\n## Frequent returners")
    (seg / "behaviour.seg").write_text(text, encoding="utf-8")
    text = (seg / "audience.seg").read_text(encoding="utf-8")
    start = text.index("## Profiles without an age")
    (seg / "audience.seg").write_text(text[:start].rstrip() + "\n", encoding="utf-8")
    text = (seg / "value.seg").read_text(encoding="utf-8")
    (seg / "value.seg").write_text(text.replace("good       = revenue_365d >= 300", "good       = revenue_365d >= 400"),
                                   encoding="utf-8")


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    base = tmp_path_factory.mktemp("diff")
    old = base / "old"
    new = base / "new"
    shutil.copytree(EXAMPLE, old, ignore=shutil.ignore_patterns("data", "tests", "__pycache__"))
    shutil.copytree(EXAMPLE, new, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    edit(new)
    return old, new


@pytest.fixture(scope="module")
def result(versions):
    old, new = versions
    return diff_projects(old, new)


@pytest.fixture(scope="module")
def truth():
    """Membership numbers computed without segc, straight from the parquet files."""
    con = duckdb.connect()
    data = EXAMPLE / "data"
    for t in ("customers", "orders", "carts"):
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{data / (t + '.parquet')}')")
    q = lambda sql: con.execute(sql).fetchone()  # noqa: E731
    out = {}
    out["inactive"] = q("""
        WITH last AS (SELECT customer_id, date_diff('day', CAST(max(ordered_at) AS DATE), DATE '2024-07-01') AS d
                      FROM orders WHERE ordered_at < DATE '2024-07-01' GROUP BY customer_id)
        SELECT count(*) FILTER (WHERE d > 180), count(*) FILTER (WHERE d > 120)
        FROM customers JOIN last USING (customer_id) WHERE NOT is_test""")
    out["big_carters"] = q("""
        WITH c AS (SELECT customer_id, sum(value) AS v FROM carts
                   WHERE abandoned AND created_at >= DATE '2024-06-01' AND created_at < DATE '2024-07-01'
                   GROUP BY customer_id)
        SELECT count(*) FROM customers JOIN c USING (customer_id) WHERE NOT is_test AND v > 300""")[0]
    out["age_unknown"] = q("SELECT count(*) FROM customers WHERE NOT is_test AND age IS NULL")[0]
    out["revenue"] = q("""
        WITH r AS (SELECT customer_id, sum(amount) AS r FROM orders
                   WHERE status = 'completed' AND ordered_at >= DATE '2023-07-02' AND ordered_at < DATE '2024-07-01'
                   GROUP BY customer_id)
        SELECT count(*) FILTER (WHERE r >= 300 AND r < 1000), count(*) FILTER (WHERE r >= 400 AND r < 1000),
               count(*) FILTER (WHERE r >= 50 AND r < 300), count(*) FILTER (WHERE r >= 300 AND r < 400)
        FROM customers JOIN r USING (customer_id) WHERE NOT is_test""")
    con.close()
    return out


def by_name(result):
    return {c.name: c for c in result.changes}


def test_statuses(result):
    changes = by_name(result)
    assert changes["inactive_6m"].status == "changed"
    assert changes["value_tier"].status == "changed" and changes["value_tier"].kind == "segmentation"
    assert changes["big_carters"].status == "added"
    assert changes["age_unknown"].status == "removed"
    # same text, but they refer to inactive_6m (or value_tier): their SQL changed
    for name in ("at_risk", "winback_email", "high_value_reachable"):
        assert changes[name].status == "changed" and changes[name].text_diff == "" and changes[name].sql_changed
    assert set(changes) == {"inactive_6m", "value_tier", "big_carters", "age_unknown", "at_risk", "winback_email",
                            "high_value_reachable"}
    # of the old definitions: 5 changed (2 by text, 3 through references), 1 removed
    assert "loyal_big_basket" not in changes and result.unchanged == _n_definitions() - 6
    assert result.as_of == "2024-07-01" and result.config_diff == ""


def test_text_diffs_point_at_file_lines(versions, result):
    _old, new = versions
    changes = by_name(result)
    d = changes["inactive_6m"].text_diff.splitlines()
    assert d[:2] == ["--- a/segments/behaviour.seg", "+++ b/segments/behaviour.seg"]
    assert "-segment inactive_6m = days_since(last_order_at) > 180" in d
    assert "+segment inactive_6m = days_since(last_order_at) > 120" in d
    # hunk headers count lines of the file, not of the definition
    lines = (new / "segments" / "behaviour.seg").read_text(encoding="utf-8").splitlines()
    start = int(d[2].split("+")[1].split(",")[0])
    assert lines[start - 1:start - 1 + 4][-1].startswith("segment inactive_6m")
    added = changes["big_carters"].text_diff.splitlines()
    assert added[0] == "--- /dev/null"
    first = int(added[2].split("+")[1].split(",")[0])
    assert lines[first - 1] == "## Big cart abandoners." and lines[first + 1].startswith("segment big_carters")
    assert all(line.startswith("-") for line in changes["age_unknown"].text_diff.splitlines()[3:])
    assert "+  good       = revenue_365d >= 400" in changes["value_tier"].text_diff.splitlines()


def test_membership_matches_independent_queries(result, truth):
    changes = by_name(result)
    before, after = truth["inactive"]
    m = changes["inactive_6m"].membership
    assert (m.before, m.after, m.entered, m.left, m.unchanged) == (before, after, after - before, 0, before)
    assert m.entered > 0

    m = changes["big_carters"].membership
    assert (m.before, m.after, m.entered, m.left, m.unchanged) == (0, truth["big_carters"], truth["big_carters"], 0, 0)
    m = changes["age_unknown"].membership
    assert (m.before, m.after, m.entered, m.left, m.unchanged) == (truth["age_unknown"], 0, 0, truth["age_unknown"], 0)

    good_old, good_new, avg_old, moved = truth["revenue"]
    rows = {r.name: r for r in changes["value_tier"].members}
    assert list(rows) == ["value_tier.very_good", "value_tier.good", "value_tier.average", "value_tier.occasional"]
    good, average = rows["value_tier.good"], rows["value_tier.average"]
    assert (good.before, good.after, good.entered, good.left) == (good_old, good_new, 0, moved)
    assert (average.before, average.after, average.entered, average.left) == (avg_old, avg_old + moved, moved, 0)
    assert rows["value_tier.very_good"].entered == rows["value_tier.very_good"].left == 0
    for c in result.changes:  # before = unchanged + left, after = unchanged + entered
        for r in c.members:
            assert r.before == r.unchanged + r.left and r.after == r.unchanged + r.entered


def test_cli_text_and_json(versions, truth):
    old, new = versions
    out = cli("diff", str(old), str(new)).stdout
    assert "~ changed inactive_6m" in out and "+ added   big_carters" in out and "- removed age_unknown" in out
    assert "+segment inactive_6m = days_since(last_order_at) > 120" in out
    data = json.loads(cli("diff", str(old), str(new), "--format", "json").stdout)
    assert data["added"] == ["big_carters"] and data["removed"] == ["age_unknown"]
    assert set(data["changed"]) == {"inactive_6m", "at_risk", "winback_email", "value_tier", "high_value_reachable"}
    seg = {s["name"]: s for s in data["segments"]}
    before, after = truth["inactive"]
    assert seg["inactive_6m"]["membership"] == [{"name": "inactive_6m", "before": before, "after": after,
                                                 "entered": after - before, "left": 0, "unchanged": before}]
    assert seg["at_risk"]["text_changed"] is False and seg["at_risk"]["sql_changed"] is True


def test_same_project_has_no_changes():
    result = diff_projects(EXAMPLE, EXAMPLE)
    assert result.changes == [] and result.unchanged == _n_definitions()


def test_a_file_only_segment_s_doc_is_part_of_its_diff(tmp_path):
    """newuser11 F24: the diff of an added file-only segment (a .seg file holding just an
    expression, named by its file) left out its `##` doc and started at line 2, while a
    `segment NAME = ...` one's shows its doc and annotations; and a change of that doc
    alone was no change at all (nor did build's hash, "doc included", see it)."""
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(EXAMPLE, old, ignore=shutil.ignore_patterns("data", "tests", "__pycache__"))
    shutil.copytree(old, new)
    (new / "segments" / "vip2.seg").write_text("# a comment\n## doc\nrevenue_365d > 2000\n", encoding="utf-8")
    (new / "segments" / "vip3.seg").write_text('## A doc line.\n@owner("crm")\nsegment vip3 = revenue_365d > 3000\n',
                                               encoding="utf-8")
    changes = by_name(diff_projects(old, new, membership=False))
    assert changes["vip2"].text_diff.splitlines() == [
        "--- /dev/null", "+++ b/segments/vip2.seg", "@@ -0,0 +2,2 @@", "+## doc", "+revenue_365d > 2000"]
    assert changes["vip3"].text_diff.splitlines()[2:] == [
        "@@ -0,0 +1,3 @@", "+## A doc line.", '+@owner("crm")', "+segment vip3 = revenue_365d > 3000"]
    # the doc alone changes: a change, shown (its SQL is the same)
    shutil.copytree(new, tmp_path / "newer")
    (tmp_path / "newer" / "segments" / "vip2.seg").write_text("# a comment\n## A better doc.\nrevenue_365d > 2000\n",
                                                              encoding="utf-8")
    changed = by_name(diff_projects(new, tmp_path / "newer", membership=False))
    assert set(changed) == {"vip2"} and changed["vip2"].status == "changed" and not changed["vip2"].sql_changed
    assert ["-## doc", "+## A better doc.", " revenue_365d > 2000"] == changed["vip2"].text_diff.splitlines()[3:]
    from segc.apps.build import build

    hashes = [build(segc.load_project(root), "select", tmp_path / f"out{i}").manifest["segments"]["vip2"]["hash"]
              for i, root in enumerate((new, tmp_path / "newer"))]
    assert hashes[0] != hashes[1]


def _n_definitions() -> int:
    project = segc.load_project(EXAMPLE)
    return sum(len(m.definitions) for m in project.modules)


# ---- git revisions ----------------------------------------------------------------------------

def git(repo: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1")
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("repo")
    git(repo, "init", "-q", "-b", "main")
    (repo / "README").write_text("before the project\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "empty")
    proj = repo / "shop" / "retail"
    shutil.copytree(EXAMPLE, proj, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "project")
    edit(proj)  # uncommitted: the working tree is NEW
    return repo


def test_git_revision(repo, result):
    proj = repo / "shop" / "retail"
    from_git = diff_projects("HEAD", proj)
    assert from_git.old_label.startswith("HEAD (") and len(from_git.old_label) == len("HEAD (1234567)")
    assert [(c.name, c.status, c.members) for c in from_git.changes] == \
           [(c.name, c.status, c.members) for c in result.changes]
    out = cli("diff", "HEAD", str(proj)).stdout
    assert "- removed age_unknown" in out

    git(repo, "commit", "-q", "-am", "edit")  # now HEAD~1 is the old version, HEAD the new one
    assert diff_projects("HEAD", proj).changes == []
    assert [c.name for c in diff_projects("HEAD~1", proj).changes] == [c.name for c in result.changes]


def test_git_errors(repo, tmp_path):
    proj = repo / "shop" / "retail"
    with pytest.raises(SegcError) as info:
        diff_projects("no-such-rev", proj)
    assert info.value.diagnostics[0].code == "E902"
    first = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    with pytest.raises(SegcError) as info:
        diff_projects(first, proj)  # the project did not exist yet
    assert info.value.diagnostics[0].code == "E903"
    outside = tmp_path / "retail"
    shutil.copytree(EXAMPLE, outside, ignore=shutil.ignore_patterns("data", "tests"))
    with pytest.raises(SegcError) as info:
        diff_projects("HEAD", outside)
    assert info.value.diagnostics[0].code == "E901"
    result = cli("diff", "no-such-rev", str(proj))
    assert result.exit_code == 1 and "E902" in result.stderr
