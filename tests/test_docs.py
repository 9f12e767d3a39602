"""Every ```seg block of docs/language.md compiles against the retail example, renders
for every dialect the docs promise, and runs on DuckDB."""
from __future__ import annotations

import datetime as dt
import re
import shutil

import pytest

import segc
from segc.backend.dialects import DIALECTS
from tests.conftest import EXAMPLE, ROOT

DOC = ROOT / "docs" / "language.md"
BLOCKS = re.findall(r"```seg\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


@pytest.fixture(scope="module")
def docs_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("docs") / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "README.md"))
    (root / "segments" / "docs.seg").write_text("\n\n".join(BLOCKS), encoding="utf-8")
    return segc.load_project(root)


def test_docs_have_examples():
    assert len(BLOCKS) >= 5


def test_doc_segments_compile_everywhere(docs_project):
    names = [n for n in docs_project.segment_names if n.split(".")[0].endswith("_doc")]
    assert len(names) >= 12
    for name in names:
        for dialect in DIALECTS:
            try:
                docs_project.compile(name, dialect=dialect)
            except segc.SegcError as e:
                # the documented refusals: rolling month arithmetic on SQLite (pinned here),
                # and `holdout` on SQLite (no hash function there)
                documented = dialect == "sqlite" and [d.code for d in e.diagnostics] == ["E602"] \
                    and "`holdout`" in e.diagnostics[0].message
                # and `matches` on SQLite and T-SQL (no regular expressions there)
                documented = documented or dialect in ("sqlite", "tsql") and [d.code for d in e.diagnostics] \
                    == ["E602"] and "`matches`" in e.diagnostics[0].message
                if not documented:
                    pytest.fail(f"{name} on {dialect}: {e}")


def test_doc_segments_run_on_duckdb(docs_project):
    names = [n for n in docs_project.segment_names if n.split(".")[0].endswith("_doc")]
    result = docs_project.count(names)
    assert result.population > 0
    by_name = {s.name: s.count for s in result.segments}
    # the documented segmentation is exhaustive (it has `else`)
    tiers = [v for k, v in by_name.items() if k.startswith("value_tier_doc.")]
    assert sum(tiers) == result.population


def test_the_previous_period_example_does_not_overlap_the_last_one(docs_project):
    # docs/language.md "Time": the 90 days before `last 90 days` end at `today - 91 days`
    # (both ends of `a to b` included), so the two windows meet without sharing a day
    sql = docs_project.compile("spend_dropped_doc", dialect="duckdb", as_of=dt.date(2024, 7, 1))
    assert "\"ordered_at\" >= CAST('2024-04-02' AS DATE)" in sql  # last 90 days
    assert "\"ordered_at\" < CAST('2024-04-02' AS DATE)" in sql  # the 90 days before
    assert "CAST('2024-04-03' AS DATE)" not in sql


def _yaml_block_after(text: str, heading: str) -> str:
    return text.split(heading, 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_project_file_example_checks_on_its_own(tmp_path):
    """docs/language.md's first complete segc.yml is what a reader copies to start by hand."""
    (tmp_path / "segc.yml").write_text(_yaml_block_after(DOC.read_text(encoding="utf-8"), "## The project file"),
                                       encoding="utf-8")
    (tmp_path / "segments").mkdir()
    segc.load_project(tmp_path)  # raises SegcError on any error


def test_the_readme_kpis_example_checks_in_the_example(tmp_path):
    """README's `kpis:` block, put in place of the example's (each key once: a YAML
    mapping with a key twice is E002)."""
    block = _yaml_block_after((ROOT / "README.md").read_text(encoding="utf-8"), "A KPI is one line of the segment language")
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "README.md", "data"))
    text = (root / "segc.yml").read_text(encoding="utf-8")
    head, tail = text.split("\nkpis:\n", 1)
    rest = tail.split("\n\n", 1)[1] if "\n\n" in tail else ""
    assert not rest.startswith(" "), "the example's kpis: block is not followed by a blank line"
    (root / "segc.yml").write_text(head + "\n" + block + "\n" + rest, encoding="utf-8")
    project = segc.load_project(root)
    assert {"active", "email_reachable", "avg_basket", "frequency", "revenue", "basket_value"} <= set(project.schema.kpis)


def test_the_example_readme_shows_what_segc_prints():
    """examples/retail/README.md's console block: each line shown under a `$ segc ...`
    command is a line segc prints, in order (`...` stands for lines left out), and its
    counts in prose are the committed data's (they had drifted when the data changed)."""
    import shlex
    import subprocess
    import sys

    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    block = readme.split("```console\n", 1)[1].split("```", 1)[0]
    commands: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        elif line.strip() not in ("", "..."):
            commands[-1][1].append(line.rstrip())
    assert len(commands) >= 2
    for command, shown in commands:
        argv = shlex.split(command)
        assert argv[0] == "segc"
        done = subprocess.run([sys.executable, "-m", "segc.cli.main", *argv[1:]], cwd=ROOT, capture_output=True,
                              text=True, encoding="utf-8", check=True)
        printed = [line.rstrip() for line in done.stdout.splitlines()]
        at = 0
        for line in shown:
            assert line in printed[at:], f"`{command}` no longer prints: {line}"
            at = printed.index(line, at) + 1
    project = segc.load_project(EXAMPLE)
    counts = {s.name: s.count for s in project.count(["cart_relaunch", "shoes_then_bag"]).segments}
    assert f"({counts['cart_relaunch']} customers at the pinned as-of)" in readme
    assert f"within 7 days) >= 1`, {counts['shoes_then_bag']})" in readme
