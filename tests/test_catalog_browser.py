"""`segc docs` in a real browser: headless Chromium runs the index's search script (the
`?q=` query fills the search box) and the rows it leaves visible are those whose name,
owner, tags or kind hold every search word, worked out here from the build manifest.
Screenshots of the index and of a segmentation's page; with SEGC_UPDATE_SCREENSHOT=1 they
replace docs/img/catalog-index.png and docs/img/catalog-segment.png (shown in the README).
Chromium missing is a failure, never a skip (.ci/run installs it)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

import segc
from segc.apps.build import render_build
from segc.apps.catalog import build_catalog
from tests.conftest import EXAMPLE, ROOT


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: `apt-get install chromium` (.ci/run installs it)")
    return path


def headless(*args: str, user_data: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         f"--user-data-dir={user_data}", "--hide-scrollbars", "--virtual-time-budget=5000", *args],
        capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def retail():
    return segc.load_project(EXAMPLE)


@pytest.fixture(scope="module")
def site(tmp_path_factory, retail):
    out = tmp_path_factory.mktemp("catalog") / "site"
    build_catalog(retail, out)
    return out


@pytest.fixture(scope="module")
def searchable(retail) -> dict[str, str]:
    """Per definition, the words the search looks in, from the manifest (not the HTML)."""
    _files, manifest = render_build(retail, "select", "duckdb")
    return {name: " ".join([name, m["owner"] or "", *m["tags"], m["kind"]]).lower()
            for name, m in manifest["segments"].items()}


@pytest.mark.parametrize("query", ["rfm", "crm churn", "VALUE", "segmentation", "nothing_matches_this"])
def test_search_filters_the_index(site, searchable, query, tmp_path):
    url = (site / "index.html").as_uri() + "?q=" + quote(query)
    result = headless("--dump-dom", url, user_data=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    rows = re.findall(r'<tr data-search="([^"]*)"( hidden="")?>', result.stdout)
    assert len(rows) == len(searchable)
    visible = sorted(text.split()[0] for text, hidden in rows if not hidden)
    words = query.lower().split()
    expected = sorted(n for n, text in searchable.items() if all(w in text for w in words))
    assert visible == expected
    assert f"{len(expected)} of {len(searchable)} shown" in result.stdout
    if query == "rfm":  # the tag and the segmentation named after it, not only the names
        assert {"rfm", "loyal_big_basket", "cross_sell"} <= set(visible)


@pytest.mark.parametrize("page, image", [("index.html", "catalog-index.png"),
                                         ("segments/value_tier.html", "catalog-segment.png")])
def test_screenshots(site, page, image, tmp_path):
    png = tmp_path / image
    result = headless("--window-size=1280,900", f"--screenshot={png}", (site / page).as_uri(),
                      user_data=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a drawn page, not a blank one
    if os.environ.get("SEGC_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(png, ROOT / "docs" / "img" / image)
