"""`project.members(name)`: the member keys of a segment or a branch, (key, branch) pairs
of a whole segmentation, through the one target resolver (E212 for an unknown name)."""
from __future__ import annotations

from pathlib import Path

import pytest

import segc
from segc.front.errors import SegcError

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "retail"


@pytest.fixture(scope="module")
def project():
    return segc.load_project(EXAMPLE)


def test_members_of_a_segment_are_its_count_and_pass_its_condition(project):
    keys = project.members("loyal_big_basket")
    assert len(keys) == project.count(["loyal_big_basket"]).segments[0].count
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    # independently: the compiled query's keys
    assert set(keys) == {r[0] for r in project.duckdb().execute(project.compile("loyal_big_basket")).fetchall()}


def test_members_of_a_segmentation_are_key_branch_pairs_matching_its_branches(project):
    pairs = project.members("quadrant")
    counts = {s.name: s.count for s in project.count(["quadrant"]).segments}
    assert {f"quadrant.{b}" for _k, b in pairs} <= set(counts)
    for name, n in counts.items():
        branch = name.partition(".")[2]
        assert sum(1 for _k, b in pairs if b == branch) == n
        assert project.members(name) == sorted(k for k, b in pairs if b == branch)


def test_an_unknown_name_is_e212_with_a_suggestion(project):
    with pytest.raises(SegcError) as e:
        project.members("loyal_big_baskt")
    assert e.value.diagnostics[0].code == "E212" and "loyal_big_basket" in str(e.value.diagnostics[0].hints)
