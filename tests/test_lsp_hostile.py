"""`segc lsp` given what editors send besides tidy files: a buffer with no file behind it
(`untitled:`), a request on a file that is neither open nor on disk, characters beyond
U+FFFF (two UTF-16 units: LSP's positions), a .seg file that is not UTF-8 and a folder
named like one. Never a traceback or an error popup; each problem is a diagnostic where
`segc check` gives one, and the rest of the project keeps working."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.lsp_session import client, open_doc, project  # noqa: F401 (fixtures)

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _published(client: LanguageClient, uri: str, until, timeout: float = 30.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = client.diagnostics.get(uri)
        if got is not None and until(got):
            return list(got)
        assert loop.time() < deadline, f"no diagnostics as expected for {uri}: {got}"
        await asyncio.sleep(0.02)


def _no_error_shown(client: LanguageClient) -> None:
    assert not [m for m in client.messages if m.type == lsp.MessageType.Error], client.messages
    assert client.error is None


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_an_untitled_buffer_is_left_alone(client: LanguageClient, project: Path):
    uri = "untitled:Untitled-1.seg"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="seg", version=1, text="segment a = age > 3\n")))
    doc = lsp.TextDocumentIdentifier(uri=uri)
    assert await client.text_document_hover_async(lsp.HoverParams(doc, lsp.Position(0, 13))) is None
    assert await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(doc, lsp.FormattingOptions(tab_size=2, insert_spaces=True))) is None
    _no_error_shown(client)


async def test_a_request_on_a_file_that_does_not_exist_answers_nothing(client: LanguageClient, project: Path):
    doc = lsp.TextDocumentIdentifier(uri=(project / "segments" / "nope.seg").as_uri())
    assert await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(doc, lsp.FormattingOptions(tab_size=2, insert_spaces=True))) is None
    assert await client.text_document_hover_async(lsp.HoverParams(doc, lsp.Position(0, 3))) is None
    assert await client.text_document_completion_async(lsp.CompletionParams(doc, lsp.Position(0, 3))) is None
    _no_error_shown(client)


async def test_positions_are_utf16_units_beyond_u_ffff(client: LanguageClient, project: Path):
    line = 'segment e1 = city = "😀😀" or agee > 3'
    uri = open_doc(client, project / "segments" / "emoji.seg", line + "\n")
    diags = await _published(client, uri, lambda got: any(d.code == "E201" for d in got))
    e201 = next(d for d in diags if d.code == "E201")
    start = _units(line[:line.index("agee")])
    assert e201.range == lsp.Range(lsp.Position(0, start), lsp.Position(0, start + 4)), e201.range
    # positions coming in: a hover, and a completion at the end of the line (after the emoji)
    hover = await client.text_document_hover_async(lsp.HoverParams(
        lsp.TextDocumentIdentifier(uri=uri), lsp.Position(0, _units(line[:line.index("city")]) + 1)))
    assert hover is not None and "city" in hover.contents.value
    fixed = 'segment e1 = city = "😀😀" or age > 3'
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        lsp.VersionedTextDocumentIdentifier(uri=uri, version=2), [lsp.TextDocumentContentChangeWholeDocument(fixed + "\n")]))
    await _published(client, uri, lambda got: not any(d.code == "E201" for d in got))
    items = await client.text_document_completion_async(lsp.CompletionParams(
        lsp.TextDocumentIdentifier(uri=uri), lsp.Position(0, _units(fixed))))
    assert items is not None and any(i.label == "age" for i in items.items)
    _no_error_shown(client)


async def test_a_file_that_is_not_utf8_is_e007_and_the_rest_still_checks(client: LanguageClient, project: Path):
    (project / "segments" / "latin.seg").write_bytes(b"segment bad = age > 3 # \xff\xfe\n")
    (project / "segments" / "folder.seg").mkdir()
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams([lsp.FileEvent(
        uri=(project / "segments" / "latin.seg").as_uri(), type=lsp.FileChangeType.Created)]))
    latin = await _published(client, (project / "segments" / "latin.seg").as_uri(),
                             lambda got: any(d.code == "E007" for d in got))
    assert "not UTF-8" in latin[0].message
    path = project / "segments" / "value.seg"
    uri = open_doc(client, path, path.read_text() + "\nsegment typo2 = agee > 3\n")
    diags = await _published(client, uri, lambda got: any(d.code == "E201" for d in got))
    assert [d.code for d in diags] == ["E201"]
    _no_error_shown(client)


def _applied_project_checks(project: Path, edit: lsp.WorkspaceEdit, tmp_path: Path) -> None:
    """The rename's edits applied to a copy of the project (one-line edits, from the end of
    each line first): `segc check` passes on it."""
    import shutil

    from typer.testing import CliRunner

    from segc.cli.main import app

    copy = tmp_path / "renamed"
    shutil.copytree(project, copy)
    for uri, edits in edit.changes.items():
        path = copy / Path(uri.removeprefix("file://")).relative_to(project)
        lines = path.read_text().split("\n")
        for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
            assert e.range.start.line == e.range.end.line
            line = lines[e.range.start.line]
            lines[e.range.start.line] = line[:e.range.start.character] + e.new_text + line[e.range.end.character:]
        path.write_text("\n".join(lines))
    for scratch in ("emoji.seg", "latin.seg", "folder.seg"):  # the other tests' files
        target = copy / "segments" / scratch
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
    result = CliRunner().invoke(app, ["check", "-p", str(copy)])
    assert result.exit_code == 0, result.output


async def test_a_rename_the_project_cannot_take_is_refused(client: LanguageClient, project: Path, tmp_path: Path):
    """A name the language cannot write or one already taken would break the project:
    refused with a message, nothing edited. A good name renames segc.yml's mentions too (an
    experiment's arm): the project still checks."""
    from pygls.exceptions import JsonRpcException

    path = project / "segments" / "experiments.seg"
    text = path.read_text()
    uri = open_doc(client, path, text)
    line = next(i for i, l in enumerate(text.split("\n")) if l.startswith("segment loyal_target"))
    at = lsp.Position(line, len("segment lo"))
    doc = lsp.TextDocumentIdentifier(uri=uri)
    for new, words in (("and", "not a name"), ("bad name", "not a name"), ("", "not a name"), ("1x", "not a name"),
                       ("at_risk", "already a name"), ("age", "already a name")):
        with pytest.raises(JsonRpcException) as refused:
            await client.text_document_rename_async(lsp.RenameParams(doc, at, new))
        assert words in str(refused.value), (new, refused.value)
    # segc.yml's experiment arm is renamed with the definition, and listed among its references
    yml = (project / "segc.yml").read_text()
    arm = next(i for i, l in enumerate(yml.split("\n")) if l.strip() == "target: loyal_target")
    refs = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=doc, position=at, context=lsp.ReferenceContext(include_declaration=True)))
    assert any(r.uri.endswith("segc.yml") and r.range.start.line == arm for r in refs), refs
    edit = await client.text_document_rename_async(lsp.RenameParams(doc, at, "loyal_target2"))
    yml_edits = next(v for k, v in edit.changes.items() if k.endswith("segc.yml"))
    assert [(e.range.start.line, e.new_text) for e in yml_edits] == [(arm, "loyal_target2")]
    col = yml.split("\n")[arm].index("loyal_target")
    assert (yml_edits[0].range.start.character, yml_edits[0].range.end.character) == (col, col + len("loyal_target"))
    _applied_project_checks(project, edit, tmp_path)
    rfm = project / "segments" / "rfm.seg"
    rfm_text = rfm.read_text()
    rfm_uri = open_doc(client, rfm, rfm_text)
    line = next(i for i, l in enumerate(rfm_text.split("\n")) if l.startswith("segment "))
    name = rfm_text.split("\n")[line].split()[1]
    edit = await client.text_document_rename_async(lsp.RenameParams(
        lsp.TextDocumentIdentifier(uri=rfm_uri), lsp.Position(line, len("segment ") + 1), name + "_2"))
    assert edit is not None and any(edit.changes.values())
    _no_error_shown(client)
