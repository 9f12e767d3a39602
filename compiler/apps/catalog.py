"""A static HTML catalogue of a project's segments: an index page (searchable by name,
tag and owner) and one page per segment or segmentation with its documentation, its
definition, the features it uses, its SQL in every dialect and, when the preview data
exist, its size.

    build_catalog(project, "site/")      # -> CatalogResult(out, pages, counted)

Pages are self-contained (inline CSS and a few lines of script, no network). The folder
is written atomically: into a temporary folder next to it, then renamed into place; an
existing folder is replaced only when it holds a previous catalogue.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from segc.front import ast
from segc.front.files import check_output, project_path, replace_folder
from segc.front.errors import Diagnostic, SegcError
from segc.backend.dialects import DIALECTS

TEMPLATES = Path(__file__).parent / "templates" / "docs"
MARKER = ".segc-catalog"  # marks a folder this module wrote (and may replace)


@dataclass(frozen=True)
class CatalogResult:
    out: Path
    pages: list[Path]
    counted: bool  # sizes came from the preview data
    note: str = ""  # why there are no sizes


# ---- what the templates get ---------------------------------------------------------------

@dataclass
class FeatureInfo:
    name: str
    type: str
    kind: str  # column, aggregate, sql
    origin: str  # where it comes from, in words
    description: str
    sensitive: bool


@dataclass
class BranchInfo:
    name: str
    definition: str  # the condition's text, or `else`
    doc: str
    count: int | None = None
    share: float | None = None


@dataclass
class Entry:
    name: str
    kind: str  # segment, segmentation
    doc: str
    summary: str  # the doc's first sentence
    owner: str
    tags: list[str]
    min_size: int | None
    file: str
    line: int
    source: str  # the definition as written
    features: list[FeatureInfo]
    sql: list[tuple[str, str, str | None]]  # (dialect, sql, error)
    uses: list[str]  # definitions it refers to
    used_by: list[str] = dataclasses.field(default_factory=list)
    branches: list[BranchInfo] = dataclasses.field(default_factory=list)
    count: int | None = None
    share: float | None = None

    @property
    def href(self) -> str:
        return f"segments/{self.name}.html"

    @property
    def too_small(self) -> bool:
        return self.count is not None and self.min_size is not None and self.count < self.min_size


def _walk(node):
    """Every node of an expression, not descending into event aggregates (whose names are
    columns of the source, not segments)."""
    yield node
    if isinstance(node, ast.Aggregate):
        return
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ast.Node):
                yield from _walk(item)


def _references(node, definitions: set[str], segmentations: set[str]) -> list[str]:
    exprs = [b.expr for b in node.branches if b.expr is not None] if isinstance(node, ast.Segmentation) else [node.expr]
    out = []
    for e in exprs:
        for n in _walk(e):
            if isinstance(n, ast.Name) and n.name in definitions:
                out.append(n.name)
            elif isinstance(n, ast.Dotted) and n.left in segmentations:
                out.append(n.left)
    return list(dict.fromkeys(out))


def _summary(doc: str) -> str:
    """The first sentence of a doc comment (for the index)."""
    text = " ".join(doc.split())
    i = text.find(". ")
    if 0 < i < 200:
        return text[:i + 1]
    return text if len(text) <= 200 else text[:199].rstrip() + "…"


def _feature(schema, name: str) -> FeatureInfo:
    f = schema.features[name]
    if f.kind == "agg":
        parts = [f"{f.agg}" + (f"({f.column})" if f.column else "") + f" over {f.source}"]
        if f.where is not None:
            parts.append(f"where {f.where.text}")
        if f.window is not None:
            parts.append(f"last {f.window.text}")
        return FeatureInfo(name, f.type, "aggregate", ", ".join(parts), f.description, f.sensitive)
    if f.kind == "sql":
        return FeatureInfo(name, f.type, "sql", f.sql.sql(dialect="duckdb") if f.sql is not None else "",
                           f.description, f.sensitive)
    base = schema.sources[schema.base].table
    return FeatureInfo(name, f.type, "column", f"{base}.{f.column}", f.description, f.sensitive)


def _sql(project, name: str, dialects) -> list[tuple[str, str, str | None]]:
    out = []
    for d in dialects:
        try:
            out.append((d, project.compile(name, dialect=d) + ";", None))
        except SegcError as e:
            out.append((d, "", "; ".join(x.message for x in e.diagnostics)))
    return out


def entries(project, dialects=DIALECTS) -> list[Entry]:
    """Every segment and segmentation of the project, in file order, ready to render."""
    checked = project.checked
    nodes = [(m, n) for m in project.modules for n in m.definitions
             if n.name in checked.segments or n.name in checked.segmentations]
    names = {n.name for _m, n in nodes}
    segmentations = set(checked.segmentations)
    order = list(project.schema.features)
    out: list[Entry] = []
    seen = set()
    for module, node in nodes:
        if node.name in seen:
            continue
        seen.add(node.name)
        is_seg = isinstance(node, ast.Segmentation)
        info = checked.segmentations[node.name] if is_seg else checked.segments[node.name]
        notes = info.annotations
        used = sorted(info.features, key=order.index)
        branches = []
        if is_seg:
            for b in node.branches:
                branches.append(BranchInfo(b.name, "else" if b.expr is None else b.expr.span.text(), b.doc))
        out.append(Entry(
            name=node.name, kind="segmentation" if is_seg else "segment", doc=node.doc, summary=_summary(node.doc),
            owner=notes.owner or "", tags=list(notes.tags), min_size=notes.min_size,
            file=project_path(module.file, project.root), line=node.span.line, source=node.span.text(),
            features=[_feature(project.schema, f) for f in used], sql=_sql(project, node.name, dialects),
            uses=[r for r in _references(node, names, segmentations) if r != node.name], branches=branches))
    by_name = {e.name: e for e in out}
    for e in out:
        for r in e.uses:
            by_name[r].used_by.append(e.name)
    return out


def _add_counts(project, items: list[Entry]) -> tuple[int | None, str]:
    """Sizes on the preview data; (population, '') or (None, why not)."""
    try:
        result = project.count()
    except SegcError as e:
        return None, e.diagnostics[0].message
    sizes = {s.name: s for s in result.segments}
    for e in items:
        if e.kind == "segment" and e.name in sizes:
            e.count, e.share = sizes[e.name].count, sizes[e.name].share
        for b in e.branches:
            s = sizes.get(f"{e.name}.{b.name}")
            if s is not None:
                b.count, b.share = s.count, s.share
        if e.branches and all(b.count is not None for b in e.branches):
            e.count = sum(b.count for b in e.branches)  # branches are exclusive
            e.share = e.count / result.population if result.population else 0.0
    return result.population, ""


# ---- writing ---------------------------------------------------------------------------------

def build_catalog(project, out: str | Path, counts: bool = True, dialects=DIALECTS) -> CatalogResult:
    import jinja2

    out = Path(out)
    _check_target(out, project.root)
    items = entries(project, dialects)
    population, note = _add_counts(project, items) if counts else (None, "sizes not computed (--no-counts)")
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    env.filters["pct"] = lambda v: "" if v is None else f"{v:.1%}"
    env.filters["num"] = lambda v: "" if v is None else f"{v:,}"
    as_of = project.as_of.isoformat() if project.as_of else "today (rolling)"
    common = dict(project=project.schema, as_of=as_of, population=population, note=note,
                  population_text=project.schema.population.text if project.schema.population else "",
                  default_dialect=project.schema.dialect, by_name={e.name: e for e in items})
    files = {"index.html": env.get_template("index.html.j2").render(entries=items, root="", **common).encode()}
    for e in items:
        files[e.href] = env.get_template("segment.html.j2").render(e=e, root="../", **common).encode()
    pages = list(files)
    files[MARKER] = b"written by `segc docs`; the folder is replaced on the next run\n"
    replace_folder(out, files, refuse=lambda target: _check_target(target, project.root))
    return CatalogResult(out, [out / page for page in pages], population is not None, note)


def _check_target(out: Path, root: Path) -> None:
    """The rule for every output (files.check_output): a new or empty folder, or a catalogue
    this command wrote (it holds MARKER)."""
    check_output(out, lambda folder: (folder / MARKER).is_file(), folder=True, root=root, kind="catalogue")
