"""The cache of what reading a project's files produced (segc/front/parse_cache.py).

Its promise: a project loaded with the cache is the project loaded without it — the same
syntax trees with the same spans, the same schema, models, diagnostics and SQL — and a
cache that is damaged, stale, shared or unwritable never changes an answer or raises."""
from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest

import segc
from segc.front import parse_cache
from segc.front.files import read_source
from segc.front.parser import parse_module
from segc.front.source import Source, Span
from segc.schema.segc_yml import load_schema

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = [ROOT / "examples" / "retail", ROOT / "tests" / "golden" / "project",
            ROOT / "benchmarks" / "count_speed_project"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The cache on, in a folder of this test's own."""
    monkeypatch.delenv("SEGC_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "segc"


def tree(value):
    """A value with every span made visible (spans take no part in equality)."""
    if isinstance(value, Span):
        return ("span", value.source.name, value.start, value.end)
    if isinstance(value, Source):
        return ("source", value.name, value.text)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple((f.name, tree(getattr(value, f.name))) for f in dataclasses.fields(value)))
    if isinstance(value, (list, tuple)):
        return tuple(tree(v) for v in value)
    if isinstance(value, dict):
        return tuple((tree(k), tree(v)) for k, v in value.items())
    return value


def entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.rglob("*") if p.is_file()) if cache_dir.exists() else []


def spans_of(value, out: list):
    if isinstance(value, Span):
        out.append(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            spans_of(getattr(value, f.name), out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            spans_of(v, out)
    return out


def loaded(project: Path):
    p = segc.load_project(project)
    sql = {name: p.compile(name, dialect=d) for name in sorted(p.checked.segments) for d in ("duckdb", "postgres")}
    return tree(p.modules), tree(p.schema), tree(p.warnings), sql


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_a_project_loaded_from_the_cache_is_the_project_read(project, cache, monkeypatch, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(project, copy, ignore=shutil.ignore_patterns("data", ".segc"))  # compiling reads no data
    monkeypatch.setenv("SEGC_NO_CACHE", "1")
    without = loaded(copy)
    assert not entries(cache)
    monkeypatch.delenv("SEGC_NO_CACHE")
    first = loaded(copy)  # misses: reads and writes the entries
    kinds = {p.parent.name for p in entries(cache)}
    assert {"seg", "yml"} <= kinds
    written = {p: p.read_bytes() for p in entries(cache)}
    second = loaded(copy)  # hits
    assert {p: p.read_bytes() for p in entries(cache)} == written  # nothing rewritten: they were hits
    assert first == without
    assert second == without


def test_a_hit_points_its_spans_at_the_source_given(cache, tmp_path):
    file = tmp_path / "a.seg"
    file.write_text("# doc\nsegment big = age > 30 and country in [\"FR\", \"DE\"]\n\n# remark-only-in-the-text\n",
                    encoding="utf-8")
    read = read_source(file, "a.seg")
    first = parse_cache.cached("seg", read, lambda: parse_module(read))
    again = read_source(file, "a.seg")
    second = parse_cache.cached("seg", again, lambda: pytest.fail("a hit must not parse"))
    assert tree(second) == tree(first)
    spans = spans_of(second, [])
    assert spans and all(s.source is again for s in spans)
    # the entry does not hold the text: the source is given back, not stored
    (entry,) = entries(cache)
    assert b"remark-only-in-the-text" not in entry.read_bytes()


def test_an_edited_file_is_read_again_and_replaces_its_entry(cache, tmp_path):
    file = tmp_path / "a.seg"
    calls = []

    def parse(src):
        calls.append(src.text)
        return parse_module(src)

    for text in ("segment a = age > 30\n", "segment a = age > 31\n", "segment a = age > 30\n"):
        file.write_text(text, encoding="utf-8")
        src = read_source(file, "a.seg")
        module = parse_cache.cached("seg", src, lambda: parse(src))
        assert tree(module) == tree(parse_module(src))
    assert len(calls) == 3  # each version differs from the one the slot holds
    assert len(entries(cache)) == 1  # one slot per file, not one per version


def test_another_name_or_kind_is_another_entry(cache):
    src = Source("x.seg", "segment a = age > 30\n")
    other = Source("y.seg", src.text)
    a = parse_cache.cached("seg", src, lambda: parse_module(src))
    b = parse_cache.cached("seg", other, lambda: parse_module(other))
    assert {s.source.name for s in spans_of(a, [])} == {"x.seg"}
    assert {s.source.name for s in spans_of(b, [])} == {"y.seg"}
    assert len(entries(cache)) == 2


def test_a_change_of_segc_or_pyyaml_code_is_a_miss(cache, monkeypatch):
    src = Source("x.seg", "segment a = age > 30\n")
    parse_cache.cached("seg", src, lambda: parse_module(src))
    monkeypatch.setattr(parse_cache, "_fingerprint", b"another version of the code")
    calls = []
    parse_cache.cached("seg", src, lambda: calls.append(1) or parse_module(src))
    assert calls == [1]


def test_the_fingerprint_follows_the_code_files(tmp_path, monkeypatch):
    """Size and mtime of segc's files: touching one changes it (as Python's .pyc)."""
    monkeypatch.setattr(parse_cache, "_fingerprint", None)
    before = parse_cache._code_fingerprint()
    target = Path(parse_cache.__file__)
    st = target.stat()
    try:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        monkeypatch.setattr(parse_cache, "_fingerprint", None)
        assert parse_cache._code_fingerprint() != before
    finally:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
        monkeypatch.setattr(parse_cache, "_fingerprint", None)
    assert parse_cache._code_fingerprint() == before


@pytest.mark.parametrize("damage", [b"", b"\x00" * 10, b"garbage", "truncated", "other key", "not a pickle"])
def test_a_damaged_entry_is_a_miss_never_an_error(cache, damage):
    src = Source("x.seg", "segment a = age > 30\n")
    expected = tree(parse_cache.cached("seg", src, lambda: parse_module(src)))
    (entry,) = entries(cache)
    data = entry.read_bytes()
    if damage == "truncated":
        damage = data[: len(data) // 2]
    elif damage == "other key":
        damage = bytes(32) + data[32:]
    elif damage == "not a pickle":
        damage = data[:32] + b"\x80\x05not a pickle"
    entry.write_bytes(damage)
    assert tree(parse_cache.cached("seg", src, lambda: parse_module(src))) == expected
    assert entry.read_bytes() == data  # repaired


def test_errors_are_not_kept(cache, tmp_path):
    src = Source("bad.seg", "segment a = age >\n")
    for _ in range(2):
        with pytest.raises(segc.SegcError) as e:
            parse_cache.cached("seg", src, lambda: parse_module(src))
        assert e.value.diagnostics[0].code.startswith("E1")
    assert not entries(cache)


def test_off_with_segc_no_cache(cache, monkeypatch):
    monkeypatch.setenv("SEGC_NO_CACHE", "1")
    src = Source("x.seg", "segment a = age > 30\n")
    parse_cache.cached("seg", src, lambda: parse_module(src))
    assert not entries(cache)


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_a_folder_others_can_write_is_not_used(cache):
    """Pickle runs code when it loads: a cache folder another user could write to is a way
    to run code as this user, so it is not read (nor written)."""
    cache.mkdir(parents=True)
    os.chmod(cache, 0o777)
    src = Source("x.seg", "segment a = age > 30\n")
    parse_cache.cached("seg", src, lambda: parse_module(src))
    assert not entries(cache)
    os.chmod(cache, 0o700)
    parse_cache.cached("seg", src, lambda: parse_module(src))
    assert len(entries(cache)) == 1


def test_an_unwritable_cache_is_no_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("SEGC_NO_CACHE", raising=False)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # segc's folder cannot be made under a file
    src = Source("x.seg", "segment a = age > 30\n")
    assert tree(parse_cache.cached("seg", src, lambda: parse_module(src))) == tree(parse_module(src))


def test_the_yaml_of_segc_yml_with_its_problems(cache, tmp_path):
    """load_schema(cache=True): the same schema and the same located problems, a hit or not."""
    text = (ROOT / "examples" / "retail" / "segc.yml").read_text(encoding="utf-8")
    # a feature with a problem is left out, and the schema still built
    text = text.replace("features:\n", "features:\n  broken_one:\n    type: nonsense\n", 1)
    src = Source("segc.yml", text)
    plain = load_schema(src, ROOT / "examples" / "retail")
    miss = load_schema(src, ROOT / "examples" / "retail", cache=True)
    hit = load_schema(Source("segc.yml", text), ROOT / "examples" / "retail", cache=True)
    assert tree(plain[0]) == tree(miss[0]) == tree(hit[0])
    assert plain[1] and tree(plain[1]) == tree(miss[1]) == tree(hit[1])
    assert [p.parent.name for p in entries(cache)] == ["yml"]


def test_a_damaged_model_is_e938_every_time(cache, tmp_path):
    project = tmp_path / "retail"
    shutil.copytree(ROOT / "examples" / "retail", project, ignore=shutil.ignore_patterns("data", ".segc"))
    models = sorted((project / "models").glob("*.yml"))
    assert models
    segc.load_project(project)  # the models' entries written
    models[0].write_text("features: [unclosed\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(segc.SegcError) as e:
            segc.load_project(project)
        assert "E938" in {d.code for d in e.value.diagnostics}


def test_a_file_name_that_is_not_utf8(cache, tmp_path, monkeypatch):
    """A name with bytes that are not UTF-8 (os.fsdecode: lone surrogates) was a traceback."""
    project = tmp_path / "p"
    shutil.copytree(ROOT / "tests" / "golden" / "project", project)
    (project / "segments" / os.fsdecode(b"\xff\xfe.seg")).write_text("segment weird = age > 30\n", encoding="utf-8")
    monkeypatch.setenv("SEGC_NO_CACHE", "1")
    without = loaded(project)
    monkeypatch.delenv("SEGC_NO_CACHE")
    assert loaded(project) == without  # a miss: written
    assert loaded(project) == without  # a hit
    assert len([p for p in entries(cache) if p.parent.name == "seg"]) == len(list((project / "segments").glob("*.seg")))


@pytest.mark.parametrize("xdg", [None, "relative/cache"])
def test_no_home_no_cache_folder_named_tilde(tmp_path, monkeypatch, xdg):
    """No HOME and no entry in the password database (a container run with an arbitrary uid):
    os.path.expanduser("~") stays "~", and the cache went to ./~/.cache/segc, a folder named
    `~` in the project (s12C F12). A relative XDG_CACHE_HOME is ignored (XDG spec). No cache
    then, and nothing written in the current folder."""
    import pwd

    def no_user(uid):
        raise KeyError(uid)

    monkeypatch.delenv("SEGC_NO_CACHE", raising=False)
    monkeypatch.delenv("HOME", raising=False)
    if xdg:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    else:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_user)
    project = tmp_path / "p"
    shutil.copytree(ROOT / "tests" / "golden" / "project", project)
    monkeypatch.chdir(project)
    before = sorted(p.name for p in project.iterdir())
    assert parse_cache.cache_folder("seg") is None
    segc.load_project(project)
    assert sorted(p.name for p in project.iterdir()) == before
