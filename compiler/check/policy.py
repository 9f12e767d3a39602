"""The sensitive-feature policy: what may read a sensitive feature (a definition with
@allow_sensitive("reason")), and what never may (the population, ad-hoc expressions)."""
from __future__ import annotations

from segc.check.definitions import Annotations


class Policy:
    def policy_expr(self, expr, used) -> None:
        for f in sorted(used):
            if self.schema.features[f].sensitive:
                self.error("E501", f"`{f}` is a sensitive feature", expr.span,
                           "sensitive features may only be used by a segment annotated "
                           "@allow_sensitive(\"reason\")")

    def population_policy(self, used) -> None:
        # the population filters every segment, so no segment's @allow_sensitive covers it
        sensitive = sorted(f for f in used if self.schema.features[f].sensitive)
        if sensitive:
            self.error("E501", "the population uses the sensitive feature"
                       f"{'s' if len(sensitive) > 1 else ''} " + ", ".join(f"`{f}`" for f in sensitive),
                       self.schema.population.span,
                       "the population applies to every segment, where @allow_sensitive cannot reach: "
                       "move the condition into the segments that have a legal basis")

    def policy(self, node, used: frozenset[str], notes: Annotations) -> dict[str, str]:
        """The sensitive features a definition reads, each with the reason its
        @allow_sensitive gives; E501 when it gives none."""
        sensitive = sorted(f for f in used if self.schema.features[f].sensitive)
        if not sensitive:
            return {}
        reason = notes.allow_sensitive
        if reason is None:
            self.error("E501", f"`{node.name}` uses the sensitive feature{'s' if len(sensitive) > 1 else ''} "
                       + ", ".join(f"`{f}`" for f in sensitive), node.name_span,
                       "sensitive features (religion, ethnicity, ...) may not select customers; if a "
                       "legal basis exists, annotate the definition with @allow_sensitive(\"reason\")")
            return {}
        return {f: reason for f in sensitive}
