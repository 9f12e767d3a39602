"""`segc discover`: planted groups are recovered as readable rules; the written file checks,
compiles to every dialect and counts (by `segc count`) what the report says; the same data
and seed give the same bytes; bad input gives a diagnostic, never a traceback."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import segc
from segc.cli.main import app
from segc.backend.dialects import DIALECTS
from tests.conftest import write_project

runner = CliRunner()

# four planted groups, well apart in three features (visits per month, spend, tenure in days)
GROUPS = {"A": (2, 20.0, 300.0), "B": (10, 25.0, 50.0), "C": (3, 200.0, 60.0), "D": (12, 180.0, 280.0)}
SPREAD = (1.0, 8.0, 25.0)
PER_GROUP = 300
FEATURES = "visits,spend,tenure_days"


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def make_project(folder: Path, rows: list[dict], segments: str = "segment big_spenders = spend > 100\n") -> Path:
    config = {
        "name": "planted", "base": "customers", "key": "customer_id", "as_of": "2024-07-01", "min_size": 20,
        "sources": {"customers": {"table": "shop.customers", "path": "data/customers.csv"}},
        "features": {
            "visits": {"type": "int", "nullable": False},
            "spend": {"type": "float"},
            "tenure_days": {"type": "float", "nullable": False},
            "grp": {"type": "string"},
            "vip": {"type": "bool", "nullable": False},
            "signup": {"type": "date"},
            "nothing": {"type": "float"},
            "religion": {"type": "string", "sensitive": True},
        },
    }
    write_project(folder, config, segments)
    (folder / "data").mkdir(exist_ok=True)
    with open(folder / "data" / "customers.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return folder


def planted_rows(per_group: int = PER_GROUP, seed: int = 7) -> list[dict]:
    rng = np.random.RandomState(seed)
    rows = []
    for g, (visits, spend, tenure) in GROUPS.items():
        for _ in range(per_group):
            rows.append({
                "customer_id": len(rows) + 1,
                "visits": max(0, int(round(rng.normal(visits, SPREAD[0])))),
                # 5% of the spends are missing: imputed for clustering, `is missing` in the rules
                "spend": "" if rng.rand() < 0.05 else round(float(rng.normal(spend, SPREAD[1])), 2),
                "tenure_days": round(float(rng.normal(tenure, SPREAD[2])), 1),
                "grp": g, "vip": bool(rng.rand() < (0.8 if g == "D" else 0.1)),
                "signup": "2023-01-01", "nothing": "", "religion": "",
            })
    order = rng.permutation(len(rows))  # groups interleaved in key order
    return [dict(rows[i], customer_id=k + 1) for k, i in enumerate(order)]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    folder = make_project(tmp_path_factory.mktemp("planted"), planted_rows())
    out = folder / "segments" / "discovered.seg"
    result = cli("discover", str(folder), "--features", FEATURES, "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    return folder, out, json.loads(result.stdout)


def planted_groups(folder: Path) -> dict[int, str]:
    with open(folder / "data" / "customers.csv", encoding="utf-8") as f:
        return {int(r["customer_id"]): r["grp"] for r in csv.DictReader(f)}


def labels(project, name: str = "discovered") -> dict[int, str]:
    """Each customer's branch, by the written segmentation compiled and run on DuckDB."""
    return dict(project.duckdb().execute(project.compile(name, form="label")).fetchall())


# ---- recovering planted groups -------------------------------------------------------------

def test_planted_groups_are_recovered(planted):
    folder, out, report = planted
    assert report["k"] == 4, report["silhouette"]
    assert report["faithfulness"] >= 0.9
    project = segc.load_project(folder)
    branch = labels(project)
    groups = planted_groups(folder)
    assert set(branch) == set(groups)  # `else`: every customer has a branch
    homes = {}
    for g in GROUPS:
        spread = Counter(branch[key] for key, grp in groups.items() if grp == g)
        home, n = spread.most_common(1)[0]
        assert n / sum(spread.values()) >= 0.8, (g, spread)
        homes[g] = home
    assert len(set(homes.values())) == len(GROUPS), homes  # one branch per planted group


def test_written_file_is_readable_rules(planted):
    _folder, out, report = planted
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Discovered by `segc discover`")
    assert "segmentation discovered {" in text and "= else" in text
    assert text.count("  ## k-means cluster") == len(report["branches"])  # a profile per branch
    assert text == report["segmentation"]
    from segc.front.fmt import format_source

    assert format_source(text) == text  # already in `segc fmt` layout
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            # thresholds are rounded: no number with more than 3 significant digits
            for word in line.replace("(", " ").replace(")", " ").split():
                if word.replace(".", "").isdigit():
                    assert len(word.replace(".", "").strip("0")) <= 3, line


def test_written_file_checks_and_compiles_everywhere(planted):
    folder, _out, report = planted
    result = cli("check", str(folder))
    assert result.exit_code == 0, result.output
    project = segc.load_project(folder)
    branches = [b["name"] for b in report["branches"]]
    assert [b for b, _p in project.checked.segmentations["discovered"].branches] == branches
    for dialect in DIALECTS:
        sql = project.compile("discovered", dialect=dialect, form="label")
        assert all(b in sql for b in branches), dialect
        for b in branches:
            project.compile(f"discovered.{b}", dialect=dialect, form="count")


def test_counts_equal_segc_count(planted):
    folder, _out, report = planted
    result = cli("count", str(folder), "--format", "json")
    assert result.exit_code == 0, result.output
    counted = {s["name"]: s["count"] for s in json.loads(result.stdout)["segments"]}
    assert {f"discovered.{b['name']}": b["count"] for b in report["branches"]} == \
        {n: c for n, c in counted.items() if n.startswith("discovered.")}
    assert sum(b["count"] for b in report["branches"]) == report["population"] == len(planted_groups(folder))


def test_report_figures_match_an_independent_computation(planted):
    """Branch means and stddev ratios from the CSV and the branch labels; faithfulness from
    k-means refitted here with the documented recipe (median, standard scaling, seed)."""
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    from segc.apps.discover import N_INIT

    folder, _out, report = planted
    project = segc.load_project(folder)
    branch = labels(project)
    with open(folder / "data" / "customers.csv", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["customer_id"]))
    feats = FEATURES.split(",")
    raw = np.array([[float(r[f]) if r[f] != "" else np.nan for f in feats] for r in rows])
    keys = [int(r["customer_id"]) for r in rows]
    for b in report["branches"]:
        inside = np.array([branch[k] == b["name"] for k in keys])
        for j, f in enumerate(feats):
            v = raw[inside, j]
            v = v[~np.isnan(v)]
            allv = raw[~np.isnan(raw[:, j]), j]
            assert b["means"][f] == pytest.approx(v.mean())
            assert b["stddev_ratio"][f] == pytest.approx(v.std(ddof=1) / allv.std(ddof=1))
    from threadpoolctl import threadpool_limits

    data = np.where(np.isnan(raw), np.nanmedian(raw, axis=0), raw)
    with threadpool_limits(1):  # as segc does: the same sums in the same order
        clusters = KMeans(n_clusters=report["k"], random_state=0, n_init=N_INIT).fit_predict(
            StandardScaler().fit_transform(data))
    # the report numbers clusters by size, largest first
    sizes = Counter(clusters)
    number = {c: i + 1 for i, (c, _n) in enumerate(sorted(sizes.items(), key=lambda cn: (-cn[1], cn[0])))}
    assert sorted(c["size"] for c in report["clusters"]) == sorted(sizes.values())
    cluster_of = {b["name"]: b["cluster"] for b in report["branches"]}
    same = np.array([cluster_of[branch[k]] == number[c] for k, c in zip(keys, clusters)])
    assert report["faithfulness"] == pytest.approx(same.mean())
    # customers with a missing spend follow their cluster as well as the others
    missing = np.isnan(raw[:, feats.index("spend")])
    assert missing.sum() > 20 and same[missing].mean() >= 0.9


def test_missing_values_follow_the_median_in_the_rules():
    """A missing value fails every comparison in segc, but stood for the median when
    clustering: a rule whose bounds hold the median lets missing values in explicitly."""
    from segc.apps.discover_rules import _Bounds, _bounds_text

    assert _bounds_text("spend", False, _Bounds(0, lo=50.0), True) == "(spend >= 50 or spend is missing)"
    assert _bounds_text("spend", False, _Bounds(0, lo=50.0, hi=120.5), False) == "spend >= 50 and spend < 120.5"
    assert _bounds_text("visits", True, _Bounds(0, lo=3.0, hi=8.0), False) == "visits between 3 and 7"
    assert _bounds_text("visits", True, _Bounds(0, lo=3.0, hi=4.0), True) == "(visits = 3 or visits is missing)"
    # bools: `not f` holds for a missing value (the complement), `f = false` does not
    assert _bounds_text("vip", False, _Bounds(0, flag=False), True) == "not vip"
    assert _bounds_text("vip", False, _Bounds(0, flag=False), False) == "vip = false"
    assert _bounds_text("vip", False, _Bounds(0, flag=True), True) == "(vip or vip is missing)"
    assert _bounds_text("vip", False, _Bounds(0, flag=True), False) == "vip"


def test_deterministic(planted):
    folder, out, _report = planted
    first = cli("discover", str(folder), "--features", FEATURES, "--out", str(out))
    assert first.exit_code == 0, first.output
    once = out.read_bytes()
    second = cli("discover", str(folder), "--features", FEATURES, "--out", str(out))
    assert second.exit_code == 0, second.output
    assert out.read_bytes() == once
    # without --out the same text is printed (and the report goes to stderr)
    printed = cli("discover", str(folder), "--features", FEATURES, "--name", "again")
    assert printed.exit_code == 0, printed.output
    assert printed.stdout == once.decode().replace("segmentation discovered {", "segmentation again {")


def test_a_fixed_k_and_a_bool_feature(planted, tmp_path):
    folder, _out, _report = planted
    result = cli("discover", str(folder), "--features", "visits,spend,vip", "--k", "3", "--name", "with_vip",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["k"] == 3 and list(report["silhouette"]) == ["3"]
    # the printed file, dropped into the project, checks and counts as reported
    (folder / "segments" / "with_vip.seg").write_text(report["segmentation"], encoding="utf-8")
    try:
        counted = json.loads(cli("count", str(folder), "--format", "json").stdout)["segments"]
        assert {f"with_vip.{b['name']}": b["count"] for b in report["branches"]} == \
            {s["name"]: s["count"] for s in counted if s["name"].startswith("with_vip.")}
    finally:
        (folder / "segments" / "with_vip.seg").unlink()


# ---- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, code, words", [
    (["--features", "visits,grp"], "E951", "`grp` is a string feature"),
    (["--features", "visits,signup"], "E951", "`signup` is a date feature"),
    (["--features", "visits,nothing"], "E953", "`nothing`"),
    (["--features", "visits,spnd"], "E950", "did you mean `spend`?"),
    (["--features", "visits,religion"], "E952", "sensitive"),
    (["--features", ""], "E950", "no features"),
    (["--features", "visits,spend", "--k", "3-6"], "E954", "neither a number nor a range"),
    (["--features", "visits,spend", "--k", "1"], "E954", "between 2"),
    (["--features", "visits,spend", "--k", "6..3"], "E954", "lowest first"),
    (["--features", "visits,spend", "--k", "12"], "E954", "depth"),
    (["--features", "visits,spend", "--seed", "-1"], "E954", "from 0 to 4294967295"),
    (["--features", "visits,spend", "--seed", str(2 ** 32)], "E954", "from 0 to 4294967295"),
    (["--features", "visits,spend", "--seed", "9" * 30], "E954", "from 0 to 4294967295"),
    (["--features", "visits,spend", "--name", "big_spenders"], "E957", "already defined"),
    (["--features", "visits,spend", "--name", "2x"], "E957", "not a valid"),
    (["--features", FEATURES, "--min-size", "1000"], "E958", "cannot tell the"),
    (["--features", FEATURES, "--min-size", "9" * 30], "E958", "cannot tell the"),
])
def test_bad_input(planted, args, code, words):
    folder, _out, _report = planted
    result = cli("discover", str(folder), *args)
    assert result.exit_code == 1, result.output
    assert f"error[{code}]" in result.stderr and words in result.stderr, result.stderr


def test_too_few_rows_for_k(tmp_path):
    folder = make_project(tmp_path / "tiny", planted_rows(per_group=5))
    result = cli("discover", str(folder), "--features", FEATURES, "--k", "3..6")
    assert result.exit_code == 1, result.output
    assert "error[E955]" in result.stderr and "too few customers for k = 6" in result.stderr
    assert "hint: the largest k that fits is 2: --k 2" in result.stderr, result.stderr  # 20 customers
    assert cli("discover", str(folder), "--features", FEATURES, "--k", "2", "--min-size", "2").exit_code == 0


def test_the_default_k_is_narrowed_to_the_k_that_fit(tmp_path):
    """The default --k 3..6 was refused as a whole on a population too small for k = 6
    (the project `segc init` makes): it is narrowed to the k that fit, with a note; when
    none fits, E955 names the largest k that does."""
    folder = make_project(tmp_path / "small", planted_rows(per_group=11))  # 44 customers: k <= 4
    result = cli("discover", str(folder), "--features", FEATURES, "--min-size", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["k"] in (3, 4) and set(body["silhouette"]) == {"3", "4"}
    assert "--k 3..6 (the default) narrowed to 3..4: a population of 44 allows at most 4 clusters of 10" in body["notes"]
    explicit = cli("discover", str(folder), "--features", FEATURES, "--k", "3..6")
    assert explicit.exit_code == 1 and "hint: the largest k that fits is 4: --k 3..4" in explicit.stderr
    tiny = make_project(tmp_path / "tiny", planted_rows(per_group=6))  # 24 customers: only k = 2 fits
    result = cli("discover", str(tiny), "--features", FEATURES)
    assert result.exit_code == 1 and "error[E955]" in result.stderr
    assert "hint: the largest k that fits is 2: --k 2" in result.stderr, result.stderr


def test_out_refuses_a_file_segc_did_not_write(planted, tmp_path):
    folder, _out, _report = planted
    mine = tmp_path / "mine.seg"
    mine.write_text("segment precious = visits > 3\n", encoding="utf-8")
    result = cli("discover", str(folder), "--features", FEATURES, "--name", "elsewhere", "--out", str(mine))
    assert result.exit_code == 1 and "error[E822]" in result.stderr
    assert mine.read_text(encoding="utf-8") == "segment precious = visits > 3\n"
    forced = cli("discover", str(folder), "--features", FEATURES, "--name", "elsewhere", "--out", str(mine),
                 "--force")
    assert forced.exit_code == 0, forced.output
    assert mine.read_text(encoding="utf-8").startswith("# Discovered by `segc discover`")
    missing_dir = cli("discover", str(folder), "--features", FEATURES, "--name", "other",
                      "--out", str(tmp_path / "no" / "x.seg"))
    assert missing_dir.exit_code == 1 and "error[E824]" in missing_dir.stderr


def test_means_over_fewer_than_min_group_people_are_withheld(tmp_path):
    """A feature one customer has: discover printed and wrote into the .seg that customer's
    exact value as the 'mean' (attack11 P2). Figures of fewer than min_group people (the
    profile's rule, preview.too_few) are withheld: null in JSON, — in the report and the
    file's `## Means:`, with a note; the other features' means stay."""
    rows = planted_rows()
    secret = 4321.98
    rows = [dict(r, spend=secret if i == 0 else "") for i, r in enumerate(rows)]
    folder = make_project(tmp_path / "one", rows)
    out = folder / "segments" / "discovered.seg"
    result = cli("discover", str(folder), "--features", FEATURES, "--k", "3", "--out", str(out), "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["population_means"]["spend"] is None and body["population_stddev"]["spend"] is None
    assert all(b["means"]["spend"] is None for b in body["branches"])
    assert all(c["means"]["spend"] is None for c in body["clusters"])
    assert all(b["means"]["visits"] is not None for b in body["branches"])
    assert any("fewer than min_group (10" in n for n in body["notes"]), body["notes"]
    text = cli("discover", str(folder), "--features", FEATURES, "--k", "3")
    assert text.exit_code == 0
    for shown_ in (result.stdout, text.stdout, text.stderr, out.read_text(encoding="utf-8")):
        assert "4321" not in shown_ and "4,32" not in shown_ and "4,320" not in shown_
    assert "spend — (population —)" in out.read_text(encoding="utf-8")
