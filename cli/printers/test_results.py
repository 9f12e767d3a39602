"""Printing the results of `segc test`: Rich text for people, JSON for machines (data only
on stdout)."""
from __future__ import annotations

import sys
from segc.apps.outputs import json_text
from segc.cli.printers import shown


def _keys(keys) -> str:
    shown = ", ".join(str(k) for k in keys[:20])
    return shown + (f", … ({len(keys)} in all)" if len(keys) > 20 else "")


def print_test_results(results, fmt: str = "text") -> None:
    if fmt == "json":
        sys.stdout.write(json_text(results.to_dict()))
        return
    from rich.console import Console

    console = Console(highlight=False, soft_wrap=True)
    engines = ", ".join(results.engines)
    for f in results.files:
        n = len(f.segments)
        failed = len({o.segment for o in f.failures})  # a segment failing on two engines is one
        status = "[green]ok[/]" if not failed else f"[red]{failed} failed[/]"
        console.print(f"[bold]{shown(f.file)}[/] (as of {f.as_of}): {n} segment{'s' if n != 1 else ''} "
                      f"on {engines} — {status}")
        # the same difference on several engines is reported once
        groups: dict[tuple, list[str]] = {}
        for o in f.failures:
            groups.setdefault((o.segment, o.missing, o.extra, o.error), []).append(o.engine)
        for (segment, missing, extra, error), on in groups.items():
            console.print(f"  [red]FAIL[/] [bold]{shown(segment)}[/] on {', '.join(on)}")
            if error is not None:
                console.print(f"       error: {shown(error)}")
                continue
            if missing:
                console.print(f"       missing (expected, not selected): {shown(_keys(missing))}")
            if extra:
                console.print(f"       extra (selected, not expected):   {shown(_keys(extra))}")
    passed = results.checks - results.failed
    color = "green" if results.ok else "red"
    console.print(f"[{color}]{passed} of {results.checks} checks passed[/] "
                  f"({len(results.files)} file{'s' if len(results.files) != 1 else ''}, engines: {engines})")
