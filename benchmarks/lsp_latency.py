"""Latency of `segc lsp` through a real client (pygls's LanguageClient over stdio), on a copy
of examples/retail with a 200-line .seg file: the time from a didChange to the file's
publishDiagnostics, and of a completion request. Prints the medians. The kinds of change,
interleaved in each run: an edit inside a definition (a full check), a comment line added
between definitions (the last check reused: apps/lsp/reuse.py), and an unsaved edit of
segc.yml (the schema read from the buffer, then a full check). With the server's CPU time
per change (from /proc, Linux; 10 ms ticks, so only its mean over the runs means much).
Then, in this process, where a full check's CPU time goes: parsing the changed file, and
the checker over the project.

    python benchmarks/lsp_latency.py [--runs 30]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parents[1]


def two_hundred_lines() -> str:
    lines = []
    for i in range(50):  # 4 lines per segment
        lines += [f"## Bench segment {i}.", '@owner("bench")',
                  f"segment bench_{i} = basket_avg > {i} and count(orders where category = \"shoes\" during last 90 days) >= 1", ""]
    return "\n".join(lines) + "\n"


def bench_project() -> tuple[Path, Path, Path, str]:
    """A temporary copy of examples/retail with the 200-line file: (the temporary folder,
    the project, the file, its text)."""
    tmp = Path(tempfile.mkdtemp())
    project = tmp / "retail"
    shutil.copytree(ROOT / "examples" / "retail", project)
    path = project / "segments" / "bench.seg"
    text = two_hundred_lines()
    path.write_text(text)
    return tmp, project, path, text


async def main(runs: int) -> None:
    tmp, project, path, text = bench_project()
    uri = path.as_uri()
    client = LanguageClient("bench", "1")
    got: asyncio.Queue = asyncio.Queue()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def diagnostics(params):
        if params.uri == uri:
            got.put_nowait(time.perf_counter())

    await client.start_io(str(Path(sys.executable).parent / "segc"), "lsp")
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri=project.as_uri()))
    client.initialized(lsp.InitializedParams())
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="seg", version=1, text=text)))
    await got.get()
    yml = project / "segc.yml"
    yml_text = yml.read_text()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(
        uri=yml.as_uri(), language_id="yaml", version=1, text=yml_text)))
    await got.get()
    pid = client._server.pid  # the server process: its CPU time
    ms: dict[str, list[float]] = {"edit": [], "comment": [], "segc.yml": []}
    cpu: dict[str, float] = dict.fromkeys(ms, 0.0)
    completion_ms = []
    version = 1

    async def change(kind: str, doc_uri: str, new_text: str) -> None:
        nonlocal version
        version += 1
        cpu0, start = server_cpu(pid), time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(version=version, uri=doc_uri), [lsp.TextDocumentContentChangeWholeDocument(new_text)]))
        ms[kind].append((await got.get() - start) * 1000)
        cpu[kind] += server_cpu(pid) - cpu0

    for i in range(runs):
        changed = text.replace("basket_avg > 0", f"basket_avg > {1000 + i}")
        await change("edit", uri, changed)
        await change("comment", uri, changed.replace("\n\n## Bench segment 1.", f"\n# note {i}\n\n## Bench segment 1."))
        await change("segc.yml", yml.as_uri(), yml_text + f"# unsaved {i}\n")
        start = time.perf_counter()
        await client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=2, character=len("segment bench_0 = bask"))))
        completion_ms.append((time.perf_counter() - start) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    shutil.rmtree(tmp)
    for kind, label in (("edit", "an edit inside a definition"), ("comment", "a comment between definitions"),
                        ("segc.yml", "an unsaved segc.yml edit")):
        print(f"diagnostics after {label} (200-line file): median {statistics.median(ms[kind]):.1f} ms, "
              f"server CPU {cpu[kind] / runs * 1000:.1f} ms per change (target 100 ms)")
    print(f"completion: median {statistics.median(completion_ms):.1f} ms (target 50)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def split(runs: int) -> None:
    """CPU means of the two parts of a change's full check, in this process."""
    from segc.apps.lsp.workspace import Workspace
    from segc.check.checker import Checker
    from segc.front.errors import SegcError
    from segc.front.parser import parse_module
    from segc.front.source import Source

    tmp, project, path, text = bench_project()
    ws = Workspace(project)
    ws.check()
    parse = check = 0.0
    for i in range(runs):
        start = time.process_time()
        parse_module(Source(str(path), text.replace("basket_avg > 0", f"basket_avg > {1000 + i}")))
        middle = time.process_time()
        try:
            Checker(ws.schema, ws.modules, {}, models=ws.models).check()
        except SegcError:
            pass
        check += time.process_time() - middle
        parse += middle - start
    shutil.rmtree(tmp)
    print(f"a full check's CPU, in-process: parse of the 200-line file {parse / runs * 1000:.1f} ms, "
          f"checker over the project {check / runs * 1000:.1f} ms (means)")


def server_cpu(pid: int) -> float:
    """The process's user + system CPU seconds so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    asyncio.run(main(runs))
    split(runs)
