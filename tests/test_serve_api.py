"""`segc serve`'s JSON API (Starlette's test client, no socket): the token and the
cross-site guards, the answers' shapes, saving (formatted, atomic, confined to the
project), and the feature matrix: counts from it equal `segc count`'s for every example
segment, and what it cannot answer falls back to the full query."""
from __future__ import annotations

import json
import shutil

import pytest

from segc.apps.serve.app import make_app
from segc.apps.serve.state import open_playground
from segc.project import load_project
from tests.conftest import EXAMPLE

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
TOKEN = "secret-token"


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve") / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("build", "site", "*.duckdb"))
    return root


@pytest.fixture(scope="module")
def playground(retail):
    return open_playground(retail)


@pytest.fixture(scope="module")
def client(playground):
    from starlette.testclient import TestClient

    return TestClient(make_app(playground, TOKEN, PORT), base_url=BASE)


def post(client, name, body, **headers):
    return client.post(f"/api/{name}", json=body, headers={"X-Segc-Token": TOKEN, **headers})


def test_every_request_needs_the_token(client):
    assert client.post("/api/count", json={"expression": "age >= 30"}).status_code == 403
    assert client.get("/").status_code == 403
    assert client.post("/api/count", json={"expression": "age >= 30"}, headers={"X-Segc-Token": "wrong"}).status_code == 403
    page = client.get(f"/?token={TOKEN}")
    assert page.status_code == 200 and "segc playground" in page.text
    assert "httponly" in page.headers["set-cookie"].lower()  # the cookie then stands for the token


def test_cross_site_and_rebinding_are_refused(client):
    assert post(client, "count", {"expression": "age >= 30"}, Origin="http://evil.example").status_code == 403
    assert post(client, "count", {"expression": "age >= 30"}, Host="evil.example:8765").status_code == 403
    assert post(client, "count", {"expression": "age >= 30"}, Origin=BASE).status_code == 200


def test_errors_are_the_check_json_shape(client):
    r = post(client, "count", {"expression": "age >= "})
    assert r.status_code == 422
    body = r.json()
    assert set(body) == {"diagnostics", "errors", "warnings"} and body["errors"] == 1
    d = body["diagnostics"][0]
    assert d["code"] == "E102" and d["line"] == 1 and d["col"] >= 5
    assert post(client, "count", {"nothing": 1}).json()["diagnostics"][0]["code"] == "E971"
    for body in (b"[1, 2]", b"[" * 100_000 + b"]" * 100_000, b"{\"expression\": ", b"\xff\xfe"):
        r = client.post("/api/count", content=body, headers={"X-Segc-Token": TOKEN})
        assert r.status_code == 400 and r.json()["diagnostics"][0]["code"] == "E971"
    r = client.post("/api/count", content=b" " * (5 * 2**20), headers={"X-Segc-Token": TOKEN})
    assert r.status_code == 413 and r.json()["diagnostics"][0]["code"] == "E971"


# every field each endpoint reads, with a value of the right type
FIELDS = {
    "check": {"expression": "age >= 30"},
    "count": {"expression": "age >= 30", "as_of": "2024-06-01"},
    "compile": {"expression": "age >= 30", "dialect": "postgres", "as_of": "2024-06-01"},
    "profile": {"expression": "age >= 30", "as_of": "2024-06-01"},
    "overlap": {"expression": "age >= 30", "as_of": "2024-06-01"},
    "sample": {"expression": "age >= 30", "n": 3, "as_of": "2024-06-01"},
    "segments": {"as_of": "2024-06-01"},
    "save": {"path": "segments/typed.seg", "text": "segment typed = age >= 30"},
}
WRONG = [5, 2.5, True, [], {}, "x" * 10_000, -5, 0, 101, None]


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_field_of_every_endpoint_refuses_a_wrong_value_with_a_diagnostic(client, name):
    """A value of another type, out of range or absent: 422 (E971, or the check's own
    diagnostic for a bad string) or the default, never a 500 (the test client re-raises
    a server exception)."""
    from segc.apps.serve.app import CALLS

    assert set(FIELDS) == set(CALLS)
    assert post(client, name, FIELDS[name]).status_code == 200, name
    for field in FIELDS[name]:
        for wrong in WRONG:
            if field == "n" and wrong == 5:  # a right value there
                continue
            r = post(client, name, {**FIELDS[name], field: wrong})
            optional = field in ("as_of", "dialect", "n") and wrong is None
            assert r.status_code in ((200,) if optional else (422,)), (name, field, wrong, r.text)
            if r.status_code == 422:
                d = r.json()["diagnostics"][0]
                assert d["hints"] and d["message"], (name, field, wrong)
                if not isinstance(wrong, str):
                    assert d["code"] == "E971", (name, field, wrong, d)


def test_answers(client, retail):
    text = 'age >= 30 and country = "FR"'
    count = post(client, "count", {"expression": text}).json()
    full = load_project(retail).count([load_project(retail).expression(text)])
    assert count["segments"][0]["count"] == full.segments[0].count and count["population"] == full.population
    assert count["via"] == "matrix"
    sql = post(client, "compile", {"expression": text, "dialect": "snowflake"}).json()
    assert sql["dialect"] == "snowflake" and "SELECT" in sql["sql"]
    overlap = post(client, "overlap", {"expression": text}).json()
    both = [s["both"] for s in overlap["segments"]]
    assert both == sorted(both, reverse=True) and overlap["size"] == count["segments"][0]["count"]
    p = load_project(retail)
    for row in overlap["segments"][:3] + overlap["segments"][-2:]:  # as `segc overlap` counts them
        assert p.overlap([p.expression(text), row["name"]]).matrix[0][1] == row["both"], row
    profile = post(client, "profile", {"expression": text}).json()
    assert profile["size"] == count["segments"][0]["count"]
    sample = post(client, "sample", {"expression": text, "n": 3}).json()
    assert len(sample["rows"]) == 3 and sample["columns"][0] == "customer_id"
    segments = post(client, "segments", {}).json()
    assert [s["name"] for s in segments["segments"]] == load_project(retail).segment_names
    assert post(client, "count", {"expression": text, "as_of": "2024-01-01"}).json()["as_of"] == "2024-01-01"


def test_matrix_counts_equal_segc_count_for_every_example_segment(playground, retail):
    p = load_project(retail)
    full = {s.name: s.count for s in p.count().segments}
    m = playground.matrix()
    assert {s.name: s.count for s in m.view.count().segments} == full
    # and each one alone, as an edit is counted
    for name in p.segment_names:
        assert playground.count(name)["segments"][0]["count"] == full[name], name


def test_what_the_matrix_lacks_falls_back_to_the_full_query(playground, retail):
    p = load_project(retail)
    # an inline aggregate no feature computes, and a ranking of it: not in the matrix
    for text in ('count(orders where amount > 123 during last 45 days) >= 1',
                 'top 5% by age'):
        got = playground.count(text)
        assert got["via"] == "full"
        assert got["segments"][0]["count"] == p.count([p.expression(text)]).segments[0].count


def test_matrix_is_rebuilt_when_the_data_changes(playground, retail):
    import os

    first = playground.matrix()
    assert playground.matrix() is first
    yml = retail / "segc.yml"
    st = yml.stat()
    os.utime(yml, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    assert playground.matrix() is not first
    # a data file replaced by a copy that keeps its time (cp -p): another inode
    second = playground.matrix()
    data = retail / "data" / "customers.parquet"
    st = data.stat()
    shutil.copy2(data, data.with_suffix(".new"))
    os.utime(data.with_suffix(".new"), ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(data.with_suffix(".new"), data)
    assert data.stat().st_mtime_ns == st.st_mtime_ns
    assert playground.matrix() is not second


def test_save_writes_formatted_seg_inside_the_project(client, retail):
    r = post(client, "save", {"path": "segments/play.seg", "text": "segment  play_thirty =   age>=30"})
    assert r.status_code == 200
    written = (retail / "segments" / "play.seg").read_text()
    assert written == "segment play_thirty = age >= 30\n"
    assert "play_thirty" in [s["name"] for s in post(client, "segments", {}).json()["segments"]]
    for bad in ("../evil.seg", "/tmp/evil.seg", "segments/x.txt", "segments/../../x.seg", ".hidden.seg", "",
                "new.seg", "other/new.seg", "segments/x\0.seg", "segments/" + "a" * 300 + ".seg", "segments",
                "segments/../new.seg"):
        r = post(client, "save", {"path": bad, "text": "segment x = age >= 30"})
        assert r.status_code == 422 and r.json()["diagnostics"][0]["code"] == "E970", bad
    r = post(client, "save", {"path": "segments/broken.seg", "text": "segment broken = age >="})
    assert r.status_code == 422 and not (retail / "segments" / "broken.seg").exists()


def test_an_edited_pick_comparison_stays_on_the_matrix(tmp_path):
    """Without `order_by:`, `last(c) = "shoes"` compiles to edge-time tests for that very
    constant (backend/picks.py); the matrix holds the pick's value instead, so an edit to
    another constant, operator or set is still answered there, with segc count's figures."""
    root = tmp_path / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("build", "site", "*.duckdb"))
    config = root / "segc.yml"
    text = config.read_text(encoding="utf-8")
    assert "    order_by: [order_id]" in text
    config.write_text(text.replace("    order_by: [order_id]", "", 1), encoding="utf-8")
    p = load_project(root)
    assert "segc_latest" not in p.compile("lyon_shoes")  # the edge-time tests in the full query
    playground = open_playground(root)
    for edit in ('last(orders.category) = "bags"', 'last(orders.category) in ["bags", "shoes"]',
                 'not (last(orders.category) < "p")', 'home_store = "Lyon Part-Dieu" and last(orders.category) = "shoes"'):
        got = playground.count(edit)
        assert got["via"] == "matrix", edit
        assert got["segments"][0]["count"] == p.count([p.expression(edit)]).segments[0].count, edit
    assert playground.count('first(orders.category) = "bags"')["via"] == "full"  # no segment has it


def test_save_diagnostics_point_into_the_text_sent(client, retail):
    """The formatter adds a blank line between two segments: the error is still on line 2."""
    r = post(client, "save", {"path": "segments/lines.seg", "text": "segment a5 = age > 3\nsegment b5 = agee > 4"})
    assert r.status_code == 422
    d = r.json()["diagnostics"][0]
    assert (d["code"], d["line"], d["col"]) == ("E201", 2, 14)
    assert not (retail / "segments" / "lines.seg").exists()


@pytest.mark.parametrize("name, body", [
    ("save", {"path": "segments/sur.seg", "text": "segment sur = age > 3 # \ud800"}),
    ("save", {"path": "segments/\ud800.seg", "text": "segment sur = age > 3"}),
    ("count", {"expression": "city = \"\ud800\""}),
    ("compile", {"expression": "age > 3", "dialect": "\ud800"}),
])
def test_a_lone_surrogate_is_e971(client, retail, name, body):
    r = client.post(f"/api/{name}", content=json.dumps(body).encode(), headers={"X-Segc-Token": TOKEN})
    assert r.status_code == 422 and r.json()["diagnostics"][0]["code"] == "E971", r.text
    assert not list((retail / "segments").glob("sur*"))


def test_as_of_today_is_the_engine_s_current_date(client, retail):
    """`"as_of": "today"` answered at the project's pinned date before (as_of_date's None
    read as 'not given'): the figures are `segc count --as-of today`'s."""
    rolling = load_project(retail, as_of="today")
    for text in ("loyal_big_basket", "top 10% by revenue_365d", "signup_date within last 3000 days"):
        answer = post(client, "count", {"expression": text, "as_of": "today"}).json()
        assert answer["as_of"] == "today", answer
        assert answer["segments"][0]["count"] == rolling.count([rolling.expression(text)]).segments[0].count, text
    pinned = post(client, "count", {"expression": "loyal_big_basket"}).json()
    assert pinned["as_of"] == "2024-07-01" and pinned["segments"][0]["count"] > 0
    assert "CURRENT_DATE" in post(client, "compile", {"expression": "signup_date within last 30 days",
                                                      "as_of": "today"}).json()["sql"].upper()


@pytest.mark.parametrize("name", sorted(n for n, fields in FIELDS.items() if "as_of" in fields))
def test_a_bad_as_of_names_the_request_s_field(client, name):
    """E009 said `--as-of` about the JSON field `as_of`: an HTTP request has no option."""
    r = post(client, name, {**FIELDS[name], "as_of": "2024-13-01"})
    assert r.status_code == 422, r.text
    d = r.json()["diagnostics"][0]
    assert d["code"] == "E009" and d["message"] == "`as_of`: `2024-13-01` is not a date", d
    assert "--as-of" not in r.text
