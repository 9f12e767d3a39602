"""Scopes and names: declarations, annotations, references between definitions (with
their cycles), segmentations and their branches."""
from __future__ import annotations

from segc.check.definitions import Annotations, Scope, SegmentationInfo
from segc.check.reporter import Reported
from segc.front import ast
from segc.front.errors import SegcError, suggest
from segc.front.source import Span
from segc.schema.vocabulary import is_name
from segc import ir


class Names:
    # annotation -> (what its arguments must be, a check of the arguments)
    ANNOTATIONS = {
        "owner": ("one string, e.g. @owner(\"crm\")",
                  lambda args: len(args) == 1 and isinstance(args[0], str) and args[0].strip()),
        "tags": ("names or strings, e.g. @tags(rfm, loyalty)",
                 lambda args: len(args) >= 1 and all(isinstance(a, str) for a in args)),
        "min_size": ("one whole number, e.g. @min_size(500)",
                     lambda args: len(args) == 1 and isinstance(args[0], int) and not isinstance(args[0], bool)),
        "allow_sensitive": ("one non-empty reason, e.g. @allow_sensitive(\"legal basis: consent\")",
                            lambda args: len(args) == 1 and isinstance(args[0], str) and args[0].strip()),
    }

    def declare(self, d, file: str) -> None:
        span = d.name_span or d.span
        if not is_name(d.name):  # a file of one condition, named after its file (`my-seg.seg`)
            self.error("E005", f"the file name `{d.name}` cannot name a segment: expressions could never use it",
                       span, "rename the file (letters, digits and _, not a keyword of the language), or "
                       "write `segment name = ...` in it")
            return
        if d.name in self.defs:
            other = self.defs[d.name][0].name_span
            where = f" (first defined at {other.file}:{other.line})" if other else ""
            self.error("E213", f"`{d.name}` is defined twice{where}", span, "rename one of them")
            return
        if d.name in self.schema.features:
            self.error("E203", f"`{d.name}` is already the name of a feature", span,
                       "give the segment another name")
            return
        if d.name in self.schema.scores:
            self.error("E939", f"`{d.name}` is already the name of a score", span,
                       "give the segment another name")
            return
        same = self.folded.setdefault(d.name.casefold(), d.name)
        if same != d.name:  # one file name on macOS and Windows (segc build, segc docs)
            other = self.defs[same][0].name_span
            where = f" (defined at {other.file}:{other.line})" if other else ""
            self.error("E213", f"`{d.name}` differs from `{same}`{where} only in case", span,
                       "rename one of them: each definition is built into a file of its name, and file "
                       "names ignore case on some systems")
            return
        self.defs[d.name] = (d, file)
        self.check_annotations(d)
        if isinstance(d, ast.Segmentation):
            if not d.branches:  # the grammar takes `{ }`: every use of it would have no label to give
                self.error("E215", f"segmentation `{d.name}` has no branch", span,
                           "give it at least one branch: `name = condition`, or `else` for the rest")
            seen = set()
            for i, b in enumerate(d.branches):
                if b.name in seen:
                    self.error("E206", f"branch `{b.name}` appears twice in `{d.name}`", b.name_span,
                               f"rename one of them: `{d.name}.{b.name}` must name one branch")
                seen.add(b.name)
                if b.expr is None and i != len(d.branches) - 1:
                    self.error("E207", "`else` must be the last branch", b.span,
                               "the branches after it could never match")

    # annotation -> (what its arguments must be, a check of the arguments)

    def check_annotations(self, d) -> None:
        seen = set()
        for a in d.annotations:
            rule = self.ANNOTATIONS.get(a.name)
            if rule is None:
                close = suggest(a.name, self.ANNOTATIONS)
                self.error("E214", f"unknown annotation `@{a.name}`", a.span,
                           f"did you mean `@{close}`?" if close else
                           "annotations: " + ", ".join(f"@{n}" for n in self.ANNOTATIONS))
            elif not rule[1](a.args):
                self.error("E214", f"`@{a.name}` takes {rule[0]}", a.span,
                           "an annotation's arguments are in parentheses after its name, above the `segment` line")
            elif a.name in seen:
                self.error("E214", f"`@{a.name}` is given twice", a.span, "keep one of them")
            seen.add(a.name)

    def resolve(self, name: str, use_span: Span | None):
        """Checked condition of a definition (cached); reports reference cycles."""
        if name in self.done:
            return self.done[name]
        if name in self.stack:
            cycle = self.stack[self.stack.index(name):] + [name]
            self.error("E401", "reference cycle: " + " -> ".join(cycle), use_span,
                       "a segment cannot depend on itself")
            raise Reported
        node, _file = self.defs[name]
        self.stack.append(name)
        try:
            result = self.measure(name, lambda: self.check_definition(node))
        finally:
            self.stack.pop()
        self.done[name] = result
        return result

    def check_definition(self, node):
        if isinstance(node, ast.Segmentation):
            return self.segmentation(node)
        scope = self.features_scope()
        try:
            pred = self.pred(node.expr, scope)
        except Reported:
            return None
        return pred, frozenset(scope.used)

    def segmentation(self, node: ast.Segmentation):
        branches, used = [], set()
        ok = True
        for b in node.branches:
            if b.expr is None:
                branches.append((b.name, None))
                continue
            scope = self.features_scope()
            try:
                branches.append((b.name, self.pred(b.expr, scope)))
            except Reported:
                ok = False
            used |= scope.used
        if not ok:
            return None
        self.check_shadowed(node, branches)
        return branches, frozenset(used)

    def segmentation_info(self, node, file) -> SegmentationInfo:
        branches, used = self.done[node.name]
        return SegmentationInfo(node.name, node, file, branches, used, Annotations.of(node, self.schema.min_size))

    def features_scope(self):
        return Scope("features")

    def embedded_pred(self, text, scope) -> ir.Pred | None:
        from segc.front.parser import parse_expression

        try:
            expr = parse_expression(text.span.source, text.text, text.offset)
            return self.pred(expr, scope)
        except SegcError as e:
            self.diags.extend(e.diagnostics)
        except Reported:
            pass
        return None
