"""`segc lsp` with an unsaved segc.yml: the buffer's text is the schema (its problems located
on segc.yml, the .seg files checked against it), and closing it without saving brings the
file on disk back. The expected diagnostics are those of the project written to disk
(a second copy), checked as `segc check` checks it."""
from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from segc.apps.lsp.server import lsp_range
from segc.apps.lsp.workspace import Workspace
from tests.lsp_session import ROOT, change_doc as _change, client, open_doc as _open, project  # noqa: F401 (fixtures)


async def _until(client: LanguageClient, expected: dict[str, list], timeout: float = 30.0) -> None:
    """Poll the client's latest publication per file until each listed file has exactly the
    expected (code, range) list; a timeout fails with what was published."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = {uri: [(d.code, d.range) for d in client.diagnostics.get(uri, [])] for uri in expected}
        if all(uri in client.diagnostics for uri in expected) and got == expected:
            return
        assert loop.time() < deadline, f"published {got}, expected {expected}"
        await asyncio.sleep(0.02)


def _on_disk(tmp: Path, yml: str) -> dict[str, list]:
    """The diagnostics of the example with this segc.yml saved: (code, range) by file URI."""
    root = tmp / "retail"
    if not root.exists():
        shutil.copytree(ROOT / "examples" / "retail", root)
    (root / "segc.yml").write_text(yml)
    by_file = Workspace(root).check()
    return {Path(f).name: [(d.code, lsp_range(d)) for d in ds] for f, ds in by_file.items()}


@pytest.mark.asyncio(loop_scope="module")
async def test_unsaved_segc_yml_takes_precedence(client: LanguageClient, project: Path, tmp_path: Path):
    yml_path, seg_path = project / "segc.yml", project / "segments" / "audience.seg"
    disk = yml_path.read_text()
    yml = _open(client, yml_path, disk, "yaml")
    seg = _open(client, seg_path, seg_path.read_text(), "seg")
    await _until(client, {yml: [], seg: []})

    # a feature renamed in the unsaved buffer: its uses in a .seg are unknown names
    renamed = disk.replace("\n  age:\n", "\n  age_years:\n")
    assert renamed != disk
    _change(client, yml, renamed, 2)
    want = _on_disk(tmp_path, renamed)
    assert want["audience.seg"] and {c for c, _ in want["audience.seg"]} == {"E201"}
    await _until(client, {yml: want["segc.yml"], seg: want["audience.seg"]})
    assert yml_path.read_text() == disk  # nothing was saved

    # a feature's type changed: a comparison with a number no longer type-checks
    retyped = disk.replace("  age:\n    type: int\n", "  age:\n    type: string\n")
    assert retyped != disk
    _change(client, yml, retyped, 3)
    want = _on_disk(tmp_path, retyped)
    assert want["audience.seg"] and "E201" not in {c for c, _ in want["audience.seg"]}
    await _until(client, {yml: want["segc.yml"], seg: want["audience.seg"]})

    # a problem of segc.yml itself: published on segc.yml, at the bad value
    bad = disk.replace("  age:\n    type: int\n", "  age:\n    type: integr\n")
    _change(client, yml, bad, 4)
    want = _on_disk(tmp_path, bad)
    assert want["segc.yml"]
    line = bad.split("\n").index("    type: integr")
    _, where = want["segc.yml"][0]
    assert where.start == lsp.Position(line, len("    type: "))  # the value, as `segc check` locates it
    await _until(client, {yml: want["segc.yml"], seg: want["audience.seg"]})

    # fixed in the buffer: cleared
    _change(client, yml, disk, 5)
    await _until(client, {yml: [], seg: []})

    # broken again, then closed without saving: the file on disk counts again
    _change(client, yml, renamed, 6)
    await _until(client, {seg: _on_disk(tmp_path, renamed)["audience.seg"]})
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri=yml)))
    await _until(client, {yml: [], seg: []})


@pytest.mark.parametrize("eol", ["\r\n", "\r"])
def test_buffer_line_ends_do_not_move_positions(tmp_path: Path, eol: str):
    """An editor may hold a buffer with \\r\\n or lone \\r line ends (LSP counts all three as
    line ends; the parser \\n only): its diagnostics, hover words and format edits are at the
    lines and columns of the same text with \\n, in .seg buffers as in segc.yml's."""
    root = tmp_path / "retail"
    shutil.copytree(ROOT / "examples" / "retail", root)
    seg = root / "segments" / "attack.seg"
    text = 'segment a = age > 30\n\n# a note\nsegment b =   age >> 3 and\n  unknown_x > 1\n'
    yml = (root / "segc.yml").read_text().replace("\n  age:\n", "\n  age_years:\n")

    def published(seg_text: str, yml_text: str):
        ws = Workspace(root)
        ws.buffers[seg.resolve()] = seg_text
        ws.buffers[ws.yml] = yml_text
        ws.reload_schema()
        by_file = ws.check()
        return {Path(f).name: [(d.code, lsp_range(d)) for d in ds] for f, ds in by_file.items()}, ws

    want, ws_lf = published(text, yml)
    got, ws = published(text.replace("\n", eol), yml.replace("\n", eol))
    assert want["attack.seg"]  # the check found the errors of the .seg
    assert got == want
    assert ws.text(seg.resolve()) == ws_lf.text(seg.resolve())
