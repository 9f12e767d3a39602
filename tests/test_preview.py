"""count / sample / overlap / profile on DuckDB over local files, against answers
computed here in plain Python over the same rows (NULLs included)."""
from __future__ import annotations

import statistics

import duckdb
import pytest

import segc

CUSTOMERS = [  # id, age, city, vip, religion
    (1, 20, "Paris", True, "a"), (2, None, "Lyon", False, None), (3, 35, None, None, "b"),
    (4, 50, "Paris", True, None), (5, -3, "Lille", False, "a"), (6, 35, "Paris", True, None),
    (7, 61, "Lyon", True, "c"), (8, None, None, False, None),
]
ORDERS = [(1, "2024-05-01 10:00:00", 10.0), (1, "2024-05-02 10:00:00", 30.0), (4, "2024-01-01 00:00:00", 5.0),
          (7, "2024-06-30 23:59:59", 100.0), (7, "2024-07-01 00:00:00", 999.0)]  # the last is at the as-of

CONFIG = """
name: preview
base: customers
key: id
as_of: 2024-07-01
min_group: 1  # seven rows: every value shown (tests/test_min_group.py tests the threshold)
population: not (age is missing and city is missing)
sources:
  customers: {table: customers, path: data/customers.parquet}
  orders: {table: orders, path: data/orders.parquet, key: id, time: ordered_at, columns: {amount: float}}
features:
  age: {type: int}
  city: {type: string}
  vip: {type: bool}
  religion: {type: string, sensitive: true}
  spend: {type: float, from: orders, agg: sum, column: amount}
"""
SEGMENTS = """
segment older = age >= 35
segment parisians = city = "Paris"
segment vips = vip
segment spenders = spend > 20
@allow_sensitive("test of masking")
segment religious = religion is present and age > 0
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("preview")
    (root / "data").mkdir()
    (root / "segments").mkdir()
    (root / "segc.yml").write_text(CONFIG)
    (root / "segments" / "s.seg").write_text(SEGMENTS)
    con = duckdb.connect()
    con.execute("CREATE TABLE customers (id BIGINT, age INTEGER, city VARCHAR, vip BOOLEAN, religion VARCHAR)")
    con.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", CUSTOMERS)
    con.execute("CREATE TABLE orders (id BIGINT, ordered_at TIMESTAMP, amount DOUBLE)")
    con.executemany("INSERT INTO orders VALUES (?, ?, ?)", ORDERS)
    for t in ("customers", "orders"):
        con.execute(f"COPY {t} TO '{root / 'data' / t}.parquet' (FORMAT parquet)")
    return segc.load_project(root)


POP = [c for c in CUSTOMERS if c[0] != 8]
SPEND = {}
for cid, at, amount in ORDERS:
    if at < "2024-07-01":
        SPEND[cid] = SPEND.get(cid, 0) + amount
EXPECTED = {
    "older": {c[0] for c in POP if c[1] is not None and c[1] >= 35},
    "parisians": {c[0] for c in POP if c[2] == "Paris"},
    "vips": {c[0] for c in POP if c[3] is True},
    "spenders": {c[0] for c in POP if SPEND.get(c[0], 0) > 20},
    "religious": {c[0] for c in POP if c[4] is not None and c[1] is not None and c[1] > 0},
}


def test_count_matches_python(project):
    result = project.count()
    assert result.population == len(POP)
    assert {s.name: s.count for s in result.segments} == {k: len(v) for k, v in EXPECTED.items()}
    assert result.to_dict()["segments"][0] == {"name": "older", "count": 4, "share": 4 / 7}


def test_one_scan_equals_one_query_per_segment(project):
    one_scan = {s.name: s.count for s in project.count().segments}
    con = project.duckdb()
    for name in EXPECTED:
        assert con.execute(project.compile(name, form="count", dialect="duckdb")).fetchone()[0] == one_scan[name]


def test_missing_share_warning(project):
    # age is missing for 1 of 7 (14%), city for 1 of 7: no warning; religion for 3 of 7
    result = project.count(["religious"])
    assert set(result.missing) == {"religion"}
    assert result.missing["religion"] == pytest.approx(3 / 7)


def test_sample_shows_used_features_and_masks_sensitive(project):
    s = project.sample("older", n=2)
    assert s.columns == ["id", "age"]
    assert s.rows == [(3, 35), (4, 50)]
    allowed = project.sample("religious")
    assert allowed.columns == ["id", "age", "religion"] and allowed.masked == []
    assert [r[0] for r in allowed.rows] == sorted(EXPECTED["religious"])


def test_overlap_matches_python(project):
    names = list(EXPECTED)
    o = project.overlap(names)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            both = len(EXPECTED[a] & EXPECTED[b])
            assert o.matrix[i][j] == both
            union = len(EXPECTED[a] | EXPECTED[b])
            assert o.jaccard(i, j) == pytest.approx(both / union if union else 0.0)


def test_profile_matches_python(project):
    p = project.profile("parisians")
    members = [c for c in POP if c[0] in EXPECTED["parisians"]]
    age = next(n for n in p.numeric if n.feature == "age")
    ages_in = [c[1] for c in members if c[1] is not None]
    ages_pop = [c[1] for c in POP if c[1] is not None]
    assert age.mean == pytest.approx(statistics.mean(ages_in))
    assert age.stddev == pytest.approx(statistics.stdev(ages_in))
    assert age.population_mean == pytest.approx(statistics.mean(ages_pop))
    assert age.population_missing == pytest.approx(1 / 7)
    assert age.missing == pytest.approx(0.0)
    assert all(n.feature != "religion" for n in p.numeric)
    assert all(c.feature != "religion" for c in p.categorical)  # sensitive: not allowed here
    city = next(c for c in p.categorical if c.feature == "city")
    assert city.values[0] == ("Paris", 1.0, 3 / 7)


def test_unknown_segment_and_missing_file(project, tmp_path):
    with pytest.raises(segc.SegcError) as e:
        project.count(["olderr"])
    assert "did you mean `older`" in str(e.value)
    (tmp_path / "segc.yml").write_text(CONFIG)
    (tmp_path / "segments").mkdir()
    (tmp_path / "segments" / "s.seg").write_text("segment a = age > 1\n")
    broken = segc.load_project(tmp_path)
    with pytest.raises(segc.SegcError) as e:
        broken.count()
    assert "E702" in str(e.value) and "segc.yml:" in str(e.value)


def test_corrupt_parquet(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "segc.yml").write_text(CONFIG)
    (tmp_path / "segments").mkdir()
    (tmp_path / "segments" / "s.seg").write_text("segment a = age > 1\n")
    for t in ("customers", "orders"):
        (tmp_path / "data" / f"{t}.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(tmp_path).count()
    assert "E704" in str(e.value)
