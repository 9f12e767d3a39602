"""`segc lsp`: the language server over stdio (pygls). Diagnostics on open, change, save
and on-disk changes; formatting is `segc fmt`'s format_source."""
from __future__ import annotations

import logging
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.exceptions import JsonRpcException
from pygls.uris import from_fs_path, to_fs_path

from segc.front.errors import Diagnostic, SegcError
from segc.front.files import find_root

from . import navigate
from .workspace import Workspace

SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}


def lsp_range(d: Diagnostic) -> lsp.Range:
    if d.span is None:
        return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    return _span_range(d.span)


# Positions: segc counts characters (code points); LSP's default encoding, the one this
# server announces, counts UTF-16 units, in which a character beyond U+FFFF (an emoji)
# is two. Every position leaving or entering the server is converted.

def _units(line: str, col: int) -> int:
    """Code points before `col` on `line` -> UTF-16 units."""
    return col + sum(1 for ch in line[:col] if ord(ch) > 0xFFFF)


def _code_points(line: str, units: int) -> int:
    """UTF-16 units -> code points (a position inside a pair: the character's start)."""
    seen = 0
    for i, ch in enumerate(line):
        seen += 2 if ord(ch) > 0xFFFF else 1
        if seen > units:
            return i
    return len(line)


def _position(source, offset: int) -> lsp.Position:
    line, col = source.line_col(offset)
    return lsp.Position(line - 1, _units(source.line_text(line), col - 1))


def lsp_diagnostic(d: Diagnostic) -> lsp.Diagnostic:
    hints = list(d.hints) + ([d.label] if d.label else [])
    message = d.message + "".join(f"\nhint: {h}" for h in hints)
    return lsp.Diagnostic(range=lsp_range(d), message=message, code=d.code, source="segc",
                          severity=SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Information))


class SegcServer(LanguageServer):
    def __init__(self):
        super().__init__("segc", "1")
        self.project: Workspace | None = None
        # modules is set by check()

    def workspace_for(self, path: Path) -> Workspace | None:
        if self.project is None or not path.is_relative_to(self.project.root):
            try:
                root = find_root(path.parent)
            except SegcError:
                return None
            if root is None:
                return None
            self.project = Workspace(Path(root))
        return self.project

    def publish(self) -> None:
        for file, diags in self.project.check().items():
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
                uri=from_fs_path(file), diagnostics=[lsp_diagnostic(d) for d in diags]))


server = SegcServer()


def _path(uri: str) -> Path | None:
    """The file of a `file:` URI; None for another scheme (an unsaved `untitled:` buffer
    has no project around it)."""
    fs_path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(fs_path).resolve() if fs_path else None


def _tracked(uri: str) -> bool:
    """The buffers the project reads: .seg files and segc.yml (others are not segc's)."""
    return uri.endswith(".seg") or uri.endswith("/segc.yml")


def _buffer_changed(uri: str, text: str | None) -> None:
    """An open buffer's text changed (None: saved, the text is the one already held)."""
    path = _path(uri)
    ws = server.workspace_for(path) if path is not None else None
    if ws is None:
        return
    if text is not None:
        ws.buffers[path] = text
    if path == ws.yml:
        ws.reload_schema()
    server.publish()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: SegcServer, params: lsp.DidOpenTextDocumentParams):
    doc = params.text_document
    if _tracked(doc.uri):
        _buffer_changed(doc.uri, doc.text)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: SegcServer, params: lsp.DidChangeTextDocumentParams):
    doc = ls.workspace.get_text_document(params.text_document.uri)
    if _tracked(doc.uri):
        _buffer_changed(doc.uri, doc.source)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: SegcServer, params: lsp.DidSaveTextDocumentParams):
    if _tracked(params.text_document.uri):
        _buffer_changed(params.text_document.uri, None)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: SegcServer, params: lsp.DidCloseTextDocumentParams):
    if ls.project is not None:  # the file on disk counts again
        path = _path(params.text_document.uri)
        if path is None:
            return
        ls.project.buffers.pop(path, None)
        if path == ls.project.yml:
            ls.project.reload_schema()
        ls.publish()


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched(ls: SegcServer, params: lsp.DidChangeWatchedFilesParams):
    if ls.project is not None:
        ls.project.reload()
        ls.publish()


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: SegcServer, params: lsp.DocumentFormattingParams):
    path = _path(params.text_document.uri)
    ws = server.workspace_for(path) if path is not None else None
    if ws is None:
        return None
    try:
        text = ws.text(path)
        new = ws.format(path)
    except SegcError:
        return None  # a file that does not parse (or read) is not formatted; its diagnostics say why
    lines = text.split("\n")
    end = lsp.Position(len(lines) - 1, _units(lines[-1], len(lines[-1])))
    return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), end), new)] if new != text else []


KINDS = {"feature": lsp.CompletionItemKind.Field, "segment": lsp.CompletionItemKind.Class,
         "branch": lsp.CompletionItemKind.EnumMember, "column": lsp.CompletionItemKind.Property,
         "keyword": lsp.CompletionItemKind.Keyword, "param": lsp.CompletionItemKind.Variable,
         "duration": lsp.CompletionItemKind.Unit}


def _span_range(span) -> lsp.Range:
    return lsp.Range(_position(span.source, span.start), _position(span.source, span.end))


def _location(span) -> lsp.Location:
    return lsp.Location(from_fs_path(span.file), _span_range(span))


def _at(params):
    """The workspace (checked), the file's text, the word under the cursor and the
    cursor's column in characters (None, ... for a file outside a project or unreadable)."""
    path = _path(params.text_document.uri)
    ws = server.workspace_for(path) if path is not None else None
    if ws is None:
        return None, None, None, None
    if getattr(ws, "modules", None) is None:
        ws.check()
    try:
        text = ws.text(path)
    except SegcError:
        return None, None, None, None
    lines = text.split("\n")
    line = params.position.line
    column = _code_points(lines[line], params.position.character) if 0 <= line < len(lines) else 0
    return ws, text, navigate.word_at(text, line, column), column


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[".", "$", "("]))
def completion(ls: SegcServer, params: lsp.CompletionParams):
    ws, text, _, column = _at(params)
    if ws is None:
        return None
    items = navigate.completions(ws.schema, ws.modules, text, params.position.line, column)
    return lsp.CompletionList(is_incomplete=False, items=[
        lsp.CompletionItem(label=label, kind=KINDS[kind], detail=detail or None) for label, kind, detail in items])


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: SegcServer, params: lsp.HoverParams):
    ws, _, word, _ = _at(params)
    if word is None:
        return None
    name = word[0]
    d = navigate.definitions(ws.modules).get(name)
    if d is not None:
        value = navigate.segment_hover(d)
    elif ws.schema is not None and name in ws.schema.features:
        value = navigate.feature_hover(ws.schema.features[name])
    else:
        return None
    return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, value))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: SegcServer, params: lsp.DefinitionParams):
    ws, _, word, _ = _at(params)
    if word is None:
        return None
    d = navigate.definitions(ws.modules).get(word[0])
    if d is not None and d.name_span is not None:
        return _location(d.name_span)
    feature = ws.schema.features.get(word[0]) if ws.schema is not None else None
    return _location(feature.span) if feature is not None and feature.span is not None else None


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: SegcServer, params: lsp.ReferenceParams):
    ws, _, word, _ = _at(params)
    if word is None or word[0] not in navigate.definitions(ws.modules):
        return None
    return [_location(s) for s in navigate.references(ws.modules, word[0])
            + navigate.yml_references(ws.schema, word[0])[0]]


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
def rename(ls: SegcServer, params: lsp.RenameParams):
    ws, _, word, _ = _at(params)
    if word is None or word[0] not in navigate.definitions(ws.modules):
        return None
    problem = navigate.rename_problem(ws, word[0], params.new_name)
    if problem:  # the editor shows it ("Rename failed: ..."); nothing is edited
        raise JsonRpcException(problem, code=lsp.ErrorCodes.InvalidParams)
    changes: dict[str, list[lsp.TextEdit]] = {}
    for span in navigate.references(ws.modules, word[0]) + navigate.yml_references(ws.schema, word[0])[0]:
        changes.setdefault(from_fs_path(span.file), []).append(lsp.TextEdit(_span_range(span), params.new_name))
    return lsp.WorkspaceEdit(changes=changes)


class _Refusals(logging.Filter):
    """pygls logs every exception a handler raises with its traceback; a refusal
    (JsonRpcException: an invalid rename) is an answer to the editor, not a failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], JsonRpcException))


def start() -> None:
    logging.getLogger("pygls.protocol.json_rpc").addFilter(_Refusals())
    server.start_io()
