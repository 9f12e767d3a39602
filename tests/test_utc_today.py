"""A rolling as-of (`--as-of today`, or no `as_of:`) is the engines' current date, which is
UTC (every session runs in UTC): `segc diff` took the machine's local date instead, so at
23:00 UTC under TZ=Pacific/Kiritimati it compared and counted at tomorrow's date while
`count`, `snapshot` and `changes` used today's (s12C F3); `segc serve` kept its rolling
matrix until the local midnight. The test runs in a zone whose date differs from UTC's now.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import time

import pytest

from segc import ir
from segc.apps.diff import diff_projects
from segc.run.snapshots import snapshot_as_of
from tests.conftest import EXAMPLE


@pytest.fixture
def other_day(monkeypatch):
    """TZ set to a zone where the local date is not UTC's at this moment: UTC+14 from 10:00
    UTC, UTC-12 before noon UTC (one of them always differs)."""
    zone = "Pacific/Kiritimati" if dt.datetime.now(dt.timezone.utc).hour >= 10 else "Etc/GMT+12"
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_local_date_differs_here(other_day):
    assert dt.date.today() != dt.datetime.now(dt.timezone.utc).date()
    assert ir.utc_today() == dt.datetime.now(dt.timezone.utc).date()


def test_diff_at_today_is_the_engines_date(other_day, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for root in (old, new):
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests", "__pycache__", "build"))
    seg = new / "segments" / "behaviour.seg"
    seg.write_text(seg.read_text(encoding="utf-8").replace("days_since(last_order_at) > 180",
                                                            "days_since(last_order_at) > 120"), encoding="utf-8")
    result = diff_projects(old, new, as_of="today")
    assert result.as_of == dt.datetime.now(dt.timezone.utc).date().isoformat()


def test_snapshot_at_today_is_the_engines_date(other_day):
    import segc

    project = segc.load_project(EXAMPLE)
    assert snapshot_as_of(project, "today") == dt.datetime.now(dt.timezone.utc).date()
    assert os.environ["TZ"]
