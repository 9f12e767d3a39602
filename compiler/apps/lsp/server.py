"""`segc lsp`: the language server over stdio (pygls). Diagnostics on open, change, save
and on-disk changes; formatting is `segc fmt`'s format_source."""
from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from segc.front.errors import Diagnostic, SegcError
from segc.front.files import find_root

from .workspace import Workspace

SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}


def lsp_range(d: Diagnostic) -> lsp.Range:
    if d.span is None:
        return lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0))
    end_line, end_col = d.span.source.line_col(d.span.end)
    return lsp.Range(lsp.Position(d.span.line - 1, d.span.col - 1), lsp.Position(end_line - 1, end_col - 1))


def lsp_diagnostic(d: Diagnostic) -> lsp.Diagnostic:
    hints = list(d.hints) + ([d.label] if d.label else [])
    message = d.message + "".join(f"\nhint: {h}" for h in hints)
    return lsp.Diagnostic(range=lsp_range(d), message=message, code=d.code, source="segc",
                          severity=SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Information))


class SegcServer(LanguageServer):
    def __init__(self):
        super().__init__("segc", "1")
        self.project: Workspace | None = None

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


def _path(uri: str) -> Path:
    return Path(to_fs_path(uri)).resolve()


def _buffer_changed(uri: str, text: str | None) -> None:
    path = _path(uri)
    ws = server.workspace_for(path)
    if ws is None:
        return
    if path == ws.yml:
        ws.reload()
    elif text is not None:
        ws.buffers[path] = text
    server.publish()


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: SegcServer, params: lsp.DidOpenTextDocumentParams):
    doc = params.text_document
    _buffer_changed(doc.uri, doc.text if doc.uri.endswith(".seg") else None)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: SegcServer, params: lsp.DidChangeTextDocumentParams):
    doc = ls.workspace.get_text_document(params.text_document.uri)
    _buffer_changed(doc.uri, doc.source if doc.uri.endswith(".seg") else None)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: SegcServer, params: lsp.DidSaveTextDocumentParams):
    _buffer_changed(params.text_document.uri, None)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: SegcServer, params: lsp.DidCloseTextDocumentParams):
    if ls.project is not None:  # the file on disk counts again
        ls.project.buffers.pop(_path(params.text_document.uri), None)
        ls.publish()


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched(ls: SegcServer, params: lsp.DidChangeWatchedFilesParams):
    if ls.project is not None:
        ls.project.reload()
        ls.publish()


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: SegcServer, params: lsp.DocumentFormattingParams):
    path = _path(params.text_document.uri)
    ws = server.workspace_for(path)
    if ws is None:
        return None
    text = ws.text(path)
    try:
        new = ws.format(path)
    except SegcError:
        return None  # a file that does not parse is not formatted; its diagnostics say why
    lines = text.split("\n")
    end = lsp.Position(len(lines) - 1, len(lines[-1]))
    return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), end), new)] if new != text else []


def start() -> None:
    server.start_io()
