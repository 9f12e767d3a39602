"""`segc check` warns (W978) when an experiment's target and control are not provably
disjoint (issue 19); `segc lift` then counts the members of both arms (`overlap`) and
leaves them out of the readout."""
from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

import segc
from segc.apps.lift import lift
from segc.cli.main import app
from tests.conftest import EXAMPLE

SPLIT = "segments/experiments.seg"


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "build", ".segc", "tests"))
    return root


def _split(root, control: str, target: str) -> None:
    (root / SPLIT).write_text(f"segment loyal_control = {control}\nsegment loyal_target = {target}\n")


def _w978(root) -> list:
    return [w for w in segc.load_project(root).warnings if w.code == "W978"]


def test_the_usual_split_is_proven_disjoint(root):
    assert _w978(root) == []
    # the roles swapped: the target is the holdout, the control the rest
    _split(root, 'loyal_big_basket and not loyal_target', 'loyal_big_basket and holdout 50% seed "s"')
    assert _w978(root) == []


def test_arms_not_proven_disjoint_warn_w978_and_lift_counts_the_overlap(root):
    _split(root, 'loyal_big_basket and holdout 10% seed "spring_2024"', "loyal_big_basket")
    (w,) = _w978(root)
    assert "`loyal_target` and control `loyal_control` are not provably disjoint" in w.message
    out = CliRunner().invoke(app, ["check", "-p", str(root)])
    assert out.exit_code == 0 and "warning[W978]" in out.output
    line = (root / "segc.yml").read_text().splitlines().index("    control: loyal_control") + 1
    assert f"segc.yml:{line}:14" in out.output  # at the experiment's control
    result = lift(segc.load_project(root), "spring_loyalty")
    # every control member is also a target member: all in the overlap, left out
    assert result["overlap"] > 0 and result["srm"]["n_control"] == 0
    assert any("in both arms" in w for w in result["warnings"])


def test_not_proven_is_not_overlapping_still_a_warning(root):
    # disjoint in fact (no basket is both above and at most 80) but not by the syntactic rule
    _split(root, "loyal_big_basket and basket_avg > 100", "purchases_365d >= 5 and basket_avg <= 80")
    assert [w.code for w in _w978(root)] == ["W978"]
