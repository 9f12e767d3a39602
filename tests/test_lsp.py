"""`segc lsp` end to end: a real LSP client (pytest-lsp) over stdio, one server for the
module, on a copy of examples/retail."""
from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pytest_lsp import LanguageClient

from tests.lsp_session import change_doc as _change, client, open_doc as _open, project  # noqa: F401 (fixtures)


async def _diagnostics(client: LanguageClient, uri: str, until, timeout: float = 30.0) -> list[lsp.Diagnostic]:
    """The file's published diagnostics once `until(codes)` holds. Polls the client's store
    of the latest publication per file: waiting for the next notification instead could
    miss one that arrived before the wait began (and hang); a timeout fails the test."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        got = client.diagnostics.get(uri)
        if got is not None and until([d.code for d in got]):
            return list(got)
        assert loop.time() < deadline, f"no diagnostics as expected for {uri} within {timeout} s: {got}"
        await asyncio.sleep(0.02)


@pytest.mark.asyncio(loop_scope="module")
async def test_error_typed_then_fixed(client: LanguageClient, project: Path):
    path = project / "segments" / "behaviour.seg"
    text = path.read_text()
    uri = _open(client, path, text)
    assert await _diagnostics(client, uri, lambda codes: codes == []) == []
    broken = text + "\nsegment typo = days_since(last_ordr_at) > 3\n"
    _change(client, uri, broken, 2)
    diags = await _diagnostics(client, uri, lambda codes: codes != [])
    assert [d.code for d in diags] == ["E201"]
    line = broken.split("\n").index("segment typo = days_since(last_ordr_at) > 3")
    col = broken.split("\n")[line].index("last_ordr_at")
    assert diags[0].range == lsp.Range(lsp.Position(line, col), lsp.Position(line, col + len("last_ordr_at")))
    assert "last_order_at" in diags[0].message  # the hint, as segc check gives it
    _change(client, uri, text, 3)
    assert await _diagnostics(client, uri, lambda codes: codes == []) == []


@pytest.mark.asyncio(loop_scope="module")
async def test_formatting_is_segc_fmt(client: LanguageClient, project: Path):
    from segc.front.fmt import format_source

    path = project / "segments" / "campaigns.seg"
    messy = "segment   x_fmt=age>=30   and not vip\n"
    uri = _open(client, path, messy)
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        lsp.TextDocumentIdentifier(uri=uri), lsp.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert [e.new_text for e in edits] == [format_source(messy)]
    assert edits[0].new_text != messy


def _pos(text: str, needle: str, offset: int = 0) -> lsp.Position:
    i = text.index(needle) + offset
    return lsp.Position(text.count("\n", 0, i), i - text.rfind("\n", 0, i) - 1)


@pytest.mark.asyncio(loop_scope="module")
async def test_completion_features_and_columns(client: LanguageClient, project: Path):
    path = project / "segments" / "audience.seg"
    text = path.read_text() + "\nsegment c1 = count(orders where ca) > 1 and bas\n"
    uri = _open(client, path, text)
    doc = lsp.TextDocumentIdentifier(uri=uri)
    got = await client.text_document_completion_async(lsp.CompletionParams(doc, _pos(text, "where ca", 8)))
    columns = {i.label: i.detail for i in got.items}
    assert columns["category"] == "string" and "basket_avg" not in columns  # the columns of orders only
    got = await client.text_document_completion_async(lsp.CompletionParams(doc, _pos(text, "and bas", 7)))
    items = {i.label: i for i in got.items}
    assert items["basket_avg"].kind == lsp.CompletionItemKind.Field and items["basket_avg"].detail.startswith("float")
    assert items["inactive_6m"].kind == lsp.CompletionItemKind.Class and "value_tier.good" in items
    assert {"during", "where", "segment"} <= set(items)


@pytest.mark.asyncio(loop_scope="module")
async def test_hover_definition_references_rename(client: LanguageClient, project: Path):
    path = project / "segments" / "behaviour.seg"
    text = path.read_text()
    uri = _open(client, path, text)
    doc = lsp.TextDocumentIdentifier(uri=uri)
    at = _pos(text, "not loyal_big_basket", 5)  # defined in another file
    hover = await client.text_document_hover_async(lsp.HoverParams(doc, at))
    assert "loyal_big_basket" in hover.contents.value
    target = await client.text_document_definition_async(lsp.DefinitionParams(doc, at))
    assert target.uri != uri and target.uri.endswith(".seg")
    defined = (project / "segments" / Path(target.uri).name).read_text().split("\n")[target.range.start.line]
    assert "segment loyal_big_basket" in defined
    feature = await client.text_document_definition_async(lsp.DefinitionParams(doc, _pos(text, "abandoned_cart_value_30d")))
    assert feature.uri.endswith("segc.yml")
    yml_line = (project / "segc.yml").read_text().split("\n")[feature.range.start.line]
    assert "abandoned_cart_value_30d" in yml_line
    hover = await client.text_document_hover_async(lsp.HoverParams(doc, _pos(text, "abandoned_cart_value_30d")))
    assert "carts" in hover.contents.value  # its source
    refs = await client.text_document_references_async(lsp.ReferenceParams(
        context=lsp.ReferenceContext(include_declaration=True), text_document=doc,
        position=_pos(text, "segment inactive_6m", 9)))
    assert len(refs) >= 2
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=doc, position=_pos(text, "segment inactive_6m", 9), new_name="dormant_6m"))
    edits = edit.changes[uri]
    assert len(edits) == len(refs) and all(e.new_text == "dormant_6m" for e in edits)
    for e in edits:
        line = text.split("\n")[e.range.start.line]
        assert line[e.range.start.character:e.range.end.character] == "inactive_6m"
