"""`segc report`: every figure of the report on the retail example (two periods, by
country, and the sizes over three as-of dates) against an independent computation in
plain Python over the same parquet rows; the same report on PostgreSQL; one query per
as-of date; the missing-value rules of each KPI kind on a small project; JSON, CSV and
table output; the HTML page rendered by headless Chromium (its charts drawn); and bad
input (exit 1, a diagnostic, no traceback)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.apps.report.measure import ALL, POPULATION, build_report
from tests.conftest import EXAMPLE, ROOT

runner = CliRunner()
AS_OF = dt.date(2024, 7, 1)
DATES = [AS_OF, dt.date(2024, 6, 1), dt.date(2024, 5, 2)]  # 30 days apart
SEGMENTS = ["loyal_big_basket", "new_signups", "inactive_6m", "never_ordered", "young_urban_fr"]
# what the Python below implements: if the example changes, this says where
DEFINITIONS = {
    "loyal_big_basket": "purchases_365d >= 5 and basket_avg > $min_basket",
    "new_signups": "signup_date within last 30 days",
    "inactive_6m": "days_since(last_order_at) > 180",
    "never_ordered": "orders_total = 0 and signup_date < today - 90 days",
    "young_urban_fr": 'country = "FR"\n    and age between 18 and 30\n    and city in ["Paris", "Lyon", "Marseille"]',
}
KPIS = {
    "active": ("count_of", "purchases_90d >= 1"),
    "new_customers": ("count_of", "signup_date within last 30 days"),
    "email_reachable": ("share_of", "email_optin"),
    "sms_reachable": ("share_of", "sms_optin"),
    "avg_basket": ("avg", "basket_avg"),
    "frequency": ("per_customer", "purchases_365d"),
    "revenue_per_customer": ("per_customer", "revenue_365d"),
    "basket_value": ("ratio", "revenue_365d"),  # ratio: [revenue_365d, purchases_365d]
}


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


# ---- the independent computation -----------------------------------------------------------

def _rows(path: Path) -> list[dict]:
    rel = duckdb.sql(f"SELECT * FROM read_parquet('{path}')")
    return [dict(zip(rel.columns, r)) for r in rel.fetchall()]


@pytest.fixture(scope="module")
def data():
    customers = _rows(EXAMPLE / "data" / "customers.parquet")
    orders = defaultdict(list)
    for o in _rows(EXAMPLE / "data" / "orders.parquet"):
        orders[o["customer_id"]].append(o)
    return customers, orders


def features(c: dict, orders: list[dict], as_of: dt.date) -> dict:
    """The features the segments and KPIs use, as segc.yml declares them, at `as_of`."""
    start = dt.datetime.combine(as_of, dt.time())
    before = [o for o in orders if o["ordered_at"] < start]
    done = [o for o in before if o["status"] == "completed"]

    def since(days):
        return [o for o in done if o["ordered_at"] >= start - dt.timedelta(days=days)]

    last = max((o["ordered_at"] for o in before), default=None)
    return {
        "country": c["country"], "age": c["age"], "city": c["City Name"], "signup": c["signup_date"],
        "email_optin": c["email_optin"], "sms_optin": c["sms_optin"],
        "purchases_90d": len(since(90)), "purchases_365d": len(since(365)),
        "basket_avg": sum(o["amount"] for o in done) / len(done) if done else None,
        "revenue_365d": sum(o["amount"] for o in since(365)),
        "orders_total": len(before),
        "days_since_last": (as_of - last.date()).days if last else None,
    }


def in_segment(name: str, f: dict, as_of: dt.date) -> bool:
    new = f["signup"] is not None and as_of - dt.timedelta(days=30) <= f["signup"] < as_of
    if name == POPULATION:
        return True
    if name == "loyal_big_basket":
        return f["purchases_365d"] >= 5 and f["basket_avg"] is not None and f["basket_avg"] > 80
    if name == "new_signups":
        return new
    if name == "inactive_6m":
        return f["days_since_last"] is not None and f["days_since_last"] > 180
    if name == "never_ordered":
        return f["orders_total"] == 0 and f["signup"] is not None and f["signup"] < as_of - dt.timedelta(days=90)
    if name == "young_urban_fr":
        return (f["country"] == "FR" and f["age"] is not None and 18 <= f["age"] <= 30
                and f["city"] in ("Paris", "Lyon", "Marseille"))
    raise KeyError(name)


def expected_figures(members: list[dict], population: int, as_of: dt.date) -> dict:
    size = len(members)
    baskets = [f["basket_avg"] for f in members if f["basket_avg"] is not None]
    new = [f for f in members if f["signup"] is not None and as_of - dt.timedelta(days=30) <= f["signup"] < as_of]
    return {
        "size": size, "share": size / population if population else None,
        "active": sum(f["purchases_90d"] >= 1 for f in members),
        "new_customers": len(new),
        "email_reachable": sum(f["email_optin"] for f in members) / size if size else None,
        "sms_reachable": sum(f["sms_optin"] for f in members) / size if size else None,
        "avg_basket": sum(baskets) / len(baskets) if baskets else None,
        "frequency": sum(f["purchases_365d"] for f in members) / size if size else None,
        "revenue_per_customer": sum(f["revenue_365d"] for f in members) / size if size else None,
        "basket_value": (sum(f["revenue_365d"] for f in members) / orders
                         if (orders := sum(f["purchases_365d"] for f in members)) else None),
    }


_EXPECTED: dict = {}


def expected_report(data, as_of: dt.date) -> dict:
    """{(segment, group): figures} with group ALL for the totals."""
    if as_of not in _EXPECTED:
        _EXPECTED[as_of] = _expected_report(data, as_of)
    return _EXPECTED[as_of]


def _expected_report(data, as_of: dt.date) -> dict:
    customers, orders = data
    pop = [features(c, orders[c["customer_id"]], as_of) for c in customers if not c["is_test"]]
    out = {}
    countries = sorted({f["country"] for f in pop})
    for seg in [POPULATION, *SEGMENTS]:
        out[(seg, ALL)] = expected_figures([f for f in pop if in_segment(seg, f, as_of)], len(pop), as_of)
        for country in countries:
            group = [f for f in pop if f["country"] == country]
            out[(seg, country)] = expected_figures([f for f in group if in_segment(seg, f, as_of)], len(group), as_of)
    return out


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return a == pytest.approx(b, rel=1e-9, abs=1e-12)


# ---- the report against it ------------------------------------------------------------------

@pytest.fixture(scope="module")
def retail():
    return segc.load_project(EXAMPLE)


@pytest.fixture(scope="module")
def report(retail):
    return build_report(retail, SEGMENTS, by="country", period="30 days", periods=3)


def test_the_example_is_what_the_python_implements(retail):
    for name, text in DEFINITIONS.items():
        assert retail.definition(name).node.expr.span.text() == text
    assert {k.name: (k.kind, k.text) for k in retail.kpis.values()} == KPIS
    assert retail.kpis["basket_value"].denominator_text == "purchases_365d"
    assert retail.schema.params["min_basket"].default == 80


def test_figures_match_python_for_two_periods_by_country(report, data):
    assert (report.as_of, report.previous_as_of, report.period, report.by) == (*DATES[:2], "30 days", "country")
    assert report.segments == [POPULATION, *SEGMENTS]
    assert report.groups == ["BE", "CH", "DE", "ES", "FR"]
    assert [k.name for k in report.kpis] == list(KPIS)
    now, before = expected_report(data, DATES[0]), expected_report(data, DATES[1])
    assert len(report.rows) == len(now) == len(SEGMENTS + [POPULATION]) * 6
    checked = 0
    for row in report.rows:
        for when, expected in (("current", now), ("previous", before)):
            figures = getattr(row, when)
            for metric, value in expected[(row.segment, row.group)].items():
                assert same(figures.get(metric), value), (row.segment, row.group, when, metric,
                                                           figures.get(metric), value)
                checked += 1
        for metric in report.metrics:  # the change is the difference of the two
            a, b = now[(row.segment, row.group)][metric], before[(row.segment, row.group)][metric]
            change = row.change(metric, report.is_share(metric))
            assert same(change.absolute, None if a is None or b is None else a - b)
            if metric in ("share", "email_reachable", "sms_reachable") or b in (None, 0) or a is None:
                assert change.relative is None
            else:
                assert same(change.relative, (a - b) / abs(b))
    assert checked == len(report.rows) * 2 * 10
    # the figures are not trivial: segments change, some groups are empty
    assert report.row("loyal_big_basket").current.size != report.row("loyal_big_basket").previous.size
    assert report.row("young_urban_fr", "DE").current.size == 0
    assert report.row("young_urban_fr", "DE").current.kpis["avg_basket"] is None


def test_sizes_over_time_match_python(report, data):
    assert [h.as_of for h in report.history] == list(reversed(DATES))
    for h in report.history:
        expected = expected_report(data, h.as_of)
        assert h.population == expected[(POPULATION, ALL)]["size"]
        assert h.sizes == {s: expected[(s, ALL)]["size"] for s in report.segments}


def _key_check(q) -> bool:
    return len(q.expressions) == 2 and 'COUNT(DISTINCT "segc_key")' in q.sql()  # repeated, missing


def test_one_query_per_as_of(retail):
    calls = []
    real = retail.run
    retail.run = lambda q: calls.append(q) or real(q)
    try:
        build_report(retail, SEGMENTS, by="country", periods=2)
        # per date, the key check (E715: its own small query over the base) and one scan
        checks = [q for q in calls if _key_check(q)]
        scans = [q for q in calls if not _key_check(q)]
        assert len(checks) == 2 and len(scans) == 2
        assert all(q.args.get("group") is not None for q in scans)  # by country: GROUP BY, no 2nd scan
        calls.clear()
        build_report(retail, None, periods=5)  # every segment and KPI: still one per date
        assert len([q for q in calls if not _key_check(q)]) == 5
    finally:
        del retail.run


def test_same_report_on_postgres(pg_dsn, report):
    from segc.run.postgres_engine import PostgresEngine
    from tests.test_engines_parity import postgres_copy

    database = f"segc_report_{os.getpid()}"
    project = segc.load_project(EXAMPLE)
    dsn = postgres_copy(pg_dsn, database, project)
    engine = PostgresEngine(dsn)
    try:
        pg = build_report(project.use_engine(engine), SEGMENTS, by="country", periods=3)
    finally:
        engine.close()
    assert (pg.segments, pg.groups, pg.history) == (report.segments, report.groups, report.history)
    for a, b in zip(pg.rows, report.rows):
        assert (a.segment, a.group) == (b.segment, b.group)
        for metric in report.metrics:
            assert same(a.current.get(metric), b.current.get(metric)), (a.segment, a.group, metric)
            assert same(a.previous.get(metric), b.previous.get(metric)), (a.segment, a.group, metric)


# ---- KPI kinds and missing values, on a small project -----------------------------------------

SMALL = [  # id, tier, spend (missing: None), vip
    (1, "a", 10.0, True), (2, "a", None, False), (3, "a", 30.0, True),
    (4, "b", None, None), (5, "b", None, False), (6, None, 5.0, True),
]
SMALL_CONFIG = """
name: small
base: people
key: id
as_of: 2024-07-01
min_group: 1  # a handful of rows: every group shown (tests/test_min_group.py tests the threshold)
sources:
  people: {table: people, path: data/people.csv}
features:
  tier: {type: string}
  spend: {type: float}
  vip: {type: bool}
kpis:
  vips: {count_of: vip}
  vip_share: {share_of: vip}
  spend_total: {sum: spend}
  spend_avg: {avg: spend}
  spend_per_person: {per_customer: spend * 2}
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("small")
    (root / "data").mkdir()
    (root / "segments").mkdir()
    (root / "segc.yml").write_text(SMALL_CONFIG)
    (root / "segments" / "s.seg").write_text("segment everyone = true\nsegment spenders = spend > 0\n")
    with open(root / "data" / "people.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "tier", "spend", "vip"])
        w.writerows([["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in r] for r in SMALL])
    return segc.load_project(root)


def test_kpi_kinds_and_missing_values(small):
    r = build_report(small, ["everyone", "spenders"], by="tier", periods=2)
    assert r.groups == ["a", "b", None]  # missing last
    for seg, keep in (("everyone", lambda p: True), ("spenders", lambda p: p[2] is not None and p[2] > 0)):
        for group in (ALL, "a", "b", None):
            rows = [p for p in SMALL if keep(p) and (group is ALL or p[1] == group)]
            spends = [p[2] for p in rows if p[2] is not None]
            expected = {
                "size": len(rows),
                "vips": sum(p[3] is True for p in rows),
                "vip_share": sum(p[3] is True for p in rows) / len(rows) if rows else None,
                "spend_total": sum(spends),  # missing adds nothing; 0 when all are missing
                "spend_avg": sum(spends) / len(spends) if spends else None,  # missing ignored
                "spend_per_person": sum(2 * s for s in spends) / len(rows) if rows else None,  # missing = 0
            }
            row = r.row(seg, group)
            for metric, value in expected.items():
                assert same(row.current.get(metric), value), (seg, group, metric)
    assert r.row("everyone", "b").current.kpis["spend_avg"] is None
    assert r.row("everyone", "b").current.kpis["spend_total"] == 0


def test_without_kpis_size_and_share_only(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("build", "site"))
    lines = (root / "segc.yml").read_text().splitlines(keepends=True)
    start = lines.index("kpis:\n")
    end = next(i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "\n", "#"))
    (root / "segc.yml").write_text("".join(lines[:start] + lines[end:]))
    r = build_report(segc.load_project(root), ["new_signups"], periods=2)
    assert r.kpis == [] and r.metrics == ["size", "share"]
    result = cli("report", "-p", str(root), "new_signups")
    assert result.exit_code == 0 and "declare them under `kpis:`" in result.stdout


def test_by_bool_and_kpi_selection(retail):
    r = build_report(retail, ["new_signups"], kpis=["active", "avg_basket"], by="email_optin", periods=2)
    assert r.groups == [False, True] and [k.name for k in r.kpis] == ["active", "avg_basket"]
    total = r.row("new_signups").current
    parts = [r.row("new_signups", g).current for g in r.groups]
    assert total.size == sum(p.size for p in parts)
    assert total.kpis["active"] == sum(p.kpis["active"] for p in parts)
    assert r.to_dict()["rows"][1]["group"] == "false"


def test_rolling_as_of_uses_the_engines_date(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("build", "site"))
    r = build_report(segc.load_project(root, as_of="today"), ["new_signups"], periods=2)
    assert abs((r.as_of - dt.date.today()).days) <= 1
    assert r.previous_as_of == r.as_of - dt.timedelta(days=30)


# ---- command line: json, csv, table -----------------------------------------------------------

def test_json_output(report):
    result = cli("report", *SEGMENTS, "-p", str(EXAMPLE), "--by", "country", "--format", "json", "--periods", "3")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) == {"as_of", "previous_as_of", "period", "by", "kpis", "rows", "history"}
    assert (body["as_of"], body["previous_as_of"], body["by"]) == ("2024-07-01", "2024-06-01", "country")
    assert [k["name"] for k in body["kpis"]] == list(KPIS)
    assert len(body["rows"]) == len(report.rows) and len(body["history"]) == 3
    for row, expected in zip(body["rows"], report.rows):
        assert set(row) == {"segment", "group", "group_kind", "size", "share", "kpis", "previous", "change", "targets"}
        assert row["group_kind"] == ("all" if expected.group is ALL else "missing" if expected.group is None
                                     else "value")
        assert (row["segment"], row["size"]) == (expected.segment, expected.current.size)
        assert row["previous"]["size"] == expected.previous.size
        assert set(row["change"]) == {"size", "share", *KPIS}
        assert row["change"]["size"]["absolute"] == expected.current.size - expected.previous.size
        for k, v in row["kpis"].items():
            assert same(v, expected.current.kpis[k])
    assert body["rows"][0]["group"] == "(all)" and body["rows"][1]["group"] == "BE"


def test_csv_output(report, tmp_path):
    result = cli("report", *SEGMENTS, "-p", str(EXAMPLE), "--by", "country", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(lines) == len(report.rows) * len(report.metrics)
    assert list(lines[0]) == ["as_of", "previous_as_of", "segment", "group", "metric", "value", "previous",
                              "change", "relative_change", "target_min", "target_max", "met", "gap", "group_kind"]
    by_key = {(x["segment"], x["group"], x["metric"]): x for x in lines}
    for row in report.rows:
        for m in report.metrics:
            line = by_key[(row.segment, "(all)" if row.group is ALL else row.group, m)]
            value = row.current.get(m)
            assert (line["value"] == "") if value is None else same(float(line["value"]), value)
            assert line["group_kind"] == ("all" if row.group is ALL else "value")
    # --out: the same text in a file, written atomically
    out = tmp_path / "r.csv"
    result = cli("report", *SEGMENTS, "-p", str(EXAMPLE), "--by", "country", "--format", "csv", "--out", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    written = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(x["segment"], x["group"], x["metric"]) for x in written] == list(by_key)
    for x in written:  # the engine adds floats in parallel: the last bits may differ
        y = by_key[(x["segment"], x["group"], x["metric"])]
        assert x["value"] == y["value"] or same(float(x["value"]), float(y["value"]))
    assert [p.name for p in tmp_path.iterdir()] == ["r.csv"]  # no temp file left


def test_table_output():
    result = runner.invoke(app, ["report", "loyal_big_basket", "-p", str(EXAMPLE), "--by", "country"],
                           env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    for word in ("loyal_big_basket", "(population)", "FR", "active", "revenue_per_customer", "pts"):
        assert word in result.stdout


def test_table_output_is_whole_in_a_pipe():
    """At 80 columns, into a pipe or a file, the table is printed at its own width: no
    column cut down to `…`."""
    result = runner.invoke(app, ["report", "-p", str(EXAMPLE), "--by", "country"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "segment" in line and "country" in line)
    for kpi in ("email_reachable", "sms_reachable", "revenue_per_customer"):
        assert kpi in header
    assert "…" not in result.stdout


# ---- HTML: one self-contained file, drawn by headless Chromium --------------------------------

def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:  # a failure, never a skip: CI installs it (.ci/run)
        pytest.fail("chromium is not installed: `apt-get install chromium` (.ci/run installs it)")
    return path


def headless(*args: str, user_data: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={user_data}", "--hide-scrollbars", "--virtual-time-budget=15000", *args],
        capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def html_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "report.html"
    result = cli("report", *SEGMENTS[:4], "loyal_small_basket", "occasional_big_basket", "engaged_30d",
                 "-p", str(EXAMPLE), "--by", "country", "--format", "html", "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def test_html_is_self_contained(html_report):
    text = html_report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script src" not in text and "<link" not in text  # nothing fetched: works offline
    assert "Plotly.newPlot" in text and len(text) > 3_000_000  # plotly.js is inside
    for div in ("segc-sizes", "segc-by-group", "segc-kpis", "segc-history"):
        assert f'id="{div}"' in text
    assert oct(html_report.stat().st_mode & 0o777) != oct(0o600)  # not mkstemp's private mode


def test_html_renders_in_headless_chromium(html_report, tmp_path):
    result = headless("--dump-dom", html_report.as_uri(), user_data=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    # plotly draws each chart into an <svg class="main-svg">: four charts, all drawn
    for div in ("segc-sizes", "segc-by-group", "segc-kpis", "segc-history"):
        start = dom.index(f'id="{div}"')
        assert 'class="main-svg"' in dom[start:start + 200_000], div
    assert dom.count('class="main-svg"') >= 4
    # the traces themselves: 2 + 5 bar traces (two dates; five countries), one line per
    # segment, and the heatmap's picture
    assert dom.count('class="trace bars"') == 7
    assert dom.count('class="trace scatter ') == 7
    assert 'class="hm"' in dom and "<image" in dom[dom.index('id="segc-kpis"'):]
    assert dom.count("<tr ") >= 8 * 6  # the table: 8 rows (segments) x 6 groups


def test_html_screenshot(html_report, tmp_path):
    """A screenshot of the page; with SEGC_UPDATE_SCREENSHOT=1 it replaces docs/img/report.png."""
    png = tmp_path / "report.png"
    result = headless("--window-size=1280,2400", f"--screenshot={png}", html_report.as_uri(),
                      user_data=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 100_000  # charts, not a blank page
    if os.environ.get("SEGC_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(png, ROOT / "docs" / "img" / "report.png")


# ---- bad input: exit 1, a diagnostic, no traceback --------------------------------------------

@pytest.mark.parametrize("args, code, words", [
    (["--kpi", "actve"], "E940", "did you mean `active`?"),
    (["--by", "contry"], "E943", "did you mean `country`?"),
    (["--by", "religion"], "E945", "sensitive"),
    (["--by", "age"], "E944", "string or bool"),
    (["--period", "30 dayz"], "E946", "30 days"),
    (["--period", "0 days"], "E946", "--period `0 days` must be at least 1 day"),
    (["--period", "0 weeks"], "E946", "--period `0 weeks` must be at least 1 day"),
    (["--period", "soon"], "E946", "not a duration"),
    (["--format", "json", "--periods", "1"], "E947", "between 2 and 60"),
    (["--format", "html"], "E948", "--out"),
    (["loyal_big_baskett"], "E212", "did you mean `loyal_big_basket`?"),
    (["--as-of", "2024-13-01"], "E009", "not a date"),
])
def test_bad_input(args, code, words):
    result = cli("report", "-p", str(EXAMPLE), *args)
    assert result.exit_code == 1, result.output
    assert f"error[{code}]" in result.stderr and words in result.stderr, result.stderr


def test_out_is_a_folder(tmp_path):
    result = cli("report", "-p", str(EXAMPLE), "new_signups", "--format", "json", "--out", str(tmp_path))
    assert result.exit_code == 1 and "error[E824]" in result.stderr and "a folder is in the way" in result.stderr


def test_table_with_out_is_a_usage_error(tmp_path):
    result = cli("report", "-p", str(EXAMPLE), "--out", str(tmp_path / "x"))
    assert result.exit_code == 2


@pytest.mark.parametrize("kpi, code, message", [
    ('{share_of: "purchases_9d >= 1"}', "E201", "unknown feature or segment `purchases_9d`"),
    ("{avg: country}", "E942", "`avg:` needs a number, and this is a string"),
    ("{sum: email_optin}", "E942", "this is a condition"),
    ("{share_of: 'religion = \"x\"'}", "E501", "may not be used by a KPI"),
    ('{share_of: "purchases_90d >= "}', "E102", "unexpected end of input"),
    ("{avg: basket_avg, sum: revenue_365d}", "E941", "needs exactly one of"),
    ("{sharee_of: x}", "E004", "did you mean `share_of`?"),
])
def test_bad_kpi_in_segc_yml(tmp_path, kpi, code, message):
    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("build", "site"))
    text = (root / "segc.yml").read_text()
    assert text.count("\nkpis:\n") == 1
    text = text.replace("\nkpis:\n", f"\nkpis:\n  broken: {kpi}\n")
    (root / "segc.yml").write_text(text)
    line = text[:text.index("  broken:")].count("\n") + 1
    result = cli("report", "-p", str(root))
    assert result.exit_code == 1, result.output
    assert f"error[{code}]" in result.stderr and message in result.stderr, result.stderr
    assert f"segc.yml:{line}:" in result.stderr  # file:line:col of the KPI in segc.yml
    assert cli("check", str(root)).exit_code == 1  # `segc check` finds it too


RATES_CONFIG = """
name: rates
base: people
key: id
as_of: 2024-07-01
sources:
  people: {table: people, path: data/people.csv}
features:
  active: {type: bool}
  spend: {type: float}
  keen: {type: bool}
kpis:
  actives: {count_of: active}
  active_share: {share_of: active}
  spend_total: {sum: spend}
  spend_avg: {avg: spend}
"""


def test_the_kpi_heatmap_compares_rates_per_member(tmp_path):
    """100 people, 36 active; `keen` holds 25 of them, 23 active (92%): per member the
    segment is 0.92 / 0.36 = 2.56 times the population, though its count (23) is below the
    population's (36). Spend: 10 each, 40 for the keen, so 40 / 17.5 per member."""
    from segc.apps.report.html import kpi_index, kpi_text, render_html

    root = tmp_path / "rates"
    (root / "data").mkdir(parents=True)
    (root / "segments").mkdir()
    (root / "segc.yml").write_text(RATES_CONFIG)
    (root / "segments" / "s.seg").write_text("segment keen_ones = keen\n")
    rows = [(i, i < 23 or 25 <= i < 38, 40.0 if i < 25 else 10.0, i < 25) for i in range(100)]
    with open(root / "data" / "people.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "active", "spend", "keen"])
        w.writerows([[i, str(a).lower(), s, str(k).lower()] for i, a, s, k in rows])
    r = build_report(segc.load_project(root), ["keen_ones"], periods=2)
    assert r.row("keen_ones").current.kpis["actives"] == 23 and r.row(POPULATION).current.kpis["actives"] == 36
    pop_spend = (25 * 40 + 75 * 10) / 100
    (index,) = kpi_index(r, ["keen_ones"])
    assert index == pytest.approx([0.92 / 0.36, 0.92 / 0.36, 40 / pop_spend, 40 / pop_spend])
    assert kpi_text(r, r.kpis[0], r.row("keen_ones").current) == "23 (92%)"
    assert kpi_text(r, r.kpis[2], r.row("keen_ones").current) == "1,000.00 (40.00 per member)"
    page = render_html(r, "rates")
    assert "23 (92%)" in page and "36 (36%)" in page


def test_the_kpis_of_fewer_than_min_group_members_are_not_shown(tmp_path):
    """A one-member segment's average basket was its member's, its `active` whether they
    had ordered; its size stays (a count says nothing of a person)."""
    import shutil

    root = tmp_path / "p"
    shutil.copytree(EXAMPLE, root)
    (root / "segments" / "tiny.seg").write_text('segment tiny = age = 88 and country = "BE"\n', encoding="utf-8")
    p = segc.load_project(root)
    report = build_report(p, ["tiny"], by="country")
    rows = [r for r in report.rows if r.segment == "tiny"]
    assert any(r.current.size == 1 for r in rows)
    for r in rows:
        if 0 < r.current.size < p.schema.min_group:
            assert set(r.current.kpis.values()) == {None}, r
    population = [r for r in report.rows if r.segment != "tiny" and r.group is ALL][0]
    assert all(v is not None for v in population.current.kpis.values())
    # all but one: the one's KPIs by difference with the population's row beside it
    (root / "segments" / "tiny.seg").write_text('segment rest = not (age = 88 and country = "BE")\n',
                                                encoding="utf-8")
    p = segc.load_project(root)
    [rest] = [r for r in build_report(p, ["rest"]).rows if r.segment == "rest"]
    assert rest.current.size == population.current.size - 1 and set(rest.current.kpis.values()) == {None}
