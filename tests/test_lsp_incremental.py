"""The language server's diagnostics after each edit equal a full check's: the workspace
that has seen every edit before (and reuses the last check where reuse.py allows it)
against a fresh workspace with the same buffers (a full `Checker` run). A series of edits:
comments and blank lines between definitions (reused, the diagnostics moved), an error
added, a referenced segment renamed, a fix, a cycle made and broken, a name defined in two
files (E213 names the other file's line: never reused)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from segc.apps.lsp.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]


def _seen(by_file) -> dict:
    """Everything a diagnostic shows, by file."""
    out = {}
    for file, diags in by_file.items():
        rows = []
        for d in diags:
            where = None
            if d.span is not None:
                where = (d.span.file, d.span.start, d.span.end, d.span.line, d.span.col, d.span.text())
            rows.append((d.code, d.severity, d.message, d.hints, d.label, d.file, where))
        out[file] = rows
    return out


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    dest = tmp_path / "retail"
    shutil.copytree(ROOT / "examples" / "retail", dest)
    return dest


def test_incremental_diagnostics_equal_a_full_check(project: Path):
    ws = Workspace(project)
    behaviour, audience = project / "segments" / "behaviour.seg", project / "segments" / "audience.seg"
    b0, a0 = behaviour.read_text(), audience.read_text()
    typo = "\nsegment typo = days_since(last_ordr_at) > 3\n"
    dup = "\nsegment inactive_6m = age > 3\n"
    cycle = "\nsegment loop_a = loop_b and age > 3\n\nsegment loop_b = loop_a\n"
    steps = [  # (file, text, how the diagnostics are had: "full", "reused", or None: either)
        (behaviour, b0, "full"),
        (behaviour, "# a comment typed first\n" + b0, "reused"),
        (behaviour, b0 + typo, "full"),  # an error added
        (behaviour, "\n\n# above\n" + b0 + typo, "reused"),  # the error moves down 3 lines
        (behaviour, "\n\n# above\n" + b0 + "\n# between\n" + typo, "reused"),
        (behaviour, "\n\n# above\n" + b0 + "\n# between\n" + typo.replace("> 3", ">  3"), "full"),  # inside one
        (behaviour, b0.replace("segment inactive_6m =", "segment inactive_6mo ="), "full"),  # a referenced one renamed
        (behaviour, "#\n" + b0.replace("segment inactive_6m =", "segment inactive_6mo ="), "reused"),
        (behaviour, b0, "full"),  # fixed
        (behaviour, b0 + cycle, "full"),
        (behaviour, b0 + "\n# the cycle:\n" + cycle, "reused"),
        (behaviour, b0 + cycle.replace("loop_b and age", "age"), "full"),  # broken
        (behaviour, b0, "full"),
        (audience, a0 + dup, "full"),  # defined in two files: E213 on behaviour.seg's, naming audience.seg:24
        (behaviour, "# moves the second definition\n" + b0, "reused"),  # the named line did not move
        (audience, "# moves the first\n" + a0 + dup, "full"),  # the named line moved: never reused
        (audience, a0, "full"),
        (behaviour, b0, None),
    ]
    codes = set()
    for i, (path, text, how) in enumerate(steps):
        ws.buffers[path] = text
        got = ws.check()
        fresh = Workspace(project)
        fresh.buffers.update(ws.buffers)
        assert _seen(got) == _seen(fresh.check()), f"step {i}"
        assert how is None or ws.last_check == how, f"step {i}: {ws.last_check}"
        codes |= {d.code for ds in got.values() for d in ds}
    assert {"E201", "E401", "E213"} <= codes  # the series did reach these problems
