"""Annotations are validated: a typo must not silently drop a rule such as min_size."""
from __future__ import annotations

import pytest

import segc

CONFIG = {"name": "a", "base": "customers", "key": "id", "sources": {"customers": {"table": "customers"}},
          "features": {"age": {"type": "int"}}}


@pytest.mark.parametrize("annotation,message", [
    ('@min_sise(500)', "unknown annotation `@min_sise`"),
    ('@colour("red")', "unknown annotation `@colour`"),
    ('@min_size("x")', "`@min_size` takes one whole number"),
    ('@min_size(10.5)', "`@min_size` takes one whole number"),
    ('@min_size(1, 2)', "`@min_size` takes one whole number"),
    ('@owner()', "`@owner` takes one string"),
    ('@allow_sensitive("  ")', "`@allow_sensitive` takes one non-empty reason"),
    ('@owner("a") @owner("b")', "`@owner` is given twice"),
])
def test_bad_annotations(make_project, annotation, message):
    root = make_project(CONFIG, f"{annotation}\nsegment s = age > 1\n")
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(root)
    text = str(e.value)
    assert "E214" in text and message in text and "main.seg:1:" in text


def test_suggestion_and_good_annotations(make_project):
    root = make_project(CONFIG, '@min_sise(5)\nsegment s = age > 1\n')
    with pytest.raises(segc.SegcError) as e:
        segc.load_project(root)
    assert "did you mean `@min_size`?" in str(e.value)
    ok = make_project(CONFIG, '@owner("crm") @tags(a, "b c") @min_size(3)\nsegment s = age > 1\n', name="ok")
    project = segc.load_project(ok)
    assert project.min_size("s") == 3
