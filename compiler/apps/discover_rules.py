"""`segc discover`'s rules: the decision tree's leaves as conditions with round thresholds,
the branches they make (first match wins, the last is `else`), their names, and the text
of the segmentation written into a .seg file."""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from segc.schema.vocabulary import RESERVED

MARKER = "# Discovered by `segc discover`"  # the first line of a file segc wrote: it may be replaced
ROUNDING_TOLERANCE = 0.01  # a rounded threshold may move this share of its node's customers

# ---- the tree as rules -----------------------------------------------------------------

@dataclass(frozen=True)
class _Bounds:
    """What a leaf asks of one feature: `lo <= x < hi` (either may be absent), or for a
    bool, `flag` (True: the feature is true)."""
    feature: int
    lo: float | None = None
    hi: float | None = None
    flag: bool | None = None

    def holds(self, v: float) -> bool:
        if self.flag is not None:
            return (v >= 0.5) == self.flag
        return (self.lo is None or v >= self.lo) and (self.hi is None or v < self.hi)


@dataclass(frozen=True)
class _Leaf:
    cluster: int
    size: int
    conditions: tuple[_Bounds, ...]  # one per feature tested, in the order first tested


def tree_rules(tree, data, types: list[str]) -> list[_Leaf]:
    """The tree's leaves as conjunctions of rounded conditions; sibling leaves of the same
    cluster are merged first (the split between them says nothing)."""
    import numpy as np

    t = tree.tree_
    node_rows = tree.decision_path(data).tocsc()

    def build(node: int):
        left, right = t.children_left[node], t.children_right[node]
        if left == -1:
            return ("leaf", int(tree.classes_[int(np.argmax(t.value[node][0]))]), int(t.n_node_samples[node]))
        a, b = build(left), build(right)
        if a[0] == b[0] == "leaf" and a[1] == b[1]:
            return ("leaf", a[1], a[2] + b[2])
        return ("split", node, a, b)

    leaves: list[_Leaf] = []

    def walk(item, conds):
        if item[0] == "leaf":
            simplified = _simplify(conds, types)
            if simplified is not None:
                leaves.append(_Leaf(item[1], item[2], simplified))
            return
        _s, node, a, b = item
        j = int(t.feature[node])
        rows = node_rows.indices[node_rows.indptr[node]:node_rows.indptr[node + 1]]
        if types[j] == "bool":
            walk(a, conds + [(j, "false", None)])
            walk(b, conds + [(j, "true", None)])
            return
        cut = _round_threshold(float(t.threshold[node]), data[rows, j], types[j] == "int")
        walk(a, conds + [(j, "<", cut)])
        walk(b, conds + [(j, ">=", cut)])

    walk(build(0), [])
    return leaves


def _round_sig(x: float, digits: int) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def _round_threshold(threshold: float, values, whole: bool) -> float:
    """The roundest cut (fewest significant digits) that moves at most ROUNDING_TOLERANCE
    of the node's customers to the other side. The tree puts `v <= threshold` left; the
    rules say `v < cut` (whole numbers: the smallest value on the right)."""
    import numpy as np

    left = values <= threshold
    exact = math.floor(threshold) + 1 if whole else threshold
    allowed = ROUNDING_TOLERANCE * len(values)
    for digits in range(1, 7):
        cut = _round_sig(exact, digits)
        if whole:
            cut = float(round(cut))
        if np.count_nonzero(left != (values < cut)) <= allowed:
            return cut
    return float(exact) if whole else threshold


def _simplify(conds, types) -> tuple | None:
    """The tightest bounds per feature, in the order features were first tested; None
    when they contradict each other (thresholds rounded apart)."""
    lo: dict[int, float] = {}
    hi: dict[int, float] = {}
    flags: dict[int, bool] = {}
    order: list[int] = []
    for j, op, v in conds:
        if j not in order:
            order.append(j)
        if op == "<":
            hi[j] = min(hi.get(j, math.inf), v)
        elif op == ">=":
            lo[j] = max(lo.get(j, -math.inf), v)
        else:
            flag = op == "true"
            if flags.get(j, flag) != flag:
                return None
            flags[j] = flag
    out = []
    for j in order:
        if j in lo and j in hi and lo[j] >= hi[j]:
            return None
        out.append(_Bounds(j, lo.get(j), hi.get(j), flags.get(j)))
    return tuple(out)


def branches_of(leaves: list[_Leaf], labels, k: int):
    """[(cluster, leaves)] in cluster order, and the cluster that becomes `else`: the one
    whose rule is the longest to write (ties: the largest), which `else` saves writing."""
    import numpy as np

    by_cluster: dict[int, list[_Leaf]] = {}
    for leaf in leaves:
        by_cluster.setdefault(leaf.cluster, []).append(leaf)
    sizes = np.bincount(labels, minlength=k)
    if not by_cluster:
        return [], 0
    else_cluster = max(by_cluster, key=lambda c: (sum(len(l.conditions) for l in by_cluster[c]), sizes[c], -c))
    return [(c, by_cluster[c]) for c in sorted(by_cluster) if c != else_cluster], else_cluster


# ---- names and text --------------------------------------------------------------------

def branch_names(data, labels, k: int, features: list[str]) -> dict[int, str]:
    """Readable, unique branch names from the features that stand out most (in population
    standard deviations): `high_purchases_365d`, `low_basket_avg_high_age`, ... A name
    takes one more feature while it is shared; a numeric suffix settles what remains."""
    import numpy as np

    mean, sd = data.mean(axis=0), data.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    words: dict[int, list[str]] = {}
    for c in range(k):
        members = labels == c
        z = (data[members].mean(axis=0) - mean) / sd if members.any() else np.zeros(len(features))
        ranked = sorted(range(len(features)), key=lambda j: (-abs(z[j]), j))
        words[c] = [f"{'high' if z[j] > 0 else 'low'}_{features[j]}" for j in ranked if abs(z[j]) >= 0.25]
    used_words = {c: 1 for c in range(k)}

    def name_of(c: int) -> str:
        return "_".join(words[c][:used_words[c]]) or "typical"

    while True:
        groups: dict[str, list[int]] = {}
        for c in range(k):
            groups.setdefault(name_of(c), []).append(c)
        grew = False
        for shared in (cs for cs in groups.values() if len(cs) > 1):
            for c in shared:
                if used_words[c] < len(words[c]):
                    used_words[c] += 1
                    grew = True
        if not grew:
            break
    names: dict[int, str] = {}
    taken: set[str] = set()
    for c in range(k):
        base = name = name_of(c)
        i = 2
        while name in taken or name in RESERVED:
            name, i = f"{base}_{i}", i + 1
        taken.add(name)
        names[c] = name
    return names


def _number(v: float, whole: bool) -> str:
    if whole:
        return str(int(v))
    text = format(Decimal(repr(float(v))).normalize(), "f")
    return text


def _bounds_text(f: str, whole: bool, b: _Bounds, missing_inside: bool) -> str:
    """One feature's part of a rule. A missing value fails every comparison (segc's rule),
    but for clustering it stood for the median: where the median is inside the bounds,
    the rule lets missing values in too, so that the rules follow the clusters."""
    if b.flag is not None:
        if b.flag:
            return f"({f} or {f} is missing)" if missing_inside else f
        # `not f` holds for a missing value (complement), `f = false` does not
        return f"not {f}" if missing_inside else f"{f} = false"
    if whole and b.lo is not None and b.hi is not None and b.hi - 1 == b.lo:
        text = f"{f} = {_number(b.lo, True)}"
    elif whole and b.lo is not None and b.hi is not None:
        # whole numbers between two bounds read best as `between` (both ends included)
        text = f"{f} between {_number(b.lo, True)} and {_number(b.hi - 1, True)}"
    else:
        parts = ([f"{f} >= {_number(b.lo, whole)}"] if b.lo is not None else []) + \
                ([f"{f} < {_number(b.hi, whole)}"] if b.hi is not None else [])
        text = " and ".join(parts)
    if missing_inside:
        return f"({text} or {f} is missing)"
    return text


def _conjunction(features, types, leaf: _Leaf, medians, has_missing) -> str:
    parts = []
    for b in leaf.conditions:
        j = b.feature
        inside = bool(has_missing[j]) and b.holds(medians[j])
        if b.flag is not None and not has_missing[j]:
            parts.append(features[j] if b.flag else f"not {features[j]}")
            continue
        parts.append(_bounds_text(features[j], types[j] == "int", b, inside))
    return " and ".join(parts) if parts else "true"


def _fmt(v: float | None) -> str:
    if v is None:
        return "—"
    r = _round_sig(v, 3)
    return f"{int(r):,}" if abs(r) >= 100 or r == int(r) else format(Decimal(repr(r)).normalize(), "f")


def header_text(features, k, ks, seed, project, as_of) -> str:
    effective = project.as_of if as_of is None else project.as_of_date(as_of)
    how = f"k = {k} chosen by silhouette among {ks[0]}..{ks[-1]}" if len(ks) > 1 else f"k = {k}"
    return "\n".join([
        f"{MARKER} (k-means, {how}, seed {seed}) on",
        f"# {', '.join(features)}, as of {effective.isoformat() if effective else 'today'}.",
        "# Edit the rules freely; running segc discover again with --out replaces this file.",
    ])


def _profile(features, means, pop_means) -> list[str]:
    """`feature mean (population mean)` items, wrapped to doc lines of about 90 characters."""
    items = [f"{f} {_fmt(means[f])} (population {_fmt(pop_means[f])})" for f in features]
    lines, line = [], "Means:"
    for item in items:
        if len(line) + len(item) + 2 > 90 and line != "Means:":
            lines.append(line + ",")
            line = item
        else:
            line += (" " if line == "Means:" else ", ") + item
    lines.append(line + ".")
    return lines


def segmentation_text(name, header, branches, else_cluster, names, features, types, cluster_means, pop_means,
          labels, n, medians, has_missing) -> str:
    out = [header, "", f"## Found by segc discover: {len(branches) + 1} branches, first match wins.",
           "@tags(discovered)", f"segmentation {name} {{"]
    k = len(cluster_means)

    def doc(c):
        size = int((labels == c).sum())
        lines = [f"k-means cluster {c + 1} of {k}: {size / n:.0%} of the population."]
        return [f"  ## {line}" for line in lines + _profile(features, cluster_means[c], pop_means)]

    for c, leaves in branches:
        rules = [_conjunction(features, types, leaf, medians, has_missing) for leaf in leaves]
        rule = " or ".join(f"({r})" if len(rules) > 1 else r for r in rules)
        out += doc(c) + [f"  {names[c]} = {rule}"]
    out += doc(else_cluster) + [f"  {names[else_cluster]} = else", "}"]
    return "\n".join(out) + "\n"
