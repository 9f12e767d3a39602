"""`segc serve` in headless Chromium (the system's, driven by Playwright; no browser is
downloaded): the page loads, a segment typed key by key gets the count `segc count -e`
gives, a typo shows its diagnostic inline in the editor, Save writes the formatted .seg
file. The screenshot, with SEGC_UPDATE_SCREENSHOT=1, replaces docs/playground.png (shown
in the README). Chromium missing is a failure, never a skip (.ci/run installs it)."""
from __future__ import annotations

import os
import shutil
import threading
import time

import pytest

from segc.apps.serve.app import listen
from segc.apps.serve.state import open_playground
from segc.project import load_project
from tests.conftest import EXAMPLE, ROOT

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-extensions", "--disable-dev-shm-usage"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is not installed: `apt-get install chromium` (.ci/run installs it)")
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve-browser") / "retail"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("build", "site", "*.duckdb"))
    srv, sock, url = listen(open_playground(root), 0)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield root, url
    srv.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(server[1])
        yield page
        browser.close()


def test_typed_segment_counts_as_segc_count(page, server):
    root, _url = server
    text = 'age >= 30 and country = "FR"'
    page.click(".cm-content")
    page.keyboard.type(text, delay=15)  # key by key: the debounce sees every edit
    p = load_project(root)
    expected = p.count([p.expression(text)]).segments[0].count
    page.wait_for_function(f"() => document.getElementById('count').dataset.value === '{expected}'", timeout=20000)
    page.wait_for_function("() => document.querySelectorAll('#overlap tr').length > 1", timeout=20000)
    page.wait_for_function("() => document.querySelectorAll('#profile tr').length > 1", timeout=20000)
    page.wait_for_function("() => document.getElementById('sql').textContent.includes('SELECT')", timeout=20000)
    page.wait_for_function("() => document.querySelectorAll('#segments tr').length > 10", timeout=20000)
    shot = page.screenshot(full_page=False)
    if os.environ.get("SEGC_UPDATE_SCREENSHOT"):
        (ROOT / "docs" / "playground.png").write_bytes(shot)


def test_typo_shows_inline_diagnostic(page):
    page.click(".cm-content")
    page.keyboard.press("End")
    page.keyboard.type(" and agee > 3", delay=15)
    page.wait_for_selector(".cm-lintRange-error", timeout=20000)
    assert "E2" in page.inner_text("#diagnostics") or "E1" in page.inner_text("#diagnostics")
    for _ in range(len(" and agee > 3")):
        page.keyboard.press("Backspace")
    page.wait_for_function("() => !document.querySelector('.cm-lintRange-error')", timeout=20000)


def test_save_writes_formatted_file(page, server):
    root, _url = server
    page.fill("#save-path", "segments/typed.seg")
    page.click("#save")
    page.wait_for_function("() => document.getElementById('save-status').textContent.startsWith('saved')", timeout=20000)
    written = (root / "segments" / "typed.seg").read_text()
    assert written == 'segment typed = age >= 30 and country = "FR"\n'


def test_no_token_is_refused_in_the_browser(page, server):
    import urllib.error
    import urllib.request

    url = server[1].split("?")[0]
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url)
    assert e.value.code == 403
    # a cross-origin POST from a page of another site (no token, its own Origin)
    req = urllib.request.Request(url + "api/count", data=b'{"expression": "age > 1"}', method="POST",
                                 headers={"Origin": "http://evil.example", "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403
