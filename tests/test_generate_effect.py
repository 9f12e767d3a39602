"""The retail example's generator holds a real effect of the spring campaign (issue 19):
exactly the customers of the experiment's target arm at assigned_at (drawn at the
generator's UPLIFT share) get one more completed order in [assigned_at, until); nobody
else's data changes, membership at assigned_at does not move, and the committed data's
`segc lift` shows the difference with an interval above 0."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import duckdb
import pytest

from segc.apps.lift import lift
from segc.project import load_project
from segc.run.duckdb_engine import DuckDBEngine

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "retail"
N, SEED = 4000, 7


def _generator():
    spec = importlib.util.spec_from_file_location("retail_generate", EXAMPLE / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _generator()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The same customers generated with and without the campaign's effect, each in
    ROOT/data/ as segc.yml's `path:`s read them."""
    root = tmp_path_factory.mktemp("effect")
    for name, effect in (("with", True), ("without", False)):
        gen.generate(N, root / name / "data", SEED, effect=effect)
    return root


def _arms(root: Path) -> tuple[set, set, object]:
    """Target and control at assigned_at, evaluated by segc on the files under root."""
    project = load_project(EXAMPLE)
    project.use_engine(DuckDBEngine(project.schema, root))
    e = project.experiments[gen.EXPERIMENT]
    return (set(project.members(e.target.name, e.assigned_at)),
            set(project.members(e.control.name, e.assigned_at)), e)


def _rows(con, path: Path) -> str:
    # order ids shift when orders are added: the orders are compared without them
    return f"SELECT * EXCLUDE (order_id) FROM read_parquet('{path}')"


def test_campaign_orders_go_to_exactly_the_drawn_members_of_the_target_arm(data):
    con = duckdb.connect()
    added = con.execute(f"{_rows(con, data / 'with/data/orders.parquet')} EXCEPT ALL "
                        f"{_rows(con, data / 'without/data/orders.parquet')}").fetchall()
    removed = con.execute(f"{_rows(con, data / 'without/data/orders.parquet')} EXCEPT ALL "
                          f"{_rows(con, data / 'with/data/orders.parquet')}").fetchall()
    assert removed == []
    target, control, e = _arms(data / "with")
    # membership at assigned_at is that of the data without the campaign (its orders
    # come on or after assigned_at, which the point-in-time cut does not see)
    assert (target, control) == _arms(data / "without")[:2]
    arm = target - control
    gen._setup(con, SEED)
    drawn = {k for (k,) in con.execute(
        "SELECT k FROM unnest($keys::BIGINT[]) AS t(k) WHERE rnd(k, 0, 'campaign') < $p",
        {"keys": sorted(arm), "p": gen.UPLIFT}).fetchall()}
    customers = [r[0] for r in added]
    assert sorted(customers) == sorted(drawn)  # one order each, for exactly these
    assert 0 < len(drawn) < len(arm)
    assert not set(customers) & control
    for _, ordered_at, amount, _, _, status in added:
        assert e.assigned_at <= ordered_at.date() < e.until and status == "completed" and amount >= 4.99
    for table in ("customers", "carts"):  # untouched
        assert (data / "with/data" / f"{table}.parquet").read_bytes() == \
               (data / "without/data" / f"{table}.parquet").read_bytes()


def test_the_generator_is_deterministic_with_the_effect(data, tmp_path):
    gen.generate(N, tmp_path / "again", SEED, effect=True)
    for table in ("customers", "orders", "carts"):
        assert (tmp_path / "again" / f"{table}.parquet").read_bytes() == \
               (data / "with/data" / f"{table}.parquet").read_bytes()


def test_the_committed_example_shows_the_effect_with_an_interval_above_zero(tmp_path):
    # a copy: lift reads .segc/ (snapshots), which a run must not leave in the repository
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "build", ".segc"))
    out = lift(load_project(root), gen.EXPERIMENT)
    assert out["membership"].startswith("point-in-time")
    buyers, revenue = out["metrics"]["buyers"], out["metrics"]["revenue"]
    assert 0 < buyers["ci_low"] and buyers["difference"] < 0.15  # real, and modest
    assert 0 < revenue["ci_low"]
    assert not out["warnings"] and not out["srm"]["failed"]


def test_the_readme_shows_the_real_readout():
    from typer.testing import CliRunner

    from segc.cli.main import app

    text = (EXAMPLE.parent.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("### Experiment readouts", 1)[1].split("\n### ", 1)[0]
    shown = section.split("```console", 1)[1].split("```\n", 2)[2].split("```", 1)[0].strip().splitlines()
    result = CliRunner().invoke(app, ["lift", "spring_loyalty", "-p", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert [ln.rstrip() for ln in result.stdout.strip().splitlines()] == shown
