"""The TextMate grammar of editors/vscode tokenises every .seg file of examples/retail as VS
Code would (node + vscode-textmate + vscode-oniguruma) and gives each kind of token its
scope. The npm packages are installed once into ~/.cache/segc-vscode-test. Without node
the test skips, except in CI (CI=true), where it fails: CI installs node (.ci/run)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path.home() / ".cache" / "segc-vscode-test"
PACKAGES = ("vscode-textmate@9", "vscode-oniguruma@2")


def _node_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("node and npm are needed in CI (.ci/run installs them)")
        pytest.skip("node/npm not installed")
    modules = CACHE / "node_modules"
    if not all((modules / p.split("@")[0]).is_dir() for p in PACKAGES):
        CACHE.mkdir(parents=True, exist_ok=True)
        if not (CACHE / "package.json").exists():
            (CACHE / "package.json").write_text('{"private": true}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", *PACKAGES], cwd=CACHE, check=True,
                       capture_output=True, timeout=300)
    return modules


@pytest.fixture(scope="module")
def tokens() -> list[tuple[str, list[str]]]:
    modules = _node_modules()
    files = sorted(str(p) for p in (ROOT / "examples" / "retail" / "segments").glob("*.seg"))
    sample = ROOT / "tests" / "vscode_grammar_sample.seg"
    out = subprocess.run(["node", str(ROOT / "tests" / "vscode_tokens.js"),
                          str(ROOT / "editors" / "vscode" / "syntaxes" / "seg.tmLanguage.json"), *files, str(sample)],
                         env={**os.environ, "NODE_PATH": str(modules)}, capture_output=True, text=True,
                         check=True, timeout=60)
    by_file = json.loads(out.stdout)
    assert set(by_file) == set(files) | {str(sample)}  # every file of the example tokenised
    return [(text, scopes) for toks in by_file.values() for _, text, scopes in toks]


@pytest.mark.parametrize("text, scope", [
    ("segment", "keyword.other.seg"),
    ("during", "keyword.other.seg"),
    ("followed", "keyword.other.seg"),  # issue 17's keywords are highlighted already
    ("shoes", "string.quoted.double.seg"),
    ("\\\"", "constant.character.escape.seg"),
    ("180", "constant.numeric.seg"),
    ("2024-01-01", "constant.other.date.seg"),
    ("2024-01-01T10:30:00", "constant.other.timestamp.seg"),
    ("90 days", "constant.other.duration.seg"),
    ("$min_basket", "variable.parameter.seg"),
    ("@owner", "storage.type.annotation.seg"),
    ("## Churn risk: the last order is more than 6 months old. Customers who never ordered",
     "comment.block.documentation.seg"),
    ("# Behaviour: recency, engagement, carts and product affinity.", "comment.line.number-sign.seg"),
    (">=", "keyword.operator.seg"),
])
def test_token_scope(tokens, text, scope):
    scopes = [s for t, s in tokens if t == text]
    assert scopes, f"no token {text!r}"
    assert all(scope in s for s in scopes), scopes
