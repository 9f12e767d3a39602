"""Start-up weight: `import segc` and the compile command stay light (DESIGN §7).

Each check runs in a fresh interpreter and inspects `sys.modules`; nothing here measures
time. On failure the message shows the import chain that pulled the module in
(from `python -X importtime`).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "retail"

HEAVY_FOR_IMPORT = ("duckdb", "jinja2", "lark", "sqlglot", "pydantic")
HEAVY_FOR_COMPILE = ("duckdb", "jinja2")


def _run(code: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def _loaded(code: str, modules: tuple[str, ...]) -> list[str]:
    """Run `code` in a fresh interpreter; return which of `modules` it left imported."""
    probe = code + (
        "\nimport json, sys\n"
        f"print('SEGC-LOADED=' + json.dumps([m for m in {list(modules)!r} if m in sys.modules]))\n"
    )
    result = _run(probe)
    assert result.returncode == 0, result.stderr
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("SEGC-LOADED=")][-1]
    return json.loads(line.split("=", 1)[1])


def _import_chains(code: str, modules: list[str]) -> str:
    """For each module, the chain of imports that first loaded it, from -X importtime."""
    entries = []  # (depth, module name), in the order importtime prints them
    for ln in _run(code, "-X", "importtime").stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+\d+ \|( *)(\S+)", ln)
        if m:
            entries.append((len(m.group(1)) // 2, m.group(2)))
    out = []
    for target in modules:
        hits = [i for i, (_d, name) in enumerate(entries) if name == target]
        hits = hits or [i for i, (_d, name) in enumerate(entries) if name.startswith(target + ".")]
        if not hits:
            out.append(f"{target}: (not in the importtime output)")
            continue
        # importtime prints a module after its children: its parents come later, shallower
        depth, name = entries[hits[0]]
        chain, want = [name], depth - 1
        for d, parent in entries[hits[0] + 1:]:
            if want < 0:
                break
            if d == want:
                chain.append(parent)
                want -= 1
        out.append(f"{target}: " + " <- ".join(chain))
    return "\n".join(out)


def _check_absent(code: str, modules: tuple[str, ...]) -> None:
    loaded = _loaded(code, modules)
    assert not loaded, (f"{', '.join(loaded)} imported by:\n{code}\n"
                        f"import chains (module <- imported by ...):\n{_import_chains(code, loaded)}")


def test_import_segc_is_light():
    _check_absent("import segc", HEAVY_FOR_IMPORT)


def test_compile_command_does_not_import_duckdb_or_jinja2():
    code = (
        "from typer.testing import CliRunner\n"
        "from segc.cli.main import app\n"
        f"result = CliRunner().invoke(app, ['compile', '-e', 'age >= 30', '-p', {str(EXAMPLE)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'SELECT' in result.output, result.output\n"
    )
    _check_absent(code, HEAVY_FOR_COMPILE)
