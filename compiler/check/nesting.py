"""The nesting bound of front/nesting.py, through references: a segment that uses another
holds that one's whole checked tree, and the lowering, sqlglot and the engines walk the
expanded tree recursively. The checker counts the levels of the tree it builds (which
also bounds its own recursion through references it checks on the way) and, for a
reference to a segment already checked, adds that segment's recorded depth."""
from __future__ import annotations

from segc.check.reporter import Reported
from segc.front.nesting import MAX_NESTING, nesting_diagnostic

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

    def measure(self, name: str, check):
        """Run `check` (which checks definition `name`) and record how deep its tree goes."""
        start, outer = self.depth, self.deepest
        self.deepest = start
        try:
            return check()
        finally:
            self.definition_depth[name] = self.deepest - start
            self.deepest = max(outer, self.deepest)
