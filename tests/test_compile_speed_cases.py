"""The compile benchmark's hand-written SQL (benchmarks/compile_speed_cases.py) selects
exactly segc's members on the example's data: the ratio it reports is against correct
queries. No timing here (benchmarks/README.md §1)."""
from __future__ import annotations

import sys

import segc
from tests.conftest import EXAMPLE, ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from compile_speed import differences  # noqa: E402


def test_hand_sql_selects_segc_members():
    assert differences(segc.load_project(EXAMPLE)) == []
