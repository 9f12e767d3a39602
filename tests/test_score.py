"""Scores (segc.yml `scores:`, `segc score fit/show`): the compiled score equals
scikit-learn's predict_proba on DuckDB, SQLite and PostgreSQL; the fit and its validation
figures agree with an independent computation; the fit is deterministic; bad scores are
diagnostics, never tracebacks.

The project here is small and made in Python, so that every feature, target and score is
computed a second time in this file, without segc."""
from __future__ import annotations

import datetime as dt
import json
import math
import random
import shutil

import duckdb
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.project import load_project
from segc.backend.render import render
from segc.apps.score import deciles, fit_score, score_query
from segc.schema.score_model import model_text, read_model, write_model
from tests.conftest import EXAMPLE, table_columns, write_project
from tests.engines import ENGINES

AS_OF = dt.date(2024, 6, 1)
TRAIN, VALIDATE = dt.date(2024, 1, 1), dt.date(2024, 3, 1)
HORIZON = dt.timedelta(days=30)
FEATURES = ["visits", "tenure", "vip", "orders_30d", "avg_amount"]

CONFIG = {
    "name": "scored",
    "base": "customers",
    "key": "customer_id",
    "as_of": AS_OF.isoformat(),
    "population": "not is_test",
    "sources": {
        "customers": {"table": "shop.customers", "path": "data/customers.parquet"},
        "orders": {"table": "shop.orders", "path": "data/orders.parquet", "key": "customer_id",
                   "time": "ordered_at", "columns": {"amount": "float"}},
    },
    "features": {
        "visits": {"type": "int"},
        "tenure": {"type": "float"},
        "vip": {"type": "bool"},
        "is_test": {"type": "bool", "nullable": False},
        "region": {"type": "string"},
        "religion": {"type": "string", "sensitive": True},
        "orders_30d": {"type": "int", "from": "orders", "agg": "count", "window": "30 days"},
        "avg_amount": {"type": "float", "from": "orders", "agg": "avg", "column": "amount"},
    },
    "scores": {
        "buyer": {
            "description": "An order in the 30 days after the as-of.",
            "target": "count(orders during last 30 days) >= 1",
            "horizon": "30 days",
            "features": FEATURES,
            "train_as_of": TRAIN.isoformat(),
            "validate_as_of": VALIDATE.isoformat(),
        },
    },
}


def _data(n: int = 400, seed: int = 7):
    """Customers with missing values, and orders whose rate depends on their features."""
    rnd = random.Random(seed)
    customers, orders = [], []
    start = dt.datetime(2023, 1, 1)
    for k in range(1, n + 1):
        visits = rnd.randint(0, 20)
        tenure = round(rnd.uniform(0, 10), 3)
        vip = rnd.random() < 0.3
        customers.append({
            "customer_id": k,
            "visits": None if rnd.random() < 0.15 else visits,
            "tenure": None if rnd.random() < 0.1 else tenure,
            "vip": None if rnd.random() < 0.1 else vip,
            "is_test": rnd.random() < 0.03,
            "region": rnd.choice(["north", "south"]),
            "religion": None,
        })
        rate = 0.15 + 0.05 * visits + (0.8 if vip else 0.0) + 0.02 * tenure  # orders per 30 days
        if rnd.random() < 0.25:
            rate *= 0.05  # some customers almost never buy: rows without any order
        t = start
        while True:
            t += dt.timedelta(days=rnd.expovariate(rate / 30))
            if t >= dt.datetime(2024, 7, 31):
                break
            orders.append({"customer_id": k, "ordered_at": t.replace(microsecond=0),
                           "amount": round(rnd.uniform(5, 200), 2)})
    return customers, orders


CUSTOMERS, ORDERS = _data()


def _tables(config=CONFIG):
    cols = table_columns(config)
    return {"shop.customers": (cols["shop.customers"], CUSTOMERS), "shop.orders": (cols["shop.orders"], ORDERS)}


def _write_data(root):
    (root / "data").mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute("CREATE TABLE c (customer_id BIGINT, visits BIGINT, tenure DOUBLE, vip BOOLEAN, "
                "is_test BOOLEAN, region VARCHAR, religion VARCHAR)")
    con.executemany("INSERT INTO c VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [tuple(c[k] for k in ("customer_id", "visits", "tenure", "vip", "is_test", "region",
                                          "religion")) for c in CUSTOMERS])
    con.execute("CREATE TABLE o (customer_id BIGINT, ordered_at TIMESTAMP, amount DOUBLE)")
    con.executemany("INSERT INTO o VALUES (?, ?, ?)",
                    [(o["customer_id"], o["ordered_at"], o["amount"]) for o in ORDERS])
    con.execute(f"COPY c TO '{root / 'data' / 'customers.parquet'}' (FORMAT parquet)")
    con.execute(f"COPY o TO '{root / 'data' / 'orders.parquet'}' (FORMAT parquet)")
    con.close()


def _project(root, config=CONFIG, segments: str = ""):
    write_project(root, config, segments)
    _write_data(root)
    return root


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


# ---- the same numbers, computed without segc ----------------------------------------------

def _features_at(as_of: dt.date):
    """Keys (population, by key) and feature rows (None = missing) at the as-of."""
    at = dt.datetime.combine(as_of, dt.time())
    by_customer: dict[int, list] = {}
    for o in ORDERS:
        by_customer.setdefault(o["customer_id"], []).append(o)
    keys, rows = [], []
    for c in CUSTOMERS:
        if c["is_test"]:
            continue
        past = [o for o in by_customer.get(c["customer_id"], []) if o["ordered_at"] < at]
        recent = [o for o in past if o["ordered_at"] >= at - dt.timedelta(days=30)]
        amounts = [o["amount"] for o in past]
        keys.append(c["customer_id"])
        rows.append([c["visits"], c["tenure"], None if c["vip"] is None else float(c["vip"]), len(recent),
                     sum(amounts) / len(amounts) if amounts else None])
    return keys, rows


def _targets(keys, as_of: dt.date):
    lo = dt.datetime.combine(as_of, dt.time())
    hi = lo + HORIZON
    buyers = {o["customer_id"] for o in ORDERS if lo <= o["ordered_at"] < hi}
    return np.array([int(k in buyers) for k in keys])


def _matrix(rows):
    return np.array([[np.nan if v is None else float(v) for v in r] for r in rows], dtype=float)


@pytest.fixture(scope="module")
def reference():
    """scikit-learn's pipeline fitted here on the rows computed here."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    keys, rows = _features_at(TRAIN)
    x, y = _matrix(rows), _targets(keys, TRAIN)
    model = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                          LogisticRegression(C=1.0, solver="lbfgs", max_iter=1000))
    model.fit(x, y)
    return model


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """The test project, fitted with `segc score fit buyer`."""
    root = _project(tmp_path_factory.mktemp("score") / "proj")
    result = _cli("score", "fit", "buyer", "-p", root)
    assert result.exit_code == 0, result.output
    return root


def _auc_by_ranks(y, p) -> float:
    """Mann-Whitney: the chance that a positive outscores a negative (ties count half),
    from average ranks."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    ranks = [0.0] * len(p)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and p[order[j + 1]] == p[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    pos = [r for r, t in zip(ranks, y) if t]
    n_pos, n_neg = len(pos), len(y) - len(pos)
    return (sum(pos) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


# ---- the compiled score ---------------------------------------------------------------------

def test_the_data_has_missing_values_and_both_outcomes():
    keys, rows = _features_at(AS_OF)
    for i, name in enumerate(FEATURES):
        if name != "orders_30d":  # a count is never missing
            assert any(r[i] is None for r in rows), name
    y = _targets(*_features_at(TRAIN)[:1], TRAIN)
    assert 0.2 < y.mean() < 0.8


def test_compiled_score_equals_sklearn_predict_proba_on_every_engine(fitted, reference, open_engines):
    keys, rows = _features_at(AS_OF)
    expected = dict(zip(keys, reference.predict_proba(_matrix(rows))[:, 1]))
    project = load_project(fitted)
    for engine in open_engines(ENGINES):
        engine.load(_tables())
        sql = render(score_query(project, "buyer"), engine.name)
        got = engine.query(sql)
        assert [k for k, _ in got] == keys, engine.name
        worst = max(abs(float(p) - expected[k]) for k, p in got)
        assert worst <= 1e-9, f"{engine.name}: the score differs from predict_proba by {worst}"


def test_extreme_scores_do_not_overflow_on_any_engine(fitted, tmp_path, open_engines):
    """z far beyond +-709 (where EXP overflows a double; PostgreSQL raises then): the clamp
    keeps every engine running, and the score within 1e-9 of the exact logistic."""
    import dataclasses

    root = tmp_path / "extreme"
    shutil.copytree(fitted, root)
    model = read_model(root / "models" / "buyer.yml", "buyer.yml")
    big = dataclasses.replace(model, features=tuple(dataclasses.replace(f, coefficient=f.coefficient * 2000)
                                                    for f in model.features))
    write_model(root, big)
    project = load_project(root)
    keys, rows = _features_at(AS_OF)
    x = _matrix(rows)
    z = np.full(len(x), big.intercept)
    for i, f in enumerate(big.features):
        z += f.coefficient * ((np.where(np.isnan(x[:, i]), f.impute, x[:, i]) - f.mean) / f.scale)
    assert z.max() > 1000 and z.min() < -1000
    with np.errstate(over="ignore"):
        expected = dict(zip(keys, 1 / (1 + np.exp(-z))))
    for engine in open_engines(ENGINES):
        engine.load(_tables())
        got = engine.query(render(score_query(project, "buyer"), engine.name))
        assert max(abs(float(p) - expected[k]) for k, p in got) <= 1e-9, engine.name


def test_the_model_is_sklearns_fit_on_the_same_rows(fitted, reference):
    model = read_model(fitted / "models" / "buyer.yml", "buyer.yml")
    imputer, scaler, logit = (step for _name, step in reference.steps)
    assert [f.name for f in model.features] == FEATURES
    for i, f in enumerate(model.features):
        assert f.impute == pytest.approx(imputer.statistics_[i], rel=1e-12)
        assert f.mean == pytest.approx(scaler.mean_[i], rel=1e-9)
        assert f.scale == pytest.approx(scaler.scale_[i], rel=1e-9)
        assert f.coefficient == pytest.approx(logit.coef_[0][i], rel=1e-6, abs=1e-9)
    assert model.intercept == pytest.approx(logit.intercept_[0], rel=1e-6)
    assert model.settings["converged"] is True


def test_validation_figures_against_an_independent_computation(fitted, reference):
    model = read_model(fitted / "models" / "buyer.yml", "buyer.yml")
    keys, rows = _features_at(VALIDATE)
    y = _targets(keys, VALIDATE)
    p = reference.predict_proba(_matrix(rows))[:, 1]
    v = model.validation
    assert (v.as_of, v.target_at) == (VALIDATE, VALIDATE + HORIZON)
    assert (v.rows, v.positives) == (len(keys), int(y.sum()))
    assert v.auc == pytest.approx(_auc_by_ranks(list(y), list(p)), abs=1e-9)
    assert model.training.auc == pytest.approx(
        _auc_by_ranks(list(_targets(*_features_at(TRAIN)[:1], TRAIN)),
                      list(reference.predict_proba(_matrix(_features_at(TRAIN)[1]))[:, 1])), abs=1e-9)
    # deciles: rows by descending score cut in ten; each decile's observed rate and lift
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))
    n = len(order)
    bounds = [round(n * d / 10) for d in range(11)]
    assert len(v.deciles) == 10
    assert sum(d.rows for d in v.deciles) == n and sum(d.positives for d in v.deciles) == y.sum()
    base = y.mean()
    for d in v.deciles:
        part = order[sum(x.rows for x in v.deciles[:d.decile - 1]):][:d.rows]
        assert abs(d.rows - (bounds[d.decile] - bounds[d.decile - 1])) <= 1
        assert d.positives == sum(y[i] for i in part)
        assert d.observed == pytest.approx(d.positives / d.rows)
        assert d.predicted == pytest.approx(sum(p[i] for i in part) / d.rows, abs=1e-9)
        assert d.lift == pytest.approx(d.observed / base)
    # a useful model: the top decile buys more often than the bottom one
    assert v.deciles[0].observed > v.deciles[-1].observed


def test_deciles_of_tiny_samples():
    ds = deciles([1, 0, 1], [0.9, 0.1, 0.5])
    assert [d.rows for d in ds] == [1, 1, 1]
    assert [d.positives for d in ds] == [1, 1, 0]


def test_fit_is_deterministic_and_the_file_round_trips(fitted, tmp_path):
    first = (fitted / "models" / "buyer.yml").read_bytes()
    root = tmp_path / "again"
    shutil.copytree(fitted, root)
    assert _cli("score", "fit", "buyer", "-p", root).exit_code == 0
    assert (root / "models" / "buyer.yml").read_bytes() == first
    model = read_model(root / "models" / "buyer.yml", "buyer.yml")
    # floats are written with repr precision: reading and writing again changes nothing
    assert model_text(model).encode() == first
    leftovers = [p.name for p in (root / "models").iterdir() if p.name != "buyer.yml"]
    assert not leftovers, leftovers  # written atomically: no temp file left


def test_top_share_and_threshold_by_score_on_every_engine(fitted, reference, open_engines):
    keys, rows = _features_at(AS_OF)
    p = dict(zip(keys, reference.predict_proba(_matrix(rows))[:, 1]))
    values = sorted(p.values())
    # top 20%: the share of present values >= mine is at most 20%
    top = {k for k, v in p.items() if sum(x >= v for x in values) * 5 <= len(values)}
    over = {k for k, v in p.items() if v > 0.5}
    assert 0 < len(top) < len(keys) and 0 < len(over) < len(keys)
    project = load_project(fitted)
    for engine in open_engines(ENGINES):
        engine.load(_tables())
        for expr, want in (("top 20% by buyer", top), ("buyer > 0.5", over),
                           ("not buyer > 0.5", set(keys) - over)):
            got = {r[0] for r in engine.query(project.compile_expression(expr, dialect=engine.name))}
            assert got == want, f"{expr} on {engine.name}"


def test_segments_use_the_score_and_count_on_duckdb(fitted, reference, tmp_path):
    root = tmp_path / "seg"
    shutil.copytree(fitted, root)
    (root / "segments" / "main.seg").write_text("segment likely = buyer >= 0.5 and visits > 3\n")
    keys, rows = _features_at(AS_OF)
    p = reference.predict_proba(_matrix(rows))[:, 1]
    want = sum(1 for r, v in zip(rows, p) if v >= 0.5 and r[0] is not None and r[0] > 3)
    result = _cli("count", "-p", root, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["segments"] == [
        {"name": "likely", "count": want, "share": want / len(keys)}]


def test_score_on_postgres_engine_fits_the_same_model(fitted, pg_dsn, tmp_path):
    """`--engine postgres`: the features and targets read there give the same model."""
    from psycopg.conninfo import make_conninfo

    from tests.engines import open_engine

    with open_engine("postgres", pg_dsn) as engine:
        engine.load(_tables())
        dsn = make_conninfo(pg_dsn, dbname=engine.database)
        root = tmp_path / "pg"
        shutil.copytree(fitted, root)
        result = _cli("score", "fit", "buyer", "-p", root, "--engine", "postgres", "--dsn", dsn)
        assert result.exit_code == 0, result.output
    a = read_model(fitted / "models" / "buyer.yml", "a")
    b = read_model(root / "models" / "buyer.yml", "b")
    assert (a.training.rows, a.training.positives) == (b.training.rows, b.training.positives)
    assert b.intercept == pytest.approx(a.intercept, rel=1e-9)
    for fa, fb in zip(a.features, b.features):
        assert fb.coefficient == pytest.approx(fa.coefficient, rel=1e-7, abs=1e-12)


# ---- command line -----------------------------------------------------------------------------

def test_show_prints_coefficients_and_validation(fitted):
    result = _cli("score", "show", "buyer", "-p", fitted)
    assert result.exit_code == 0, result.output
    for word in FEATURES + ["validation", "AUC", "lift"]:
        assert word in result.stdout
    as_json = _cli("score", "show", "buyer", "-p", fitted, "--format", "json")
    body = json.loads(as_json.stdout)
    model = read_model(fitted / "models" / "buyer.yml", "buyer.yml")
    assert body["validation"]["auc"] == model.validation.auc
    assert body["current"] is True
    assert [f["name"] for f in body["features"]] == FEATURES


def test_fit_json_is_the_model(tmp_path):
    root = _project(tmp_path / "j")
    result = _cli("score", "fit", "buyer", "-p", root, "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    model = read_model(root / "models" / "buyer.yml", "buyer.yml")
    assert body["intercept"] == model.intercept and body["validation"]["rows"] == model.validation.rows


def test_changed_score_warns_until_refit(fitted, tmp_path):
    root = tmp_path / "stale"
    shutil.copytree(fitted, root)
    config = yaml.safe_load((root / "segc.yml").read_text())
    config["scores"]["buyer"]["C"] = 0.5
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    check = _cli("check", root)
    assert check.exit_code == 0
    assert "W930" in check.stderr and "segc score fit buyer" in check.stderr
    assert json.loads(_cli("score", "show", "buyer", "-p", root, "--format", "json").stdout)["current"] is False
    assert _cli("score", "fit", "buyer", "-p", root).exit_code == 0
    assert "W930" not in _cli("check", root).stderr
    config["scores"]["buyer"]["description"] = "reworded: no number changes"
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert "W930" not in _cli("check", root).stderr
    # nor does silencing a warning about an input feature (the example's basket_avg does)
    config["features"]["orders_30d"]["ignore_warnings"] = ["W742"]
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert "W930" not in _cli("check", root).stderr
    # a segment's feature definition the model depends on counts too
    config["features"]["orders_30d"]["window"] = "60 days"
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert "W930" in _cli("check", root).stderr



def test_a_model_fitted_before_ignore_warnings_left_the_hash_is_current(fitted, tmp_path):
    """A model file written by a segc whose hash still read `ignore_warnings:` (a feature it
    reads silenced a warning then as now): not stale (W930), `current` in score show."""
    import re

    from segc.schema.score_model import definition_hash

    root = tmp_path / "legacy"
    shutil.copytree(fitted, root)
    config = yaml.safe_load((root / "segc.yml").read_text())
    config["features"]["orders_30d"]["ignore_warnings"] = ["W742"]
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    project = segc.load_project(root)
    model = read_model(root / "models" / "buyer.yml", "buyer.yml")
    old = definition_hash(project.schema, "buyer", model.training.as_of, model.validation.as_of, left_out=("description",))
    assert old != model.definition
    path = root / "models" / "buyer.yml"
    path.write_text(re.sub(r"(?m)^definition: .*$", f"definition: {old}", path.read_text()))
    assert "W930" not in _cli("check", root).stderr
    assert json.loads(_cli("score", "show", "buyer", "-p", root, "--format", "json").stdout)["current"] is True
    config["features"]["orders_30d"]["window"] = "60 days"  # a real change still counts
    (root / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    assert "W930" in _cli("check", root).stderr

def test_fit_as_of_override_is_recorded(fitted, tmp_path):
    root = tmp_path / "override"
    shutil.copytree(fitted, root)
    result = _cli("score", "fit", "buyer", "-p", root, "--as-of", "2023-12-01", "--validate-as-of", "2024-02-01")
    assert result.exit_code == 0, result.output
    model = read_model(root / "models" / "buyer.yml", "buyer.yml")
    assert (model.training.as_of, model.validation.as_of) == (dt.date(2023, 12, 1), dt.date(2024, 2, 1))
    assert "W930" in _cli("check", root).stderr  # not the dates of segc.yml


def _failing(result, code: str):
    assert result.exit_code == 1, result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    assert f"[{code}]" in result.output, result.output
    return result.output


def _with_score(tmp_path, name="bad", segments="", **changes):
    config = json.loads(json.dumps(CONFIG))
    config["scores"]["buyer"].update(changes)
    return _project(tmp_path / name, config, segments)


def test_error_one_class_only(tmp_path):
    root = _with_score(tmp_path, target="count(orders during last 30 days) >= 1000")
    out = _failing(_cli("score", "fit", "buyer", "-p", root), "E936")
    assert "no customer" in out and "segc.yml:" in out


def test_error_no_rows(tmp_path):
    config = json.loads(json.dumps(CONFIG))
    config["population"] = "not is_test and visits > 1000"
    root = _project(tmp_path / "empty", config)
    _failing(_cli("score", "fit", "buyer", "-p", root), "E935")


def test_error_string_feature(tmp_path):
    root = _with_score(tmp_path, features=["visits", "region"])
    out = _failing(_cli("score", "fit", "buyer", "-p", root), "E932")
    assert "`region` is string" in out and "segc.yml:" in out


def test_error_unknown_feature_suggests(tmp_path):
    root = _with_score(tmp_path, features=["visits", "tenur"])
    out = _failing(_cli("score", "fit", "buyer", "-p", root), "E931")
    assert "did you mean `tenure`?" in out


def test_error_sensitive_feature_without_allowance(tmp_path):
    config = json.loads(json.dumps(CONFIG))
    config["features"]["vip"]["sensitive"] = True
    config["scores"]["buyer"]["features"] = ["visits", "vip"]
    root = _project(tmp_path / "sensitive", config)
    _failing(_cli("score", "fit", "buyer", "-p", root), "E933")
    # with a reason, the score is allowed; a segment using it needs its own allowance
    config["scores"]["buyer"]["allow_sensitive"] = "test: consent given"
    write_project(root, config, "segment s = buyer > 0.5\n")
    assert _cli("score", "fit", "buyer", "-p", root).exit_code == 0
    _failing(_cli("check", root), "E501")
    write_project(root, config, '@allow_sensitive("test: consent given")\nsegment s = buyer > 0.5\n')
    assert _cli("check", root).exit_code == 0


def test_error_unfitted_score_used_in_a_segment(tmp_path):
    root = _with_score(tmp_path, segments="segment likely = buyer > 0.5\n")
    out = _failing(_cli("check", root), "E937")
    assert "segc score fit buyer" in out and "main.seg:1:" in out
    # the fit itself does not need the segments waiting for it
    assert _cli("score", "fit", "buyer", "-p", root).exit_code == 0
    assert _cli("check", root).exit_code == 0


def test_error_score_not_fitted_for_show_and_unknown_score(tmp_path):
    root = _with_score(tmp_path)
    assert "segc score fit buyer" in _failing(_cli("score", "show", "buyer", "-p", root), "E937")
    assert "did you mean `buyer`?" in _failing(_cli("score", "fit", "buyr", "-p", root), "E930")


def test_error_overlapping_periods(tmp_path):
    root = _with_score(tmp_path, validate_as_of="2024-01-15")
    out = _failing(_cli("score", "fit", "buyer", "-p", root), "E934")
    assert "2024-01-31" in out
    ok = _with_score(tmp_path, name="ok")
    _failing(_cli("score", "fit", "buyer", "-p", ok, "--validate-as-of", "2024-01-10"), "E934")


def test_error_score_in_population_or_target(tmp_path):
    config = json.loads(json.dumps(CONFIG))
    config["population"] = "not is_test and buyer > 0.1"
    root = _project(tmp_path / "pop", config)
    _failing(_cli("score", "fit", "buyer", "-p", root), "E939")
    root = _with_score(tmp_path, name="target", target="buyer > 0.5")
    _failing(_cli("score", "fit", "buyer", "-p", root), "E939")


def test_error_target_is_checked_with_its_position(tmp_path):
    root = _with_score(tmp_path, target="count(orders during last 30 days) >= 1 and visitz > 2")
    out = _failing(_cli("check", root), "E201")
    assert "segc.yml:" in out and "visits" in out


def test_error_damaged_model_file(fitted, tmp_path):
    root = tmp_path / "damaged"
    shutil.copytree(fitted, root)
    (root / "segments" / "main.seg").write_text("segment likely = buyer > 0.5\n")
    (root / "models" / "buyer.yml").write_text("score: buyer\nfeatures: [1, 2\n")
    out = _failing(_cli("check", root), "E938")
    assert "segc score fit buyer" in out
    assert _cli("score", "fit", "buyer", "-p", root).exit_code == 0  # refitting repairs it
    assert _cli("check", root).exit_code == 0


def test_error_score_named_like_a_segment_or_feature(tmp_path):
    root = _with_score(tmp_path, segments="segment buyer = visits > 1\n")
    _failing(_cli("check", root), "E939")
    config = json.loads(json.dumps(CONFIG))
    config["scores"]["visits"] = config["scores"].pop("buyer")
    root = _project(tmp_path / "feat", config)
    _failing(_cli("check", root), "E939")


def test_bad_score_config_key_is_a_diagnostic(tmp_path):
    root = _with_score(tmp_path, horizon="soon")
    _failing(_cli("check", root), "E004")
    root = _with_score(tmp_path, name="typo", featurs=["visits"])
    assert "did you mean `features`?" in _failing(_cli("check", root), "E004")


# ---- the example ------------------------------------------------------------------------------

def test_example_score_is_fitted_current_and_validated():
    project = load_project(EXAMPLE)
    assert not [w for w in project.warnings if w.code == "W930"], "refit: segc score fit potential -p examples/retail"
    result = _cli("score", "show", "potential", "-p", EXAMPLE, "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["current"] is True
    assert 0.5 < body["validation"]["auc"] <= 1.0
    assert body["validation"]["as_of"] >= body["training"]["target_at"]
    counts = {s.name: s for s in project.count(["high_potential"]).segments}
    assert counts["high_potential"].share == pytest.approx(0.2, abs=0.01)


def test_example_refit_gives_the_committed_model(tmp_path):
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("build"))
    committed = read_model(EXAMPLE / "models" / "potential.yml", "committed")
    model = fit_score(load_project(root, segments=False), "potential")
    assert model.definition == committed.definition
    assert model.validation.auc == pytest.approx(committed.validation.auc, abs=1e-9)
    for a, b in zip(model.features, committed.features):
        assert a.coefficient == pytest.approx(b.coefficient, rel=1e-6, abs=1e-9)


def test_api_errors_are_segc_errors(fitted):
    project = load_project(fitted)
    with pytest.raises(segc.SegcError):
        score_query(project, "nope")
    with pytest.raises(segc.SegcError):
        project.compile_expression("buyer")  # a number, not a condition
    assert math.isfinite(read_model(fitted / "models" / "buyer.yml", "x").intercept)
    write_model(fitted, read_model(fitted / "models" / "buyer.yml", "x"))  # rewriting is idempotent


@pytest.mark.parametrize("edit", [
    lambda m: m.replace("intercept: ", "intercept: .nan  # ", 1),
    lambda m: m.replace("scale: ", "scale: 0.0  # ", 1),
    lambda m: m.replace("score: buyer", "score: other", 1),
    lambda m: m.replace("- name: visits", "- name: nosuchfeature", 1),
])
def test_hand_edited_model_files_are_diagnostics(fitted, tmp_path, edit):
    root = tmp_path / "edited"
    shutil.copytree(fitted, root)
    (root / "segments" / "main.seg").write_text("segment likely = buyer > 0.5\n")
    path = root / "models" / "buyer.yml"
    path.write_text(edit(path.read_text()))
    _failing(_cli("check", root), "E938")


def test_no_missing_value_warning_for_a_scores_inputs():
    """The score imputes its inputs: counting a segment that reads basket_avg only through
    the score warns about nothing; one that compares basket_avg itself still warns."""
    project = segc.load_project(EXAMPLE)
    assert "basket_avg" not in project.count(["high_potential"]).missing
    assert "basket_avg" in project.count(["loyal_big_basket"]).missing


def test_error_feature_present_for_fewer_than_min_group_rows(tmp_path):
    """A feature with a value for one training row put that customer's exact value into
    models/NAME.yml (the imputation median and scaling mean; attack11 P1): refused, E935
    naming the feature, and no model file is written."""
    test = {c["customer_id"] for c in CUSTOMERS if c["is_test"]}
    amounts = sorted((o["amount"] for o in ORDERS
                      if o["ordered_at"] < dt.datetime.combine(TRAIN, dt.time()) and o["customer_id"] not in test),
                     reverse=True)
    assert amounts[0] > amounts[1]
    config = json.loads(json.dumps(CONFIG))
    config["features"]["whale"] = {"type": "float", "from": "orders", "agg": "max", "column": "amount",
                                   "where": f"amount > {amounts[1]}"}  # one customer's order
    config["scores"]["buyer"]["features"] = ["visits", "whale"]
    root = _project(tmp_path / "whale", config)
    out = _failing(_cli("score", "fit", "buyer", "-p", root), "E935")
    assert "`whale` has a value for only 1 customer" in out and "min_group (10)" in out, out
    assert str(amounts[0]) not in out and not (root / "models" / "buyer.yml").exists()


@pytest.mark.parametrize("changes, code, words", [
    # the attack's case: E309 from segc.yml's reading, and no traceback from the checker after it
    ({"horizon": "8000 years"}, "E309", "a horizon of more than 900 years"),
    ({"horizon": "99999999999999999999 days"}, "E309", "a horizon of more than 900 years"),
    ({"train_as_of": "9999-12-01"}, "E309", "the as-of 9999-12-01 is outside the supported range"),
    # each date in range, the validation period (train_as_of + horizon, + horizon) past 9999-12-31
    ({"horizon": "900 years", "train_as_of": "8999-01-01", "validate_as_of": None}, "E934",
     "9899-01-01 + 900 years is not a supported date"),
    ({"horizon": "500 years", "train_as_of": "8999-01-01", "validate_as_of": None}, "E934",
     "the end of the training period, 9499-01-01, is outside the supported as-of range"),
    ({"validate_as_of": "8999-12-15"}, "E934", "the end of the validation period, 9000-01-14"),
])
def test_score_dates_past_the_supported_range_are_located_errors(tmp_path, changes, code, words):
    """A score's horizon (or as-of + horizon) past 9999-12-31 raised DateOutOfRange in the
    checker, so in `segc check` and every command (attack11 K1): a located diagnostic."""
    config = json.loads(json.dumps(CONFIG))
    for k, v in changes.items():
        if v is None:
            config["scores"]["buyer"].pop(k)
        else:
            config["scores"]["buyer"][k] = v
    root = _project(tmp_path / "p", config)
    for command in (("check", root), ("count", "-p", root)):
        out = _failing(_cli(*command), code)
        assert words in out and "segc.yml:" in out and "hint: " in out, out


def test_fit_as_of_past_the_supported_range_is_e934(tmp_path):
    root = _project(tmp_path / "p")
    out = _failing(_cli("score", "fit", "buyer", "-p", root, "--as-of", "9999-12-15"), "E934")
    assert "9999-12-15 + 30 days is not a supported date" in out and "hint: " in out
