"""What the cursor points at, and where a name is defined and used: completion, hover,
definition, references and rename over a Workspace's parsed modules and schema."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from segc.front import ast
from segc.front.errors import SegcError
from segc.front.parser import parse_expression
from segc.front.source import Span

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_AGG_OPEN = re.compile(r"\b(?:count|count_distinct|sum|avg|min|max|exists|first|last|nth)\(\s*([A-Za-z_]\w*)\b[^()]*$")
DURATIONS = ("7 days", "30 days", "90 days", "6 months", "1 year")


def keywords() -> list[str]:
    """The grammar's keywords, read from grammar/segment.lark: new keywords complete
    without a change here."""
    from importlib.resources import files

    text = files("segc.grammar").joinpath("segment.lark").read_text(encoding="utf-8")
    return sorted(set(re.findall(r'"([a-z_]+)"i?', text)))


def word_at(text: str, line: int, col: int) -> tuple[str, int, int] | None:
    lines = text.split("\n")
    if line >= len(lines):
        return None
    for m in _WORD.finditer(lines[line]):
        if m.start() <= col <= m.end():
            return m.group(), m.start(), m.end()
    return None


def _names(node):
    """Every Name (a reference to a feature or a segment) under a node."""
    if isinstance(node, ast.Name):
        yield node
    if dataclasses.is_dataclass(node):
        for f in dataclasses.fields(node):
            yield from _names(getattr(node, f.name))
    elif isinstance(node, tuple):
        for item in node:
            yield from _names(item)


def definitions(modules) -> dict[str, ast.Node]:
    return {d.name: d for m in modules for d in m.definitions}


def references(modules, name: str) -> list:
    """Spans of the name: its definition and every use."""
    out = []
    for m in modules:
        for d in m.definitions:
            if d.name == name and d.name_span is not None:
                out.append(d.name_span)
            out += [n.span for n in _names(d) if n.name == name and n.span is not None]
    return out


def segment_hover(d) -> str:
    notes = {a.name: ", ".join(map(str, a.args)) for a in d.annotations}
    kind = "segmentation" if isinstance(d, ast.Segmentation) else "segment"
    lines = [f"**{kind} {d.name}**", d.doc] + [f"{k}: {v}" for k, v in notes.items() if k in ("owner", "tags")]
    # segc keeps no count between runs (count runs the query each time): none to show
    return "\n\n".join(x for x in lines if x)


def feature_hover(f) -> str:
    lines = [f"**feature {f.name}**: {f.type}"]
    if f.source:
        lines.append(f"source: {f.source}" + (f", aggregate: {f.agg}" + (f"({f.column})" if f.column else "") if f.agg else ""))
    elif f.column:
        lines.append(f"column: {f.column}")
    if f.description:
        lines.append(f.description)
    return "\n\n".join(lines)


def completions(schema, modules, text: str, line: int, col: int) -> list[tuple[str, str, str]]:
    """(label, kind, detail) of what may be written at the cursor."""
    before = "\n".join(text.split("\n")[:line] + [text.split("\n")[line][:col]]) if line < len(text.split("\n")) else text
    head = before.rstrip()
    if head.endswith("$") or re.search(r"\$\w*$", before):
        params = schema.params if schema is not None else {}  # a broken segc.yml: none known
        return [(p, "param", getattr(params[p], "type", "")) for p in params]
    agg = _AGG_OPEN.search(before)
    if agg and schema is not None and agg.group(1) in schema.sources:
        return [(c, "column", t) for c, t in schema.sources[agg.group(1)].columns.items()]
    m = re.search(r"([A-Za-z_]\w*)\.\w*$", before)
    if m:
        d = definitions(modules).get(m.group(1))
        if isinstance(d, ast.Segmentation):
            return [(b.name, "branch", b.doc) for b in d.branches]
    out = [(n, "feature", f"{f.type} — {f.description}" if f.description else f.type)
           for n, f in (schema.features.items() if schema is not None else ())]
    for d in definitions(modules).values():
        out.append((d.name, "segment", d.doc))
        if isinstance(d, ast.Segmentation):
            out += [(f"{d.name}.{b.name}", "branch", b.doc) for b in d.branches]
    out += [(k, "keyword", "") for k in keywords()]
    out += [(k, "duration", "") for k in DURATIONS]
    return out


def yml_references(schema, name: str) -> tuple[list, list]:
    """Where segc.yml names the segment `name`: an experiment's arm (`target: name`, or
    `name.branch`), and the names of its expressions (population, KPIs, scores' targets,
    experiments' metrics). (spans, and the spans of the texts that name it where no exact
    span is known: a YAML scalar with escapes, whose positions are approximate.)"""
    if schema is None:
        return [], []
    spans, unplaced = [], []
    arms = [t for e in schema.experiments.values() for t in (e.target, e.control)]
    for t in arms:
        if t.text.strip().partition(".")[0] == name:
            start = t.offset + len(t.text) - len(t.text.lstrip())
            spans.append(Span(t.span.source, start, start + len(name)))
    expressions = [schema.population, *(t for k in schema.kpis.values() for t in (k.expression, k.denominator)),
                   *(s.target for s in schema.scores.values()),
                   *(m for e in schema.experiments.values() for m in e.metrics.values())]
    for t in expressions:
        if t is None or not re.search(rf"\b{re.escape(name)}\b", t.text):
            continue
        try:
            tree = parse_expression(t.span.source, t.text, t.offset)
        except SegcError:
            unplaced.append(t.span)
            continue
        spans += [n.span for n in _names(tree) if n.name == name and n.span is not None]
    placed = [s for s in spans if s.text() == name]
    unplaced += [s for s in spans if s.text() != name]
    return placed, unplaced


def rename_problem(ws, old: str, new: str) -> str | None:
    """Why `old` cannot be renamed `new` (None: it can): a name the language cannot write,
    one already taken (a definition, a feature, a score, a parameter), or a mention in
    segc.yml whose place is not exactly known (a YAML scalar with escapes)."""
    from segc.schema.vocabulary import is_name

    if not is_name(new):
        return f"`{new}` is not a name: letters, digits and `_`, not starting with a digit, no word of the language"
    schema = ws.schema
    taken = set(definitions(ws.modules)) | (set(schema.features) | set(schema.scores) | set(schema.params)
                                            if schema is not None else set())
    if new in taken and new != old:
        return f"`{new}` is already a name of this project"
    _spans, unplaced = yml_references(schema, old)
    if unplaced:
        return (f"segc.yml names `{old}` where it cannot be edited exactly (line {unplaced[0].line}): "
                "rename it there by hand")
    return None


def file_of(span) -> Path:
    return Path(span.file)
