"""`segc discover`: bottom-up segmentation, written as rules a person can read and edit.

The population's point-in-time features (read through the compiler, on the project's
engine) are median-imputed, standardised and clustered with k-means (k chosen by
silhouette when a range is given). A shallow decision tree, fitted on the *unscaled*
features so that its thresholds mean something, explains the clusters; its leaves become
the branches of a `segmentation` (first match wins, the last is `else`) with rounded
thresholds and a `##` profile per branch.

Every figure about the written rules (branch sizes, faithfulness, homogeneity) comes from
running the written segmentation through segc itself, with its missing-value rule (a
condition on a missing value is false), never from the tree's `predict`: the report's
counts are those of `segc count`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from segc.front.files import display_path
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.project import same_file
from segc.schema.segc_yml import RESERVED

MARKER = "# Discovered by `segc discover`"  # the first line of a file segc wrote: it may be replaced
DEFAULT_K = "3..6"
N_INIT = 10  # k-means restarts: fixed, so that a seed gives one result
SILHOUETTE_SAMPLE = 5_000  # silhouette is quadratic: scored on a deterministic sample
MIN_PER_CLUSTER = 10  # fewer customers per cluster than this is not a segmentation
MAX_K = 20
ROUNDING_TOLERANCE = 0.01  # a rounded threshold may move this share of its node's customers
MIN_LEAF_SHARE = 0.01  # without min_size, no rule narrower than 1% of the population
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_K = re.compile(r"\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$")


# ---- the result ------------------------------------------------------------------------

@dataclass(frozen=True)
class BranchReport:
    name: str
    cluster: int  # the k-means cluster it stands for (numbered from 1, largest first)
    count: int  # members, by segc's own evaluation of the written rule
    share: float  # of the population
    in_cluster: float | None  # share of its members that are in its cluster (purity)
    means: dict[str, float | None]
    stddev_ratio: dict[str, float | None]  # stddev inside the branch / in the population
    too_small: bool


@dataclass(frozen=True)
class ClusterReport:
    cluster: int
    size: int
    branch: str | None  # the branch that stands for it (None: the rules could not isolate it)
    in_branch: float  # share of its members that the rules put in that branch (recall)
    means: dict[str, float | None]


@dataclass(frozen=True)
class DiscoverResult:
    name: str
    text: str  # the .seg file
    features: list[str]
    as_of: str  # the pinned date, or "today"
    population: int
    k: int
    silhouettes: dict[int, float]  # per k tried
    seed: int
    min_size: int | None
    faithfulness: float  # share of customers whose branch stands for their cluster
    branches: list[BranchReport]
    clusters: list[ClusterReport]
    population_means: dict[str, float | None]
    population_stddev: dict[str, float | None]
    imputed: dict[str, float]  # feature -> share missing, imputed with the median for clustering
    notes: list[str] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)  # from checking the written file

    def to_dict(self) -> dict:
        return {
            "name": self.name, "features": self.features, "as_of": self.as_of,
            "population": self.population, "k": self.k, "seed": self.seed,
            "silhouette": {str(k): s for k, s in self.silhouettes.items()},
            "min_size": self.min_size, "faithfulness": self.faithfulness,
            "branches": [{"name": b.name, "cluster": b.cluster, "count": b.count, "share": b.share,
                          "in_cluster": b.in_cluster, "means": b.means, "stddev_ratio": b.stddev_ratio,
                          "too_small": b.too_small} for b in self.branches],
            "clusters": [{"cluster": c.cluster, "size": c.size, "branch": c.branch,
                          "in_branch": c.in_branch, "means": c.means} for c in self.clusters],
            "population_means": self.population_means, "population_stddev": self.population_stddev,
            "imputed": self.imputed, "notes": self.notes,
            "warnings": [d.to_dict() for d in self.warnings],
            "segmentation": self.text,
        }


# ---- inputs ----------------------------------------------------------------------------

def parse_k(text: str | int) -> list[int]:
    """`4` or `3..6` (both ends included)."""
    m = _K.match(str(text))
    if not m:
        raise SegcError(Diagnostic("E954", f"--k `{text}` is neither a number nor a range",
                                   hints=("write --k 4, or --k 3..6 to choose k by silhouette",)))
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if lo < 2 or hi > MAX_K or lo > hi:
        raise SegcError(Diagnostic("E954", f"--k `{text}`: k must be between 2 and {MAX_K}, lowest first",
                                   hints=("e.g. --k 3..6",)))
    return list(range(lo, hi + 1))


def check_features(project, features: list[str]) -> None:
    """Numeric (or bool) features of segc.yml, not sensitive, each named once."""
    diags = []
    if not features:
        raise SegcError(Diagnostic("E950", "no features to cluster on",
                                   hints=("e.g. --features purchases_365d,basket_avg,revenue_365d",)))
    known = project.schema.features
    seen = set()
    for f in features:
        if f in seen:
            diags.append(Diagnostic("E950", f"feature `{f}` is given twice in --features"))
            continue
        seen.add(f)
        fd = known.get(f)
        if fd is None:
            close = suggest(f, known)
            diags.append(Diagnostic("E950", f"unknown feature `{f}` in --features",
                                    hints=(f"did you mean `{close}`?" if close else
                                           "features are declared in segc.yml",)))
        elif fd.sensitive:
            diags.append(Diagnostic("E952", f"`{f}` is a sensitive feature: discovery does not use it",
                                    hints=("sensitive features may not select customers; leave it out",)))
        elif fd.type not in ("int", "float", "bool"):
            hint = ("derive a number from it in segc.yml (e.g. a `sql:` feature counting the days "
                    "since it) and cluster on that" if fd.type in ("date", "timestamp") else
                    "k-means needs numbers: encode it as a number or a bool in segc.yml (a `sql:` "
                    "feature such as `country = 'FR'`), or leave it out")
            diags.append(Diagnostic("E951", f"`{f}` is a {fd.type} feature, not a number", hints=(hint,)))
    if diags:
        raise SegcError(diags)


def replaced_file(project, name: str, out: Path | None) -> Path | None:
    """The file the new text stands in for: --out, or without it a file segc discover
    wrote earlier that defines `name` (printing again is meant to replace it)."""
    if out is not None:
        return out
    for module in project.modules:
        if any(d.name == name for d in module.definitions) and _written_by_discover(Path(module.file)):
            return Path(module.file)
    return None


def check_name(project, name: str, replaced: Path | None) -> None:
    if not _IDENT.match(name) or name in RESERVED:
        raise SegcError(Diagnostic("E957", f"--name `{name}` is not a valid segmentation name",
                                   hints=("letters, digits and `_`, not starting with a digit, not a word "
                                          "of the language",)))
    if name in project.schema.features:
        raise SegcError(Diagnostic("E957", f"--name `{name}` is already the name of a feature",
                                   hints=("choose another --name",)))
    for module in project.modules:
        if replaced is not None and same_file(module.file, replaced):
            continue  # the file being replaced
        if any(d.name == name for d in module.definitions):
            raise SegcError(Diagnostic("E957", f"`{name}` is already defined in {module.file}",
                                       hints=("choose another --name, or --out that file to replace it",)))


def _written_by_discover(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().startswith(MARKER)
    except (OSError, UnicodeDecodeError):
        return False


def check_out(path: Path, force: bool) -> None:
    """Refuse to replace a file segc did not write (unless forced)."""
    if path.is_dir():
        raise SegcError(Diagnostic("E956", f"--out `{path}` is a folder", hints=("give a .seg file name",)))
    if not path.parent.is_dir():
        raise SegcError(Diagnostic("E956", f"--out: the folder `{path.parent}` does not exist",
                                   hints=("create it first, or write into the project's segments/ folder",)))
    if path.exists() and not force:
        if not _written_by_discover(path):
            raise SegcError(Diagnostic("E956", f"--out `{path}` exists and was not written by segc discover",
                                       hints=("choose another file, or pass --force to replace it",)))


# ---- discovery -------------------------------------------------------------------------

def discover(project, features: list[str], k: str | int = DEFAULT_K, as_of=None, seed: int = 0,
             name: str = "discovered", depth: int = 3, min_size: int | None = None,
             out: Path | None = None, force: bool = False) -> DiscoverResult:
    """Cluster the population on `features` and write the clusters as a segmentation.
    Nothing is written here (see `write`); `out` only names the file the text is meant for
    (a file it replaces is left out of the check)."""
    ks = parse_k(k)
    check_features(project, features)
    replaced = replaced_file(project, name, out)
    check_name(project, name, replaced)
    if out is not None:
        check_out(out, force)
    if depth < 1 or depth > 6:
        raise SegcError(Diagnostic("E954", f"--depth {depth}: the rules' depth must be between 1 and 6"))
    if max(ks) > 2 ** depth:
        raise SegcError(Diagnostic("E954", f"k = {max(ks)} clusters cannot be told apart by rules of depth "
                                   f"{depth} (at most {2 ** depth} leaves)",
                                   hints=(f"choose k <= {2 ** depth}, or a larger --depth",)))
    min_size = project.schema.min_size if min_size is None else min_size

    import numpy as np

    keys, raw = project.feature_matrix(features, as_of)
    n = len(keys)
    need = MIN_PER_CLUSTER * max(ks)
    if n < need:
        raise SegcError(Diagnostic("E955", f"too few customers for k = {max(ks)}: the population has {n}, "
                                   f"at least {need} are needed ({MIN_PER_CLUSTER} per cluster)",
                                   hints=("choose a smaller --k, or check the population and the as-of",)))
    present = ~np.isnan(raw)
    empty = [f for j, f in enumerate(features) if not present[:, j].any()]
    if empty:
        raise SegcError(Diagnostic("E953", "no value at all in the population for "
                                   + ", ".join(f"`{f}`" for f in empty),
                                   hints=("every customer is missing it at this as-of: leave it out, or "
                                          "check the data and the as-of date",)))
    medians = np.array([np.median(raw[present[:, j], j]) for j in range(len(features))])
    data = np.where(present, raw, medians)
    distinct = len(np.unique(data, axis=0))
    if distinct < max(ks):
        raise SegcError(Diagnostic("E955", f"only {distinct} distinct combinations of values: too few for "
                                   f"k = {max(ks)}", hints=("choose a smaller --k, or other features",)))
    imputed = {f: float(1 - present[:, j].mean()) for j, f in enumerate(features) if not present[:, j].all()}

    import sklearn.cluster  # noqa: F401  (loaded before the limit, or it would not apply to them)
    import sklearn.metrics  # noqa: F401
    import sklearn.tree  # noqa: F401
    from threadpoolctl import threadpool_limits

    # one thread: k-means sums in a fixed order, so a seed gives the same clusters on any
    # machine (and two cores shared by OpenMP threads are slower than one, measured)
    with threadpool_limits(1):
        labels, chosen, silhouettes, notes = _cluster(data, ks, seed, min_size)
        types = [project.schema.features[f].type for f in features]
        min_leaf = min_size if min_size else max(1, math.ceil(MIN_LEAF_SHARE * n))
        tree = _explain(data, labels, depth, min_leaf, seed)
    rules = _rules(tree, data, types)

    pop_means = _means(raw, np.ones(n, dtype=bool), features)
    pop_sd = _stddevs(raw, np.ones(n, dtype=bool), features)
    cluster_means = [_means(raw, labels == c, features) for c in range(chosen)]
    branch_names = _names(data, labels, chosen, features)
    branches, else_cluster = _branches(rules, labels, chosen)
    if not branches:
        raise SegcError(Diagnostic("E958", f"the rules cannot tell the {chosen} clusters apart: no split "
                                   f"leaves at least {min_leaf} customers on each side",
                                   hints=("lower --min-size, or choose other features",)))
    explained = {c for c, _leaves in branches} | {else_cluster}
    for c in range(chosen):
        if c not in explained:
            notes.append(f"cluster {c + 1} could not be isolated by rules of depth {depth}: no branch "
                         "stands for it")

    header = _header(features, chosen, ks, seed, project, as_of)
    text = _text(name, header, branches, else_cluster, branch_names, features, types,
                 cluster_means, pop_means, labels, n, medians, ~present.all(axis=0))

    from segc.front.fmt import format_source

    display = display_path(out) if out is not None else f"{name}.seg"
    text = format_source(text, display)

    # the written rules, evaluated by segc: labels by key
    derived = project.with_source(text, display, replaced)
    label_q = derived.label_query(name, as_of, keep_unmatched=True)
    by_key = dict(project.run(label_q))
    names_of = [branch_names[c] for c, _l in branches] + [branch_names[else_cluster]]
    order = {b: i for i, b in enumerate(names_of)}
    assigned = np.array([order.get(by_key.get(key), -1) for key in keys])
    cluster_of_branch = [c for c, _l in branches] + [else_cluster]
    faithful = np.array([a >= 0 and cluster_of_branch[a] == lab for a, lab in zip(assigned, labels)])

    branch_reports, cluster_reports = _reports(raw, labels, assigned, names_of, cluster_of_branch,
                                               cluster_means, pop_sd, features, min_size)
    for f, share in imputed.items():
        notes.append(f"`{f}` is missing for {share:.0%} of the population: imputed with the median for "
                     "clustering; where the median passes a rule, the rule says `or ... is missing`")
    effective = project.as_of if as_of is None else project.as_of_date(as_of)
    warnings = [d for d in derived.warnings if _in_file(d, display)]
    return DiscoverResult(name, text, list(features), effective.isoformat() if effective else "today", n,
                          chosen, silhouettes, seed, min_size, float(faithful.mean()) if n else 0.0,
                          branch_reports, cluster_reports, pop_means, pop_sd, imputed, notes, warnings)


def write(result: DiscoverResult, path: Path, force: bool = False) -> None:
    """Write the segmentation atomically (temp file + rename)."""
    from segc.front.files import write_atomic

    check_out(path, force)
    try:
        write_atomic(path, result.text)
    except OSError as e:
        raise SegcError(Diagnostic("E956", f"cannot write `{path}`: {e.strerror}")) from None


# ---- clustering ------------------------------------------------------------------------

def _cluster(data, ks: list[int], seed: int, min_size: int | None):
    """Labels (clusters numbered by size, largest first), the chosen k, silhouette per k."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    scaled = StandardScaler().fit_transform(data)
    n = len(scaled)
    sample = None
    if n > SILHOUETTE_SAMPLE:
        sample = np.sort(np.random.RandomState(seed).choice(n, SILHOUETTE_SAMPLE, replace=False))
    silhouettes, fits, notes = {}, {}, []
    for k in ks:
        labels = KMeans(n_clusters=k, random_state=seed, n_init=N_INIT).fit_predict(scaled)
        fits[k] = labels
        if len(set(labels)) < 2:
            silhouettes[k] = -1.0
            continue
        if sample is None:
            silhouettes[k] = float(silhouette_score(scaled, labels))
        else:
            s = silhouette_score(scaled[sample], labels[sample]) if len(set(labels[sample])) > 1 else -1.0
            silhouettes[k] = float(s)
    # clusters too small for min_size make a k ineligible, unless no k is eligible
    big_enough = [k for k in ks if not min_size or np.bincount(fits[k], minlength=k).min() >= min_size]
    if min_size and not big_enough:
        notes.append(f"every k tried has a cluster smaller than min_size {min_size}")
    candidates = big_enough or ks
    def score(k):
        return round(silhouettes[k], 12), -k  # rounded: a last-bit difference must not pick k

    chosen = max(candidates, key=score)
    best = max(ks, key=score)
    if best != chosen:
        notes.append(f"k = {best} has a higher silhouette ({silhouettes[best]:.3f}) but a cluster smaller "
                     f"than min_size {min_size}")
    labels = fits[chosen]
    sizes = np.bincount(labels, minlength=chosen)
    rank = sorted(range(chosen), key=lambda c: (-sizes[c], c))
    relabel = np.empty(chosen, dtype=int)
    relabel[rank] = np.arange(chosen)
    return relabel[labels], chosen, silhouettes, notes


def _explain(data, labels, depth: int, min_leaf: int, seed: int):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=depth, min_samples_leaf=min_leaf, random_state=seed).fit(data, labels)


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


def _rules(tree, data, types: list[str]) -> list[_Leaf]:
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


def _branches(leaves: list[_Leaf], labels, k: int):
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

def _names(data, labels, k: int, features: list[str]) -> dict[int, str]:
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


def _header(features, k, ks, seed, project, as_of) -> str:
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


def _text(name, header, branches, else_cluster, names, features, types, cluster_means, pop_means,
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


# ---- the written rules, checked and run by segc ------------------------------------------

def _in_file(d: Diagnostic, display: str) -> bool:
    return d.span is not None and d.span.file == display


def _reports(raw, labels, assigned, names_of, cluster_of_branch, cluster_means, pop_sd, features,
             min_size) -> tuple[list[BranchReport], list[ClusterReport]]:
    """Per branch (members as segc assigned them): size, purity, means, stddev ratios; per
    cluster: how many of it its branch holds."""
    n = len(labels)
    branch_reports = []
    for i, bname in enumerate(names_of):
        inside = assigned == i
        size = int(inside.sum())
        c = cluster_of_branch[i]
        purity = float((labels[inside] == c).mean()) if size else None
        means = _means(raw, inside, features)
        sds = _stddevs(raw, inside, features)
        ratio = {f: (sds[f] / pop_sd[f]) if sds[f] is not None and pop_sd[f] else None for f in features}
        branch_reports.append(BranchReport(bname, c + 1, size, size / n if n else 0.0, purity, means, ratio,
                                           bool(min_size) and size < min_size))
    cluster_reports = []
    for c in range(len(cluster_means)):
        members = labels == c
        size = int(members.sum())
        b = cluster_of_branch.index(c) if c in cluster_of_branch else None
        recall = float((assigned[members] == b).mean()) if b is not None and size else 0.0
        cluster_reports.append(ClusterReport(c + 1, size, names_of[b] if b is not None else None, recall,
                                             cluster_means[c]))
    return branch_reports, cluster_reports


def _means(raw, mask, features) -> dict[str, float | None]:
    import numpy as np

    out = {}
    for j, f in enumerate(features):
        v = raw[mask, j]
        v = v[~np.isnan(v)]
        out[f] = float(v.mean()) if len(v) else None
    return out


def _stddevs(raw, mask, features) -> dict[str, float | None]:
    import numpy as np

    out = {}
    for j, f in enumerate(features):
        v = raw[mask, j]
        v = v[~np.isnan(v)]
        out[f] = float(v.std(ddof=1)) if len(v) > 1 else None
    return out
