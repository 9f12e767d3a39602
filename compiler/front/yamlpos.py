"""YAML -> plain Python values, remembering where each key and value was written, so that
every complaint about segc.yml can point at its line."""
from __future__ import annotations

from dataclasses import dataclass, field

from segc.front.errors import Diagnostic, SegcError
from segc.front.source import Source, Span

Path = tuple  # a path of keys / indexes into the document
MAX_VALUES = 100_000  # values built from a document, at least (4 per character of its text beyond)


@dataclass
class Located:
    """A loaded document and the span of every path in it."""

    data: object
    source: Source
    spans: dict[Path, Span]
    value_spans: dict[Path, tuple[Span, bool]]  # value span, and whether raw text == value
    # keys that YAML read as something else than a string (`on:` is true, `~:` null), kept
    # under their text (str(value)) in `data`: path -> the value YAML read
    retyped_keys: dict[Path, object] = field(default_factory=dict)

    def span(self, path: Path) -> Span:
        """The span of the longest existing prefix of `path` (the key, when it exists)."""
        for n in range(len(path), -1, -1):
            if path[:n] in self.spans:
                return self.spans[path[:n]]
        return Span(self.source, 0, 0)


def load_yaml(source: Source) -> Located:
    import yaml  # here: a project whose segc.yml is in the cache (parse_cache) does without it

    loader = yaml.SafeLoader(source.text)
    try:
        node = loader.get_single_node()
    except RecursionError:  # PyYAML composes recursively: `[[[[...` 500 deep ran out of stack
        raise SegcError(_too_deep(source)) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        start = mark.index if mark else 0
        raise SegcError(Diagnostic("E001", f"invalid YAML: {e.problem or e}",
                                   Span(source, start, start + 1),
                                   hints=("check indentation, colons and quotes",))) from None
    finally:
        loader.dispose()
    spans: dict[Path, Span] = {}
    value_spans: dict[Path, tuple[Span, bool]] = {}
    retyped_keys: dict[Path, object] = {}
    diags: list[Diagnostic] = []

    def span_of(n) -> Span:
        return Span(source, n.start_mark.index, n.end_mark.index)

    # an alias (`*a`) repeats its anchor's node: nine aliases of nine aliases... make a file
    # of a few lines a tree of billions of values (which took minutes and all memory)
    budget = [max(MAX_VALUES, 4 * len(source.text))]

    def build(n, path: Path):
        budget[0] -= 1
        if budget[0] < 0:
            raise SegcError(Diagnostic("E001", "the file holds more values than its text can write: "
                                       "YAML aliases (`*name`) repeat a part too many times", span_of(n),
                                       hints=("write the values out instead of repeating them through "
                                              "anchors and aliases",)))
        if isinstance(n, yaml.MappingNode):
            out = {}
            for k, v in n.value:
                try:  # a tag PyYAML cannot construct (`!x key:`) raised out of segc (a traceback)
                    key = loader.construct_object(k, deep=True)
                except (ValueError, yaml.YAMLError) as e:
                    diags.append(Diagnostic("E001", f"invalid key `{span_of(k).text()}`: {getattr(e, 'problem', None) or e}", span_of(k),
                                            hints=("a key is a plain word",)))
                    continue
                if isinstance(key, (dict, list)):
                    diags.append(Diagnostic("E001", "a key must be a plain word", span_of(k),
                                            hints=("write `name: value`; a `[...]` or `{...}` key is not read",)))
                    continue
                if not isinstance(key, str):
                    retyped_keys[path + (str(key),)] = key
                    key = str(key)
                if key in out:
                    diags.append(Diagnostic("E002", f"duplicate key `{key}`", span_of(k),
                                            hints=("a later value would silently replace the earlier one",)))
                spans[path + (key,)] = span_of(k)
                out[key] = build(v, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            items = []
            for i, v in enumerate(n.value):
                spans[path + (i,)] = span_of(v)
                items.append(build(v, path + (i,)))
            return items
        sp = span_of(n)
        try:
            value = loader.construct_object(n, deep=True)
        except (ValueError, yaml.YAMLError) as e:  # e.g. a date such as 2024-13-01
            hint = "write a real date, YYYY-MM-DD" if n.tag.endswith(":timestamp") else "quote it to make it a string"
            diags.append(Diagnostic("E001", f"invalid value `{n.value}`: {e}", sp, hints=(hint,)))
            return None
        value_spans[path] = (sp, isinstance(value, str) and sp.text() == value)
        return value

    try:
        data = {} if node is None else build(node, ())
    except RecursionError:
        raise SegcError(_too_deep(source)) from None
    if diags:
        raise SegcError(diags)
    return Located(data, source, spans, value_spans, retyped_keys)


def _too_deep(source: Source) -> Diagnostic:
    return Diagnostic("E001", "invalid YAML: lists or mappings nested too deeply", Span(source, 0, 1),
                      hints=("segc's files nest a few levels: look for a run of `[` or `{`",))
