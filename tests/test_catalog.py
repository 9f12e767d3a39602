"""`segc docs`: the static HTML catalogue of the retail example. Every page parses with a
real HTML parser (tags balanced), every link between pages resolves, the index lists every
segment with its size, each page carries the SQL of all 11 dialects, and the folder is
replaced atomically (and never a folder that is not a catalogue)."""
from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from typer.testing import CliRunner

import segc
from segc.apps.catalog import MARKER, build_catalog
from segc.cli.main import app
from segc.front.errors import SegcError
from segc.backend.dialects import DIALECTS
from tests.conftest import EXAMPLE

runner = CliRunner()
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Checks that tags are balanced; collects ids, links, table rows and details blocks."""

    def __init__(self, path: Path):
        super().__init__(convert_charrefs=True)
        self.path = path
        self.stack: list[str] = []
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.resources: list[str] = []
        self.details: list[str] = []  # ids of <details>
        self.rows: list[dict] = []  # data-search rows of the index
        self.text: list[str] = []
        self.codes: list[str] = []
        self._code = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag not in VOID:
            self.stack.append(tag)
        if "id" in a:
            assert a["id"] not in self.ids, f"{self.path}: duplicate id {a['id']}"
            self.ids.add(a["id"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag in ("script", "img", "link", "iframe") and (a.get("src") or a.get("href")):
            self.resources.append(a.get("src") or a.get("href"))
        if tag == "details":
            self.details.append(a.get("id", ""))
        if tag == "tr" and "data-search" in a:
            self.rows.append(a)
        if tag == "code":
            self._code = []

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        assert self.stack, f"{self.path}: </{tag}> closes nothing"
        assert self.stack[-1] == tag, f"{self.path}: </{tag}> closes <{self.stack[-1]}> (open: {self.stack})"
        self.stack.pop()
        if tag == "code" and self._code is not None:
            self.codes.append("".join(self._code))
            self._code = None

    def handle_data(self, data):
        self.text.append(data)
        if self._code is not None:
            self._code.append(data)


def parse(path: Path) -> Page:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    page = Page(path)
    page.feed(text)
    page.close()
    assert page.stack == [], f"{path}: unclosed {page.stack}"
    return page


@pytest.fixture(scope="module")
def retail():
    return segc.load_project(EXAMPLE)


@pytest.fixture(scope="module")
def site(tmp_path_factory, retail):
    out = tmp_path_factory.mktemp("docs") / "site"
    result = build_catalog(retail, out)
    assert result.counted and result.out == out
    pages = {p.relative_to(out).as_posix(): parse(p) for p in out.rglob("*.html")}
    assert sorted(pages) == sorted(p.relative_to(out).as_posix() for p in result.pages)
    return out, pages


def definitions(project) -> list[str]:
    """Segments and segmentations in file order."""
    names = [d.name for m in project.modules for d in m.definitions]
    assert set(names) == {n for n in [*project.checked.segments, *project.checked.segmentations] if "." not in n}
    return names


def test_every_page_parses_and_is_self_contained(site, retail):
    out, pages = site
    assert len(pages) == 1 + len(definitions(retail))  # the index and a page per definition
    for name, page in pages.items():
        assert page.resources == [], f"{name} loads {page.resources}"  # inline CSS/JS only
        html = (out / name).read_text(encoding="utf-8")
        assert "<style>" in html and "http://" not in html and "https://" not in html


def test_links_resolve(site):
    out, pages = site
    checked = 0
    for name, page in pages.items():
        for href in page.links:
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc, f"{name}: external link {href}"
            target = (out / name).parent / unquote(parts.path) if parts.path else out / name
            target = target.resolve()
            assert target.is_file(), f"{name}: broken link {href}"
            assert out.resolve() in target.parents, f"{name}: link {href} leaves the catalogue"
            if parts.fragment:
                assert parts.fragment in pages[target.relative_to(out.resolve()).as_posix()].ids
            checked += 1
    assert checked > 100


def test_index_lists_every_segment_with_its_size(site, retail):
    out, pages = site
    index = pages["index.html"]
    names = definitions(retail)
    assert [r["data-search"].split()[0] for r in index.rows] == names
    for n in names:
        assert f"segments/{n}.html" in index.links
    counts = retail.count()
    text = " ".join(index.text)
    assert f"{counts.population:,}" in text
    for s in counts.segments:
        if "." not in s.name:
            assert f"{s.count:,}" in text and f"{s.share:.1%}" in text
    # the search box and its script
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'id="search"' in html and "data-search" in html and "addEventListener" in html
    rows = {r["data-search"].split()[0]: r["data-search"] for r in index.rows}
    assert "rfm" in rows["loyal_big_basket"] and "crm" in rows["loyal_big_basket"]  # tags and owner


def test_segment_pages(site, retail):
    out, pages = site
    for name in definitions(retail):
        page = pages[f"segments/{name}.html"]
        text = " ".join(page.text)
        assert page.details == [f"sql-{d}" for d in DIALECTS]
        sql = [c for c in page.codes if c.lstrip().upper().startswith(("SELECT", "WITH"))]
        # a dialect that cannot express the segment (`holdout` on SQLite: E602) shows why
        refused = {}
        for d in DIALECTS:
            try:
                retail.compile(name, dialect=d)
            except segc.SegcError as e:
                refused[d] = "; ".join(x.message for x in e.diagnostics)
        assert len(sql) == len(DIALECTS) - len(refused), name
        for d, message in refused.items():
            assert f"Cannot be compiled for {d}: {message}" in text, (name, d)
        assert retail.compile(name, dialect="snowflake") + ";" in page.codes
        node = (retail.checked.segments.get(name) or retail.checked.segmentations[name]).node
        assert node.span.text() in page.codes  # the definition as written
        assert "index.html" in " ".join(page.links)
        for f in (retail.checked.segments.get(name) or retail.checked.segmentations[name]).features:
            assert f in page.codes
            if retail.schema.features[f].description:
                assert retail.schema.features[f].description in text
    lbb = " ".join(pages["segments/loyal_big_basket.html"].text)
    assert "Loyal customers with a big basket" in lbb and "crm" in lbb and "rfm" in lbb
    # references both ways
    assert "inactive_6m.html" in pages["segments/at_risk.html"].links
    assert "at_risk.html" in pages["segments/inactive_6m.html"].links
    assert "value_tier.html" in pages["segments/high_value_reachable.html"].links
    # a segmentation lists its branches with sizes
    tier = " ".join(pages["segments/value_tier.html"].text)
    sizes = {s.name: s for s in retail.count([f"value_tier.{b}" for b in ("very_good", "good", "average", "occasional")]).segments}
    for s in sizes.values():
        assert s.name in tier and f"{s.count:,}" in tier


def test_sensitive_features_and_no_preview_data(make_project, tmp_path):
    root = make_project({
        "name": "tiny", "base": "people", "key": "id",
        "sources": {"people": {"table": "crm.people"}},
        "features": {"age": {"type": "int", "description": "Age <in years>"},
                     "religion": {"type": "string", "sensitive": True, "description": "Declared religion"}},
    }, '## Adults & <friends>.\n@owner("legal") @tags(demo)\n'
       '@allow_sensitive("audited exclusion list")\nsegment adults = age >= 18 and religion is missing\n')
    result = build_catalog(segc.load_project(root), tmp_path / "out")
    assert not result.counted and result.note  # no path: for DuckDB
    page = parse(tmp_path / "out" / "segments" / "adults.html")
    html = (tmp_path / "out" / "segments" / "adults.html").read_text(encoding="utf-8")
    assert 'class="badge-sensitive"' in html and "Declared religion" in html
    assert "Age &lt;in years&gt;" in html and "Adults &amp; &lt;friends&gt;." in html  # escaped
    assert "No sizes" in " ".join(page.text)
    parse(tmp_path / "out" / "index.html")


def test_written_atomically_and_safely(tmp_path, retail):
    out = tmp_path / "site"
    build_catalog(retail, out, counts=False, dialects=("duckdb",))
    (out / "stale.html").write_text("old", encoding="utf-8")
    build_catalog(retail, out, counts=False, dialects=("duckdb",))  # a previous catalogue is replaced as a whole
    assert not (out / "stale.html").exists() and (out / MARKER).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no temporary folders left

    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(SegcError) as info:
        build_catalog(retail, precious)
    assert info.value.diagnostics[0].code == "E822"
    assert (precious / "notes.txt").read_text(encoding="utf-8") == "keep me"
    afile = tmp_path / "file.html"
    afile.write_text("x", encoding="utf-8")
    with pytest.raises(SegcError):
        build_catalog(retail, afile)


def test_cli(tmp_path, retail):
    result = runner.invoke(app, ["docs", "--out", str(tmp_path / "site"), "-p", str(EXAMPLE), "--no-counts"])
    assert result.exit_code == 0, result.output
    assert f"wrote {1 + len(definitions(retail))} pages" in result.stderr
    parse(tmp_path / "site" / "index.html")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x", encoding="utf-8")
    result = runner.invoke(app, ["docs", "--out", str(tmp_path / "taken"), "-p", str(EXAMPLE)])
    assert result.exit_code == 1 and "E822" in result.stderr


def test_jinja_is_imported_lazily():
    code = "import sys, segc.apps.catalog, segc.cli.main; print('jinja2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_templates_are_package_data():
    text = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert "templates/docs/*.j2" in text
    assert sorted(p.name for p in (Path(segc.__file__).parent / "apps" / "templates" / "docs").glob("*.j2")) == \
        ["base.html.j2", "index.html.j2", "segment.html.j2"]


def test_the_catalogue_never_replaces_the_current_or_project_folder(tmp_path, monkeypatch):
    """`segc docs --out .` from an empty folder used to swap out the folder the shell was in."""
    import shutil

    project = tmp_path / "retail"
    shutil.copytree(Path(__file__).resolve().parent.parent / "examples" / "retail", project,
                    ignore=shutil.ignore_patterns("build", "site"))
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    p = segc.load_project(project)
    for out, what in ((here, "the current folder"), (project, "the project folder"), (tmp_path, "the project folder")):
        with pytest.raises(segc.SegcError) as e:
            build_catalog(p, out, counts=False)
        assert e.value.diagnostics[0].code == "E822" and what in e.value.diagnostics[0].message
    assert here.is_dir() and not any(here.iterdir())
