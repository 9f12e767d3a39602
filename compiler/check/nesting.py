"""The nesting bound of front/nesting.py, through references: a segment that uses another
holds that one's whole checked tree, and the lowering, sqlglot and the engines walk the
expanded tree recursively. The checker counts the levels of the tree it builds (which
also bounds its own recursion through references it checks on the way) and, for a
reference to a segment already checked, adds that segment's recorded depth."""
from __future__ import annotations

from segc import ir
from segc.check.reporter import Reported

from segc.front.errors import Diagnostic
from segc.front.nesting import MAX_NESTING, first_line, nesting_diagnostic

# a branch `s.b` is `not earlier and b`: two levels more than its own condition
BRANCH_LEVELS = 2


class Nesting:
    depth = 0  # the level being checked, counted from the outermost definition's root
    deepest = 0  # the deepest level reached since the current definition began

    def enter(self, node) -> None:
        """One level deeper (pred/value call it first, and `leave` when they return)."""
        self.depth += 1
        self.reach(self.depth, node)

    def leave(self) -> None:
        self.depth -= 1

    def reach(self, level: int, node, via: str = "") -> None:
        if level > self.deepest:
            self.deepest = level
        if level > MAX_NESTING:
            chain = [f"`{n}`" for n in self.stack] + ([f"`{via}`"] if via else [])
            message = f"this expression is nested more than {MAX_NESTING} levels deep"
            if chain:
                message += ", counting the segments it uses (" + " -> ".join(chain) + ")"
            self.diags.append(nesting_diagnostic(node, message))
            raise Reported

    def through(self, name: str, node, extra: int = 0) -> None:
        """A reference to `name` at the current level: its whole tree is nested under the
        name (as when the checker checks it through the reference, which takes the same
        Python stack: a reference counts one level, plus the segment's own levels)."""
        self.reach(self.depth + self.definition_depth.get(name, 0) + extra, node, name)

    def within_size(self, trees, what: str, span) -> bool:
        """Whether the largest of `trees` stays within MAX_EXPANDED (else E105 at `span`)."""
        memo = {}  # the trees share parts: a segmentation's branches each hold the earlier ones
        size = max((expanded_size(t, memo) for t in trees), default=0)
        # what repetition makes, not what was written: a chain of 60,000 `or`s is as long as its text
        if size > MAX_EXPANDED and size > 2 * max(sum(1 for _ in distinct_nodes(t)) for t in trees):
            self.diags.append(size_diagnostic(span, what, size))
            return False
        return True

    def measure(self, name: str, check):
        """Run `check` (which checks definition `name`) and record how deep its tree goes."""
        start, outer = self.depth, self.deepest
        self.deepest = start
        try:
            return check()
        finally:
            self.definition_depth[name] = self.deepest - start
            self.deepest = max(outer, self.deepest)


# The conditions a definition holds once the segments it uses are written out: the SQL
# writes a used segment where it is used, so `segment b = (a and x > 1) or (a and x > 2)`
# holds `a` twice; a chain of such segments doubles (or worse) at each step. 100,000
# nodes of the checked tree write about 1 MB of SQL; 20 uses a step, five steps (2 KB of
# text) were 3 GB and minutes of `segc compile`.
MAX_EXPANDED = 100_000


def expanded_size(tree, memo: dict[int, tuple[object, int]] | None = None) -> int:
    """The number of nodes of `tree` (IR) with every shared part counted each time it
    appears, computed once per shared node (linear in the distinct nodes). `memo` may be
    shared by trees that share parts; it holds the nodes too, so that an id is not
    reused while it is kept."""
    memo = {} if memo is None else memo

    def size(node) -> int:
        known = memo.get(id(node))
        if known is not None:
            return known[1]
        total = 1 + sum(size(c) for c in ir.parts(node))
        memo[id(node)] = (node, total)
        return total

    return size(tree)


def distinct_nodes(tree):
    """Each node of `tree` (IR) once, a shared part (a segment used twice) once."""
    seen: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            yield node
            stack.extend(ir.parts(node))


def size_diagnostic(span, what: str, size: int) -> Diagnostic:
    return Diagnostic("E105", f"{what} holds {size:,} conditions and values once the segments it uses are "
                      f"written out (at most {MAX_EXPANDED:,})", first_line(span) if span is not None else None,
                      hints=("a segment is written out wherever it is used: use a large segment once, "
                             "e.g. `a and (x > 1 or x > 2)` rather than `(a and x > 1) or (a and x > 2)`",))
