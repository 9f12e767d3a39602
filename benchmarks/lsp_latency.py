"""Latency of `segc lsp` through a real client (pygls's LanguageClient over stdio), on a copy
of examples/retail with a 200-line .seg file: the time from a didChange to the file's
publishDiagnostics, and of a completion request. Prints the medians.

    python benchmarks/lsp_latency.py [--runs 30]
"""
from __future__ import annotations

import argparse
import asyncio
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


async def main(runs: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    project = tmp / "retail"
    shutil.copytree(ROOT / "examples" / "retail", project)
    path = project / "segments" / "bench.seg"
    text = two_hundred_lines()
    path.write_text(text)
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
    diag_ms, completion_ms = [], []
    for i in range(runs):
        changed = text.replace("basket_avg > 0", f"basket_avg > {1000 + i}")
        start = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(version=i + 2, uri=uri), [lsp.TextDocumentContentChangeWholeDocument(changed)]))
        diag_ms.append((await got.get() - start) * 1000)
        start = time.perf_counter()
        await client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=2, character=len("segment bench_0 = bask"))))
        completion_ms.append((time.perf_counter() - start) * 1000)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    shutil.rmtree(tmp)
    print(f"diagnostics after a change (200-line file): median {statistics.median(diag_ms):.1f} ms (target 100)")
    print(f"completion: median {statistics.median(completion_ms):.1f} ms (target 50)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    asyncio.run(main(parser.parse_args().runs))
