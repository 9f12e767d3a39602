"""The project as an editor sees it: segc.yml and the .seg files, where an open buffer's
unsaved text (segc.yml's too) takes precedence over the file on disk. Parsed modules are cached per file, so
a change parses only the changed file; the rest of the project is reused as parsed, and the
checker (the same one `segc check` runs) checks them together, unless the change cannot
alter its diagnostics (an edit between definitions: reuse.py), when the last ones are
moved instead."""
from __future__ import annotations

from pathlib import Path

from segc.check.checker import Checker
from segc.front.errors import Diagnostic, SegcError
from segc.front.files import read_source
from segc.front.fmt import format_source
from segc.front.parser import parse_module
from segc.front.source import Source
from segc.schema.segc_yml import load_schema

from .reuse import moved


class Workspace:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.buffers: dict[Path, str] = {}  # open, possibly unsaved, texts: .seg files and segc.yml
        self._parsed: dict[Path, tuple[str, object, list[Diagnostic]]] = {}  # path -> (text, module, diags)
        self.schema = None
        # the last check: (text and module by file, the checker's diagnostics); None: none
        # on this schema yet
        self._last: tuple[dict, dict, list[Diagnostic]] | None = None
        self.last_check = ""  # "full" or "reused": how the last diagnostics were had
        self._schema_diags: list[Diagnostic] = []
        self.reload()

    @property
    def yml(self) -> Path:
        return self.root / "segc.yml"

    def reload(self) -> None:
        """A file on disk changed: forget parsed files (open buffers are parsed again from
        their text) and read segc.yml again."""
        self._parsed.clear()
        self.reload_schema()

    def reload_schema(self) -> None:
        """Read segc.yml again: its open buffer when there is one, else the file on disk.
        The .seg files do not depend on it to parse, so their parse results are kept. The
        fitted-score models are read from their files, as when a project is loaded."""
        self._last = None  # the checker's diagnostics depend on the schema
        try:
            self.schema, self._schema_diags = load_schema(self._yml_source(), self.root)
        except SegcError as e:
            self.schema, self._schema_diags = None, list(e.diagnostics)
        self.models = {}
        if self.schema is not None and self.schema.scores:  # fitted scores, as a loaded project
            from segc.schema.score_model import load_models

            self.models, problems = load_models(self.root, self.schema, str)
            self._schema_diags += problems

    def _yml_source(self) -> Source:
        if self.yml in self.buffers:
            return Source(str(self.yml), self.text(self.yml))
        return read_source(self.yml, str(self.yml))

    def files(self) -> list[Path]:
        on_disk = {p.resolve() for p in (self.root / "segments").glob("**/*.seg") if p.is_file()}
        return sorted(on_disk | {p for p in self.buffers if p.suffix == ".seg"})

    def text(self, path: Path) -> str:
        """The buffer's text, else the file's (E007 when it cannot be read, as `segc check`)."""
        if path in self.buffers:
            # line ends as reading the file from disk makes them: the editor counts \r\n, \r
            # and \n as line ends, the parser \n only (a lone \r would shift every position)
            return self.buffers[path].replace("\r\n", "\n").replace("\r", "\n")
        return read_source(path, str(path)).text

    def module(self, path: Path):
        """The parsed module of a file (None when nothing parsed) and its syntax errors;
        parsed again only when its text changed."""
        try:
            text = self.text(path)
        except SegcError as e:  # not UTF-8, gone, unreadable: its diagnostic, the others checked
            self._parsed[path] = ("", None, list(e.diagnostics))
            return None, list(e.diagnostics)
        cached = self._parsed.get(path)
        if cached is not None and cached[0] == text:
            return cached[1], cached[2]
        try:
            module, diags = parse_module(Source(str(path), text)), []
        except SegcError as e:
            module, diags = getattr(e, "module", None), list(e.diagnostics)
        self._parsed[path] = (text, module, diags)
        return module, diags

    def check(self) -> dict[str, list[Diagnostic]]:
        """Every diagnostic of the project (`segc check`'s), by the file it is in."""
        diags = list(self._schema_diags)
        texts, modules = {}, {}
        for path in self.files():
            module, problems = self.module(path)
            diags += problems
            texts[path] = self._parsed[path][0]
            if module is not None:
                modules[path] = module
        self.modules = list(modules.values())
        diags += self._checker_diags(texts, modules)
        by_file: dict[str, list[Diagnostic]] = {str(p): [] for p in texts}
        by_file[str(self.yml)] = []
        for d in diags:
            by_file.setdefault(d.span.file if d.span is not None else (d.file or str(self.yml)), []).append(d)
        return by_file

    def _checker_diags(self, texts: dict, modules: dict) -> list[Diagnostic]:
        """The checker's diagnostics: those of the last check when they are known to be the
        same (reuse.py says when), else a full check (`checked` is the last full check's)."""
        if self.schema is None:
            self.checked, self._last = None, None
            return []
        diags = self._reusable(texts, modules)
        self.last_check = "reused" if diags is not None else "full"
        if diags is None:
            checker = Checker(self.schema, list(modules.values()), {}, models=self.models)  # no --param, as `segc check`
            try:
                self.checked = checker.check()
                diags = list(self.checked.warnings)
            except SegcError as e:
                self.checked, diags = None, list(e.diagnostics)
        self._last = (texts, modules, diags)
        return diags

    def _reusable(self, texts: dict, modules: dict) -> list[Diagnostic] | None:
        if self._last is None:
            return None
        old_texts, old_modules, old_diags = self._last
        if old_texts.keys() != texts.keys():
            return None
        changed = [p for p in texts if texts[p] != old_texts[p]]
        if not changed:
            return old_diags
        if len(changed) > 1:
            return None
        return moved(old_diags, str(changed[0]), old_modules.get(changed[0]), modules.get(changed[0]))

    def format(self, path: Path) -> str:
        return format_source(self.text(path), str(path))
