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
