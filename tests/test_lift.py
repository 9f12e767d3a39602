"""`segc lift` (DESIGN §8.3): every figure of the JSON readout held to scipy.stats,
computed here on rows pulled by a hand-written query (the metrics) and segc's member
lists at assigned_at (the arms), to 1e-9, on DuckDB and PostgreSQL; and the diagnostics
of bad experiments."""
from __future__ import annotations

import json
import math
import os
import shutil

import psycopg
import pytest
import yaml
from scipy import stats
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from tests.conftest import EXAMPLE
from tests.test_engines_parity import postgres_copy
from tests.test_report import headless

A, U = "2024-03-01", "2024-05-01"
# the metrics of spring_loyalty, written by hand: completed orders in [A, U)
METRICS_SQL = f"""
SELECT customer_id,
       MAX(CASE WHEN status = 'completed' AND ordered_at >= DATE '{A}' AND ordered_at < DATE '{U}' THEN 1 ELSE 0 END),
       SUM(CASE WHEN status = 'completed' AND ordered_at >= DATE '{A}' AND ordered_at < DATE '{U}' AND NOT isnan(amount)
                THEN amount ELSE 0 END)
FROM shop.orders GROUP BY customer_id"""
TOL = 1e-9


@pytest.fixture(scope="module")
def example():
    return segc.load_project(EXAMPLE)


@pytest.fixture(scope="module")
def pg_retail(pg_dsn, example) -> str:
    database = f"segc_lift_{os.getpid()}"
    dsn = postgres_copy(pg_dsn, database, example)
    return dsn


def run(args: list[str]):
    result = CliRunner().invoke(app, args)
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    return result.exit_code, out


def hand_metrics(engine: str, example, dsn: str | None) -> dict:
    if engine == "duckdb":
        rows = example.duckdb().execute(METRICS_SQL).fetchall()
    else:
        with psycopg.connect(dsn) as con:
            # PostgreSQL has no isnan(); its NaN equals itself, so `amount <> 'NaN'` drops it
            rows = con.execute(METRICS_SQL.replace("NOT isnan(amount)", "amount <> 'NaN'::float8")).fetchall()
    return {k: (bool(b), float(s)) for k, b, s in rows}


def expected(example, metrics: dict) -> dict:
    """The readout computed here with scipy.stats from the same rows."""
    target = set(example.members("loyal_target", as_of=A))
    control = set(example.members("loyal_control", as_of=A))
    assert target and control and not target & control
    nothing = (False, 0.0)  # no order at all: no completed order, a sum of 0
    b_t = [metrics.get(k, nothing)[0] for k in sorted(target)]
    b_c = [metrics.get(k, nothing)[0] for k in sorted(control)]
    r_t = [metrics.get(k, nothing)[1] for k in sorted(target)]
    r_c = [metrics.get(k, nothing)[1] for k in sorted(control)]
    n_t, n_c = len(target), len(control)
    x_t, x_c = sum(b_t), sum(b_c)
    p_t, p_c = x_t / n_t, x_c / n_c
    w_t = stats.binomtest(x_t, n_t).proportion_ci(0.95, method="wilson")
    w_c = stats.binomtest(x_c, n_c).proportion_ci(0.95, method="wilson")
    d = p_t - p_c
    pooled = (x_t + x_c) / (n_t + n_c)
    z = d / math.sqrt(pooled * (1 - pooled) * (1 / n_t + 1 / n_c))
    welch = stats.ttest_ind(r_t, r_c, equal_var=False)
    ci = welch.confidence_interval(0.95)
    m_t, m_c = sum(r_t) / n_t, sum(r_c) / n_c
    srm = stats.chisquare([n_t, n_c], [(n_t + n_c) * 0.9, (n_t + n_c) * 0.1])
    return {
        "srm": {"n_target": n_t, "n_control": n_c, "expected_share": 0.9, "chi2": srm.statistic,
                "p_value": srm.pvalue},
        "buyers": {"n_target": n_t, "n_control": n_c, "target": p_t, "control": p_c, "difference": d,
                   "ci_low": d - math.hypot(p_t - w_t.low, w_c.high - p_c),
                   "ci_high": d + math.hypot(w_t.high - p_t, p_c - w_c.low),
                   "relative": d / p_c, "p_value": 2 * stats.norm.sf(abs(z))},
        "revenue": {"n_target": n_t, "n_control": n_c, "target": m_t, "control": m_c, "difference": m_t - m_c,
                    "ci_low": ci.low, "ci_high": ci.high, "relative": (m_t - m_c) / m_c,
                    "relative_low": ci.low / m_c, "relative_high": ci.high / m_c, "p_value": welch.pvalue},
    }


def close(got: dict, want: dict, where: str) -> None:
    for key, value in want.items():
        assert isinstance(got[key], (int, float)) and not isinstance(got[key], bool), (where, key, got[key])
        assert math.isclose(got[key], float(value), rel_tol=TOL, abs_tol=TOL), (where, key, got[key], value)


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_every_figure_equals_scipy_on_the_same_rows(engine, example, request):
    dsn = request.getfixturevalue("pg_retail") if engine == "postgres" else None
    args = ["lift", "spring_loyalty", "-p", str(EXAMPLE), "--format", "json"]
    code, out = run(args + (["--engine", "postgres", "--dsn", dsn] if dsn else []))
    assert code == 0, out
    got = json.loads(out)
    want = expected(example, hand_metrics(engine, example, dsn))
    close(got["srm"], want["srm"], "srm")
    assert got["srm"]["testable"] and got["metrics"]["buyers"]["kind"] == "proportion"
    assert got["metrics"]["revenue"]["kind"] == "mean"
    for metric in ("buyers", "revenue"):
        close(got["metrics"][metric], want[metric], metric)
    assert got["overlap"] == 0 and got["assigned_at"] == A and got["until"] == U


def test_html_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "lift.html"
    code, out = run(["lift", "spring_loyalty", "-p", str(EXAMPLE), "--format", "html", "--out", str(page)])
    assert code == 0, out
    text = page.read_text(encoding="utf-8")
    assert "<script src" not in text and "<link" not in text  # self-contained: plotly.js is inside
    result = headless("--dump-dom", page.as_uri(), user_data=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    # plotly draws each chart into an <svg class="main-svg">: one per metric, each with its
    # two bars and the difference's point with its error bar (the interval)
    for div in ("segc-lift-0", "segc-lift-1"):
        start = dom.index(f'id="{div}"')
        chart = dom[start:start + 200_000]
        assert 'class="main-svg"' in chart and 'class="trace bars"' in chart, div
        assert 'class="trace scatter' in chart and 'class="errorbar"' in chart, div
    assert dom.count('class="trace bars"') == 2 and dom.count('class="errorbar"') == 2


def test_csv_and_html(tmp_path):
    code, out = run(["lift", "spring_loyalty", "-p", str(EXAMPLE), "--format", "csv"])
    assert code == 0 and out.splitlines()[0].startswith("experiment,metric,kind,"), out
    assert [line.split(",")[1] for line in out.splitlines()[1:]] == ["buyers", "revenue"]
    page = tmp_path / "lift.html"
    code, out = run(["lift", "spring_loyalty", "-p", str(EXAMPLE), "--format", "html", "--out", str(page)])
    assert code == 0, out
    text = page.read_text(encoding="utf-8")
    assert text.count('class="chart"') == 2 and "segc-lift-0" in text and "segc-lift-1" in text


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "build", "data"))
    (root / "data").symlink_to(EXAMPLE / "data")
    return root


def with_experiment(root, **changes):
    config = yaml.safe_load((root / "segc.yml").read_text(encoding="utf-8"))
    config["allow_outside_paths"] = True
    e = config["experiments"]["spring_loyalty"]
    for key, value in changes.items():
        if value is None:
            e.pop(key, None)
        else:
            e[key] = value
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return run(["lift", "spring_loyalty", "-p", str(root), "--format", "json"])


def test_unknown_arm_is_e212_at_its_place(project):
    code, out = with_experiment(project, target="loyal_targt")
    assert code == 1 and "E212" in out and "did you mean `loyal_target`?" in out, out
    assert "segc.yml:" in out and "loyal_targt" in out


def test_until_not_after_assigned_at_is_e975(project):
    code, out = with_experiment(project, until=A)
    assert code == 1 and "E975" in out and "segc.yml:" in out, out


def test_sensitive_metric_without_allowance_is_e501(project):
    config = yaml.safe_load((project / "segc.yml").read_text(encoding="utf-8"))
    config["features"]["religion"]["sensitive"] = True
    (project / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    code, out = with_experiment(project, metrics={"m": 'religion = "x"'})
    assert code == 1 and "E501" in out and "experiment `spring_loyalty`" in out, out
    code, out = with_experiment(project, metrics={"m": 'religion = "x"'}, allow_sensitive="consent")
    assert code == 0, out


def test_a_string_metric_is_e976(project):
    code, out = with_experiment(project, metrics={"m": "country"})
    assert code == 1 and "E976" in out, out


def test_during_experiment_outside_an_experiment_is_e310(project):
    (project / "segments" / "zz.seg").write_text("segment zz = exists(orders during experiment)\n", encoding="utf-8")
    code, out = run(["check", "-p", str(project)])
    assert code == 1 and "E310" in out and "zz.seg:1:" in out, out


def test_unknown_experiment_is_e977():
    code, out = run(["lift", "spring_loyaltty", "-p", str(EXAMPLE)])
    assert code == 1 and "E977" in out and "did you mean `spring_loyalty`?" in out, out


def _duplicate_customers(root, keys=(972, 13042, 1074)) -> None:
    """Rewrite customers.parquet with `keys` twice (a bad upstream export)."""
    import duckdb

    path = root / "data" / "customers.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_parquet('{path}') UNION ALL SELECT * FROM read_parquet('{path}') "
        f"WHERE customer_id IN ({', '.join(map(str, keys))})) TO '{path}.new' (FORMAT parquet)")
    os.replace(f"{path}.new", path)


def test_lift_refuses_duplicate_keys_e715(tmp_path):
    """A key twice in the population counted a customer 4 times in an arm (attack11 L4):
    lift refuses it as every other command does, point-in-time and frozen from a snapshot."""
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "build", ".segc", "tests"))
    segc.load_project(root).snapshot(["loyal_target", "loyal_control"], as_of=A)  # taken on clean data
    _duplicate_customers(root)
    code, out = run(["lift", "spring_loyalty", "-p", str(root)])  # frozen: the metrics at until
    assert code == 1 and "error[E715]: the base `customers` has 3 rows whose key `customer_id`" in out, out  # what lift reads
    assert "972" not in out and "13042" not in out
    shutil.rmtree(root / ".segc")
    code, out = run(["lift", "spring_loyalty", "-p", str(root), "--format", "json"])  # point-in-time
    assert code == 1 and "E715" in out, out


def test_lift_refuses_a_key_repeated_through_a_row_outside_the_population(tmp_path):
    """The metrics (at until) read every row of the base, whatever the population says:
    a key repeated only through a test account (population `not is_test`) passed the
    population's E715 check and counted that customer twice (fixH). Lift checks the base
    it reads (preview.require_unique_keys, whole_base), frozen and point-in-time."""
    import duckdb

    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("generate.py", "build", ".segc", "tests"))
    project = segc.load_project(root)
    target = project.members("loyal_target", as_of=A)
    keys = [k for k in target if k > 10000][:2]
    project.snapshot(["loyal_target", "loyal_control"], as_of=A)
    path = root / "data" / "customers.parquet"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_parquet('{path}') UNION ALL SELECT * REPLACE (true AS is_test) FROM "
        f"read_parquet('{path}') WHERE customer_id IN ({keys[0]}, {keys[1]})) TO '{path}.new' (FORMAT parquet)")
    os.replace(f"{path}.new", path)
    counted = segc.load_project(root).count(["loyal_target"], as_of=A)  # the population has no repeat: counted
    assert [s.count for s in counted.segments] == [len(target)]
    for frozen in (True, False):
        if not frozen:
            shutil.rmtree(root / ".segc")
        code, out = run(["lift", "spring_loyalty", "-p", str(root)])
        assert code == 1 and "error[E715]: the base `customers` has 2 rows whose key `customer_id`" in out, out
        assert str(keys[0]) not in out and str(keys[1]) not in out and "Traceback" not in out


TINY = """  tiny:
    target: tgt_rest
    control: ctl_one
    assigned_at: 2024-03-01
    until: 2024-05-01
    metrics:
      buyers: 'exists(orders where status = "completed" during experiment)'
      revenue: 'sum(orders.amount where status = "completed" during experiment)'
      basket: 'avg(orders.amount where status = "completed" during experiment)'
"""


def test_an_arm_under_min_group_has_its_figures_withheld_in_every_format(project, tmp_path):
    """A one-member control showed that customer's revenue and average basket (attack11
    L1): under min_group (preview.too_few, profile's rule) a metric's figures are withheld
    (— in text and HTML, null and `withheld: true` in JSON, empty in CSV), with a note."""
    seg = project / "segments" / "experiments.seg"
    seg.write_text(seg.read_text() + "\nsegment ctl_one = loyal_big_basket and purchases_365d >= 58\n"
                   "segment tgt_rest = loyal_big_basket and not ctl_one\n")
    (project / "segc.yml").write_text("allow_outside_paths: true\n" + (project / "segc.yml").read_text() + TINY)
    secrets = ("1516.3", "1,516", "75.8", "75.82")  # customer 972's revenue and basket over the experiment
    code, out = run(["lift", "tiny", "-p", str(project), "--format", "json"])
    assert code == 0, out
    r = json.loads(out)
    assert r["srm"]["n_control"] == 1
    for m in r["metrics"].values():
        assert m["withheld"] is True and m["n_control"] == 1
        assert [m[f] for f in ("target", "control", "difference", "ci_low", "p_value")] == [None] * 5
    assert r["notes"] and "min_group" in r["notes"][0]
    code, text = run(["lift", "tiny", "-p", str(project)])
    assert code == 0 and "note: fewer people than min_group" in text and "│      — │       — │" in text, text
    code, csv_out = run(["lift", "tiny", "-p", str(project), "--format", "csv"])
    assert code == 0 and csv_out.splitlines()[0].endswith(",withheld")
    assert all(line.endswith(",,,,,,,,,,True") for line in csv_out.splitlines()[1:]), csv_out
    page = tmp_path / "tiny.html"
    code, out = run(["lift", "tiny", "-p", str(project), "--format", "html", "--out", str(page)])
    html = page.read_text(encoding="utf-8")
    assert code == 0 and '<p class="note">fewer people than min_group' in html and "<td>—</td>" in html
    for s in secrets:
        assert s not in out + text + csv_out + json.dumps(r), s
    assert "1,516.38" not in html and "1516.379" not in html
    code, out = run(["lift", "spring_loyalty", "-p", str(project), "--format", "json"])  # big arms: shown
    assert not any(m["withheld"] for m in json.loads(out)["metrics"].values()) and not json.loads(out)["notes"]


def test_an_experiment_name_is_an_identifier_e005(project):
    """segc.yml accepted any string as an experiment name, and lift printed it raw: an
    escape sequence and a line break reached the terminal (attack11 L2)."""
    config = yaml.safe_load((project / "segc.yml").read_text(encoding="utf-8"))
    config["allow_outside_paths"] = True
    bad = '=HYPERLINK("http://x")\n\x1b[31m'
    config["experiments"][bad] = dict(config["experiments"]["spring_loyalty"])
    (project / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    for args in (["check", str(project)], ["lift", bad, "-p", str(project)]):
        code, out = run(args)
        assert code == 1 and "error[E005]" in out and "cannot be an experiment name" in out, out
        assert "\x1b" not in out and "\\x0a\\x1b[31m" in out and "segc.yml:" in out and "hint: " in out


def test_a_metric_name_is_an_identifier_e005(project):
    """A metric's name is printed as a column of lift's outputs, as an experiment's name:
    the same rule (it was only escaped in the text table)."""
    config = yaml.safe_load((project / "segc.yml").read_text(encoding="utf-8"))
    config["allow_outside_paths"] = True
    metrics = config["experiments"]["spring_loyalty"]["metrics"]
    bad = 'x,y\n\x1b[31m=1+1'
    metrics[bad] = next(iter(metrics.values()))
    (project / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    for args in (["check", str(project)], ["lift", "spring_loyalty", "-p", str(project), "--format", "csv"]):
        code, out = run(args)
        assert code == 1 and "error[E005]" in out and "cannot be a metric name" in out, out
        assert "\x1b" not in out and "segc.yml:" in out and "hint: " in out


def test_the_lift_title_is_printed_on_one_line(capsys):
    from segc.cli.printers.lift import print_lift

    r = {"experiment": "a\nb\x1b[31m", "target": "t", "control": "c", "assigned_at": A, "until": U,
         "membership": "m", "srm": {"n_target": 1, "n_control": 2, "testable": False}, "metrics": {},
         "warnings": [], "notes": []}
    print_lift(r, "text")
    out = capsys.readouterr().out
    assert "\x1b" not in out and "a\\x0ab\\x1b[31m: t (1) vs c (2)" in out, out
