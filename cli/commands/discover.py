"""`segc discover`: find segments in the data and write them as a segmentation."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from segc.cli.common import (AsOfOpt, DsnOpt, EngineOpt, MasterOpt, ParamOpt, ProjectOpt, check_format, fail,
                             load_folder, progress, use_engine)
from segc.front.errors import SegcError


def discover(
    features: Annotated[str, typer.Option("--features", help="The numeric (or bool) features to cluster on, comma-separated.")],
    path: Annotated[Optional[Path], typer.Argument(help="Project folder (default: found upward from here).")] = None,
    k: Annotated[Optional[str], typer.Option("--k", show_default=False, help="Number of clusters, or a range to choose by silhouette [default: 3..6, narrowed to the k the population allows].")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the segmentation to this .seg file (atomically); default: print it.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out even if segc discover did not write it.")] = False,
    name: Annotated[str, typer.Option("--name", help="Name of the segmentation.")] = "discovered",
    seed: Annotated[int, typer.Option("--seed", help="Random seed of k-means (same data and seed, same file).")] = 0,
    depth: Annotated[int, typer.Option("--depth", help="Depth of the decision tree that writes the rules.")] = 3,
    min_size: Annotated[Optional[int], typer.Option("--min-size", min=1, help="Smallest rule (customers); default: the project's min_size, else 1% of the population.")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text: the report on stderr (and the segmentation on stdout without --out); json: one object on stdout.")] = "text",
    as_of: AsOfOpt = None,
    param: ParamOpt = None,
    project: ProjectOpt = None,
    engine: EngineOpt = "duckdb",
    dsn: DsnOpt = None,
    master: MasterOpt = None,
) -> None:
    """Find segments in the data: cluster the population on --features (k-means), then
    write the clusters as an editable segmentation of readable rules (a decision tree),
    with a report of how faithful and homogeneous the rules are.

    The rules are counted by segc itself, so the report's counts are `segc count`'s.
    Missing values are imputed with the median for clustering. --out refuses to replace a
    file that segc discover did not write, unless --force. Where the data lives: --engine
    postgres --dsn ... (or --engine spark), as segc count.

    Examples:

      segc discover examples/retail --features purchases_365d,basket_avg,revenue_365d

      segc discover -p examples/retail --features purchases_365d,basket_avg --k 4 --out examples/retail/segments/discovered.seg
    """
    format = check_format(format, ("text", "json"))
    p = load_folder(path, project, "segc discover", param, as_of)
    from segc.apps.discover import discover as discover_segments
    from segc.apps.discover import write

    names = [f.strip() for f in features.split(",") if f.strip()]
    use_engine(p, engine, dsn, master)
    try:
        with progress(format == "text", "clustering"):
            result = discover_segments(p, names, k=k, as_of=as_of, seed=seed, name=name, depth=depth,
                                       min_size=min_size, out=out, force=force)
        if out is not None:
            write(result, out, p, force=force)
    except SegcError as e:
        fail(e)
    from segc.cli.printers.discovery import print_discovery

    print_discovery(result, format, out)
