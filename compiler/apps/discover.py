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
from pathlib import Path

from segc.apps.outputs import check_file
from segc.check.policy import sensitive_reads
from segc.front.files import display_path
from segc.front.errors import Diagnostic, SegcError, suggest
from segc.preview import too_few
from segc.project import same_file
from segc.schema.vocabulary import is_name
from segc.apps.discover_rules import MARKER, branch_names, branches_of, header_text, segmentation_text, tree_rules

DEFAULT_K = "3..6"
N_INIT = 10  # k-means restarts: fixed, so that a seed gives one result
SILHOUETTE_SAMPLE = 5_000  # silhouette is quadratic: scored on a deterministic sample
MIN_PER_CLUSTER = 10  # fewer customers per cluster than this is not a segmentation
MAX_K = 20
MIN_LEAF_SHARE = 0.01  # without min_size, no rule narrower than 1% of the population
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
            diags.append(Diagnostic("E950", f"feature `{f}` is given twice in --features",
                                    hints=("list each feature once",)))
            continue
        seen.add(f)
        fd = known.get(f)
        if fd is None:
            close = suggest(f, known)
            diags.append(Diagnostic("E950", f"unknown feature `{f}` in --features",
                                    hints=(f"did you mean `{close}`?" if close else
                                           "features are declared in segc.yml",)))
        elif sensitive_reads(project.schema, [f]):  # the one policy: clusters select customers
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
    if not is_name(name):
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


def check_out(project, path: Path, force: bool) -> None:
    """The rule for every output (files.check_output): a new file, or one segc discover
    wrote (its first line says so), or with --force any plain file but segc.yml and the
    data files."""
    check_file(project, path, _written_by_discover, force=force, segment_file=True)


# ---- discovery -------------------------------------------------------------------------

def discover(project, features: list[str], k: str | int | None = None, as_of=None, seed: int = 0,
             name: str = "discovered", depth: int = 3, min_size: int | None = None,
             out: Path | None = None, force: bool = False) -> DiscoverResult:
    """Cluster the population on `features` and write the clusters as a segmentation.
    Nothing is written here (see `write`); `out` only names the file the text is meant for
    (a file it replaces is left out of the check). `k` None is DEFAULT_K, narrowed to
    the k that the population allows (with a note); a k given that does not fit is E955."""
    ks = parse_k(DEFAULT_K if k is None else k)
    k_notes: list[str] = []
    check_features(project, features)
    replaced = replaced_file(project, name, out)
    check_name(project, name, replaced)
    if out is not None:
        check_out(project, out, force)
    if depth < 1 or depth > 6:
        raise SegcError(Diagnostic("E954", f"--depth {depth}: the rules' depth must be between 1 and 6",
                                   hints=("--depth 3 (the default) gives rules of at most 3 conditions",)))
    if not 0 <= seed < 2 ** 32:  # numpy's RandomState takes these
        raise SegcError(Diagnostic("E954", f"--seed {seed}: the seed must be a whole number from 0 to {2 ** 32 - 1}",
                                   hints=("any seed in range gives one result, the same on every run",)))
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
        ks = _narrowed(ks, n // MIN_PER_CLUSTER, k is None, k_notes, Diagnostic(
            "E955", f"too few customers for k = {max(ks)}: the population has {n}, at least {need} are "
            f"needed ({MIN_PER_CLUSTER} per cluster)", hints=("check the population and the as-of",)),
            f"a population of {n} allows at most {n // MIN_PER_CLUSTER} clusters of {MIN_PER_CLUSTER}")
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
        ks = _narrowed(ks, distinct, k is None, k_notes, Diagnostic(
            "E955", f"only {distinct} distinct combinations of values: too few for k = {max(ks)}",
            hints=("choose other features",)), f"only {distinct} distinct combinations of values")
    imputed = {f: float(1 - present[:, j].mean()) for j, f in enumerate(features) if not present[:, j].all()}

    import sklearn.cluster  # noqa: F401  (loaded before the limit, or it would not apply to them)
    import sklearn.metrics  # noqa: F401
    import sklearn.tree  # noqa: F401
    from threadpoolctl import threadpool_limits

    # one thread: k-means sums in a fixed order, so a seed gives the same clusters on any
    # machine (and two cores shared by OpenMP threads are slower than one, measured)
    with threadpool_limits(1):
        labels, chosen, silhouettes, notes = _cluster(data, ks, seed, min_size)
        notes[:0] = k_notes
        types = [project.schema.features[f].type for f in features]
        # a min_size above the population is a leaf of every row (no split): E958 below
        min_leaf = min(min_size, max(n, 1)) if min_size else max(1, math.ceil(MIN_LEAF_SHARE * n))
        tree = _explain(data, labels, depth, min_leaf, seed)
    rules = tree_rules(tree, data, types)

    min_group = project.schema.min_group
    pop_means = _means(raw, np.ones(n, dtype=bool), features, min_group)
    pop_sd = _stddevs(raw, np.ones(n, dtype=bool), features, min_group)
    cluster_means = [_means(raw, labels == c, features, min_group) for c in range(chosen)]
    name_of_cluster = branch_names(data, labels, chosen, features)
    branches, else_cluster = branches_of(rules, labels, chosen)
    if not branches:
        raise SegcError(Diagnostic("E958", f"the rules cannot tell the {chosen} clusters apart: no split "
                                   f"leaves at least {min_leaf} customers on each side",
                                   hints=("lower --min-size, or choose other features",)))
    explained = {c for c, _leaves in branches} | {else_cluster}
    for c in range(chosen):
        if c not in explained:
            notes.append(f"cluster {c + 1} could not be isolated by rules of depth {depth}: no branch "
                         "stands for it")

    header = header_text(features, chosen, ks, seed, project, as_of)
    text = segmentation_text(name, header, branches, else_cluster, name_of_cluster, features, types,
                             cluster_means, pop_means, labels, n, medians, ~present.all(axis=0))

    from segc.front.fmt import format_source

    display = display_path(out) if out is not None else f"{name}.seg"
    text = format_source(text, display)

    # the written rules, evaluated by segc: labels by key
    derived = project.with_source(text, display, replaced)
    label_q = derived.label_query(name, as_of, keep_unmatched=True)
    by_key = dict(project.run(label_q))
    names_of = [name_of_cluster[c] for c, _l in branches] + [name_of_cluster[else_cluster]]
    order = {b: i for i, b in enumerate(names_of)}
    assigned = np.array([order.get(by_key.get(key), -1) for key in keys])
    cluster_of_branch = [c for c, _l in branches] + [else_cluster]
    faithful = np.array([a >= 0 and cluster_of_branch[a] == lab for a, lab in zip(assigned, labels)])

    branch_reports, cluster_reports = _reports(raw, labels, assigned, names_of, cluster_of_branch,
                                               cluster_means, pop_sd, features, min_size, min_group)
    notes += withheld_note([pop_means, *cluster_means, *(b.means for b in branch_reports)], min_group)
    for f, share in imputed.items():
        notes.append(f"`{f}` is missing for {share:.0%} of the population: imputed with the median for "
                     "clustering; where the median passes a rule, the rule says `or ... is missing`")
    effective = project.as_of if as_of is None else project.as_of_date(as_of)
    warnings = [d for d in derived.warnings if _in_file(d, display)]
    return DiscoverResult(name, text, list(features), effective.isoformat() if effective else "today", n,
                          chosen, silhouettes, seed, min_size, float(faithful.mean()) if n else 0.0,
                          branch_reports, cluster_reports, pop_means, pop_sd, imputed, notes, warnings)


def write(result: DiscoverResult, path: Path, project, force: bool = False) -> None:
    """Write the segmentation atomically (temp file + rename; E822/E824)."""
    from segc.front.files import write_atomic

    check_out(project, path, force)
    write_atomic(path, result.text, refuse=lambda target: check_out(project, target, force))


# ---- clustering ------------------------------------------------------------------------

def _narrowed(ks: list[int], largest: int, default: bool, notes: list[str], error: Diagnostic, why: str) -> list[int]:
    """The k of `ks` up to `largest`, the most that fit: for the default range, those of
    its k that fit (a note says so); otherwise, or when none fits, `error`, its hint
    naming the largest k that fits."""
    fit = [k for k in ks if k <= largest]
    if default and fit:
        shown = f"{fit[0]}..{fit[-1]}" if len(fit) > 1 else str(fit[0])
        notes.append(f"--k {DEFAULT_K} (the default) narrowed to {shown}: {why}")
        return fit
    if largest >= 2:
        fits = f"--k {ks[0]}..{largest}" if ks[0] < largest else f"--k {largest}"
        error = Diagnostic(error.code, error.message, hints=(f"the largest k that fits is {largest}: {fits}",
                                                             *error.hints))
    raise SegcError(error)


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


# ---- the written rules, checked and run by segc ------------------------------------------

def _in_file(d: Diagnostic, display: str) -> bool:
    return d.span is not None and d.span.file == display


def _reports(raw, labels, assigned, names_of, cluster_of_branch, cluster_means, pop_sd, features,
             min_size, min_group) -> tuple[list[BranchReport], list[ClusterReport]]:
    """Per branch (members as segc assigned them): size, purity, means, stddev ratios; per
    cluster: how many of it its branch holds."""
    n = len(labels)
    branch_reports = []
    for i, bname in enumerate(names_of):
        inside = assigned == i
        size = int(inside.sum())
        c = cluster_of_branch[i]
        purity = float((labels[inside] == c).mean()) if size else None
        means = _means(raw, inside, features, min_group)
        sds = _stddevs(raw, inside, features, min_group)
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


def _shown(raw, mask, features, min_group: int):
    """Per feature, the present values of the rows in `mask`, or None where their figures
    are withheld, by profile's rule (preview.too_few): a group of fewer than `min_group`
    people (or all but a few of the population), or fewer than `min_group` values (or all
    but a few of the population's values), whose mean would be one of a few people's."""
    import numpy as np

    n_in, n = int(mask.sum()), len(mask)
    whole = too_few(n_in, n, min_group)
    for j, f in enumerate(features):
        v = raw[mask, j]
        v = v[~np.isnan(v)]
        present = int((~np.isnan(raw[:, j])).sum())
        hide = whole or len(v) < min_group or too_few(len(v), present, min_group)
        yield f, None if hide else v


def _means(raw, mask, features, min_group: int) -> dict[str, float | None]:
    return {f: float(v.mean()) if v is not None and len(v) else None
            for f, v in _shown(raw, mask, features, min_group)}


def _stddevs(raw, mask, features, min_group: int) -> dict[str, float | None]:
    return {f: float(v.std(ddof=1)) if v is not None and len(v) > 1 else None
            for f, v in _shown(raw, mask, features, min_group)}


def withheld_note(means: list[dict], min_group: int) -> list[str]:
    """The note of withheld figures (—), when some are."""
    if not any(v is None for m in means for v in m.values()):
        return []
    return [f"figures of fewer than min_group ({min_group}, segc.yml) people are not shown (—, null in JSON), "
            "as each would be one of a few people's"]
