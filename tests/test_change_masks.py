"""`segc changes` compared per key as bit masks (run/change_masks.py, issue 18): the cases
the example's defaults do not reach. Several masks (more pairs than a mask holds: BITS
lowered here so the example's 43 pairs need nine), a branch removed since the snapshot (its
stored rows are not compared now: exits), a pair named twice. Each against the set
differences computed independently from `segc compile`'s queries (test_snapshots)."""
from __future__ import annotations

import datetime as dt

import duckdb
import pytest

import segc
from segc.backend.render import render
from segc.run import change_masks, membership
from tests.test_snapshots import D1, D2, expected_changes, memberships, mutate_files, small_copy


def rows_of(changes) -> set[tuple]:
    rows = [(d, b, k, c) for k, d, b, c, *_ in changes.rows]
    assert len(rows) == len(set(rows))  # no row twice
    return set(rows)


@pytest.fixture(scope="module")
def changed(tmp_path_factory):
    """A snapshot at D1, the data changed, the memberships before and after."""
    root = small_copy(tmp_path_factory.mktemp("masks") / "shop")
    project = segc.load_project(root)
    before = memberships(project, "duckdb", D1)
    project.snapshot(as_of=D1)
    mutate_files(root)
    project = segc.load_project(root)
    return root, project, before, memberships(project, "duckdb", D2)


def test_several_masks_give_the_set_differences(changed, monkeypatch):
    root, project, before, after = changed
    monkeypatch.setattr(change_masks, "BITS", 5)
    items = membership.parts(project.targets(membership.default_targets(project), membership.MEMBERS))
    n_pairs = len(set(membership.pairs(project, items)))
    sql = render(membership.changes_query(project, items, dt.date.fromisoformat(D2), "t", dt.date.fromisoformat(D1)),
                 "duckdb")
    assert n_pairs > 40 and f"segc_mask_{(n_pairs - 1) // 5}" in sql  # one mask per 5 pairs
    got = rows_of(project.changes(since=D1, as_of=D2))
    assert got == expected_changes(before, after) and {c for *_x, c in got} == {"entered", "exited"}


def test_a_branch_removed_since_the_snapshot_is_an_exit(changed, tmp_path):
    root, *_ = changed
    project = segc.load_project(root)
    project.snapshot(["quadrant"], as_of="2024-05-01")
    stored = {(d, b, k) for k, d, b in duckdb.execute(
        f"SELECT key, definition, branch FROM read_parquet('{root}/.segc/snapshots/as_of=2024-05-01/part.parquet') "
        "WHERE key IS NOT NULL").fetchall()}  # not its whole mark (a NULL key)
    rfm = root / "segments" / "rfm.seg"
    text = rfm.read_text(encoding="utf-8")
    try:
        rfm.write_text(text.replace("  frequent_small   = purchases_365d >= 5\n", ""), encoding="utf-8")
        edited = segc.load_project(root)
        assert "frequent_small" not in dict(edited.checked.segmentations["quadrant"].branches)
        now = {r for r in memberships(edited, "duckdb", "2024-05-01") if r[0] == "quadrant"}
        got = rows_of(edited.changes(["quadrant"], since="2024-05-01", as_of="2024-05-01"))
    finally:
        rfm.write_text(text, encoding="utf-8")
    removed = {(d, b, k, "exited") for d, b, k in stored if b == "frequent_small"}
    assert removed and removed <= got
    assert got == expected_changes(stored, now)


def test_a_pair_named_twice_is_compared_once(changed):
    root, project, before, after = changed
    whole = rows_of(project.changes(["quadrant"], since=D1, as_of=D2))
    both = rows_of(project.changes(["quadrant", "quadrant.frequent_big"], since=D1, as_of=D2))
    assert whole and both == whole
    assert whole == {r for r in expected_changes(before, after) if r[0] == "quadrant"}
