"""The sensitive-data policy (DESIGN §8.5), at one place: what reads a sensitive column,
and who may.

A column is sensitive physically (schema/physical.py): a feature reading it is sensitive
under any name, through any source over the same table or file. What an expression reads
is taken from its checked IR (references already expanded, so transitively) and from the
features the checker saw it use: a sensitive feature, or an inline aggregate whose column
or `where` reads a sensitive column (`max(people.religion) = "x"`). `sensitive_reads` is
the one test; every route that reads data for a definition or for the whole project
calls it. A definition may read sensitive data only with @allow_sensitive("reason"); a
score only with `allow_sensitive:` in segc.yml; the routes that serve every segment at
once (the population, KPIs, `report --by`, `discover --features`, ad-hoc expressions)
never may. tests/test_privacy_routes.py proves every route of ROUTES both ways."""
from __future__ import annotations


from segc import ir
from segc.check.definitions import Annotations, annotation
from segc.front.errors import Diagnostic, SegcError
from segc.schema.physical import event_order

# Every route by which an expression can read a column, each proven refused and allowed
# in tests/test_privacy_routes.py (which fails when this list and its table differ).
ROUTES = (
    "feature column:",        # a base feature over the column
    "feature where:",         # an aggregate feature whose where: reads it
    "feature sql:",           # an sql: feature naming it
    "second source",          # another source over the same table or file
    "inline aggregate",       # max(people.religion) = "x"
    "inline where",           # count(people where religion = "x")
    "event time:",            # any aggregate of a source whose time: is sensitive (the as-of clip)
    "event order_by:",        # first / last / nth of a source whose order_by: is
    "reference",              # a segment that uses a segment that reads it
    "segmentation branch",    # a branch of a segmentation that reads it
    "score features",         # a score fed with it (allowed by the score's allow_sensitive:)
    "score target",           # a score's target reads it (idem)
    "population",             # never allowed
    "base time:",             # the population at an as-of is the base rows before it: never allowed
    "kpi",                    # never allowed
    "ad-hoc expression",      # count -e: never allowed
    "ad-hoc overlap",         # the playground's overlap of an expression: definitions that read it left out
    "report --by",            # never allowed
    "discover --features",    # never allowed
    "sample columns",         # shown only for a segment that allows it
    "profile columns",        # idem
    "catalogue",              # segc docs: counts only definitions that passed the policy
    "changes --with",         # a payload column: shown only for definitions that allow it
    "experiment metric",      # allowed by the experiment's allow_sensitive: in segc.yml
)

HINT = ("sensitive features (religion, ethnicity, ...) may not select customers; if a legal basis "
        "exists, annotate the definition with @allow_sensitive(\"reason\")")


def sensitive_reads(schema, features=(), *trees) -> list[str]:
    """The sensitive things read by an expression that uses `features` and checked to
    `trees` (IR): sensitive features by name, inline aggregates' columns as `source.column`."""
    out = {f for f in features if f in schema.features and schema.features[f].sensitive}
    seen: set[tuple[int, str | None]] = set()
    for tree in trees:
        _walk(schema, tree, None, out, seen)
    return sorted(out)


def _walk(schema, node, source: str | None, out: set[str], seen: set) -> None:
    # a segment used by another is the same object in its tree: walked once (a chain of
    # segments each using the last one 20 times was 20**5 walks, 27 s of `segc check`)
    if (id(node), source) in seen:
        return
    seen.add((id(node), source))
    if isinstance(node, ir.Col):
        if node.scope == "event" and source is not None and schema.is_sensitive_column(source, node.name):
            out.add(f"{source}.{node.name}")
        elif node.scope == "features" and node.name in schema.features and schema.features[node.name].sensitive:
            out.add(node.name)
        return
    if isinstance(node, ir.Sequence):  # Y's `where` reads Y's columns, `within` Y's times
        _event_order(schema, node.source, "count", out)
        if node.where is not None:
            _walk(schema, node.where, node.source, out, seen)
        return
    if isinstance(node, ir.Agg):
        if node.label is not None and node.label in schema.features:
            if schema.features[node.label].sensitive:
                out.add(node.label)
            return  # the feature's columns are the feature's sensitivity
        source = node.source
        _event_order(schema, source, node.func, out)
    for child in node if isinstance(node, (tuple, list)) else ir.parts(node):
        if isinstance(child, (ir.Value, ir.Pred, ir.Window, ir.Sequence)):
            _walk(schema, child, source, out, seen)


def _event_order(schema, source: str, func: str, out: set[str]) -> None:
    """The source's time and tie-breakers an aggregate reads without naming them."""
    src = schema.sources.get(source)
    for c in event_order(src, func) if src is not None else ():
        if schema.is_sensitive_column(source, c):
            out.add(f"{source}.{c}")


def _listed(names: list[str]) -> str:
    """`the sensitive feature `religion``, or `the sensitive data ...` when an inline
    aggregate's `source.column` is among them."""
    what = "sensitive data" if any("." in n for n in names) else \
        "sensitive feature" + ("s" if len(names) > 1 else "")
    return f"the {what} " + ", ".join(f"`{n}`" for n in names)


def may_meet_ad_hoc(target) -> bool:
    """Whether an ad-hoc expression may be intersected with this definition (the
    playground's overlap): not when the definition reads sensitive data. Its
    @allow_sensitive covers the definition, not what an analyst combines it with: an
    expression that singles out one customer would read that customer's data through the
    intersection (`both` = 1 or 0), as `expression and definition` does, which is E501."""
    return not target.sensitive


def allowed_features(schema, features, allowed) -> list[str]:
    """Of `features` (or columns of the base source: `changes --with`), those a definition
    may show: not sensitive, or allowed by it."""
    return [f for f in features if not _sensitive(schema, f) or f in allowed]


def _sensitive(schema, name: str) -> bool:
    if name in schema.features:
        return bool(sensitive_reads(schema, [name]))
    return schema.is_sensitive_column(schema.base, name)


class Policy:
    def policy_expr(self, expr, used, *trees) -> None:
        found = sensitive_reads(self.schema, used, *trees)
        if found:
            self.error("E501", f"the expression uses {_listed(found)}", expr.span,
                       "sensitive features may only be used by a segment annotated @allow_sensitive(\"reason\")")

    def experiment_policy(self, name: str, allow_sensitive: str | None):
        """The policy of an experiment's metrics: E501 unless the experiment gives
        `allow_sensitive:` (its own allowance: the readout is of that experiment only)."""
        def check(expr, used, *trees) -> None:
            found = sensitive_reads(self.schema, used, *trees)
            if found and not allow_sensitive:
                self.error("E501", f"a metric of experiment `{name}` uses {_listed(found)}", expr.span,
                           "if a legal basis exists, give the experiment `allow_sensitive: \"reason\"` in segc.yml")
        return check

    def population_policy(self, used, *trees) -> None:
        # the population filters every segment, so no segment's @allow_sensitive covers it
        base = self.schema.sources.get(self.schema.base)
        if base is not None and base.time and self.schema.is_sensitive_column(base.name, base.time):
            self.error("E501", f"the base's `time: {base.time}` is sensitive, and the population at an "
                       f"as-of is the base rows whose `{base.time}` is before it",
                       self.schema.key_span("sources", base.name, "time"),
                       "every segment reads it then (moving --as-of day by day gives each customer's "
                       f"date), where @allow_sensitive cannot reach: remove `time:` from source "
                       f"`{base.name}` (the population is then every row at any as-of)")
        found = sensitive_reads(self.schema, used, *trees)
        if found:
            self.error("E501", f"the population uses {_listed(found)}", self.schema.population.span,
                       "the population applies to every segment, where @allow_sensitive cannot reach: "
                       "move the condition into the segments that have a legal basis")

    def score_policy(self, score, what: str, found: list[str], span) -> None:
        """E933 when a score's target or features read sensitive data without its
        `allow_sensitive:` (the score's own allowance: it is fitted once, for every segment)."""
        if found and not score.allow_sensitive:
            self.error("E933", f"{what} uses {_listed(found)}", span,
                       "sensitive data (religion, ethnicity, ...) may not feed a score; if a legal basis "
                       "exists, give the score `allow_sensitive: \"reason\"` in segc.yml")

    def policy(self, node, used: frozenset[str], notes: Annotations, *trees) -> dict[str, str]:
        """The sensitive data a definition reads, each with the reason its
        @allow_sensitive gives; E501 when it gives none."""
        found = sensitive_reads(self.schema, used, *trees)
        if not found:
            if notes.allow_sensitive is not None:  # stale: it would silently cover a later edit
                allowance = annotation(node, "allow_sensitive")
                self.warn("W502", f"`{node.name}` reads no sensitive data: its @allow_sensitive allows nothing",
                          allowance.span if allowance is not None and allowance.span else node.name_span,
                          "remove the annotation; give it again when the definition reads sensitive data")
            return {}
        reason = notes.allow_sensitive
        if reason is None:
            self.error("E501", f"`{node.name}` uses {_listed(found)}", node.name_span, HINT)
            return {}
        return {f: reason for f in found}
