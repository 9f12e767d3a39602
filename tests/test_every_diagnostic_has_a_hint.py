"""Every diagnostic segc can give carries a hint (the standard: a clear message with its
place and a hint). The routes are enumerated from the code itself: each call that makes a
diagnostic (`Diagnostic(...)`, the checker's `error`/`warn`, segc.yml's and the fixtures'
`err`) must pass one. A hint computed elsewhere is passed as an argument too (`*hints`),
so a call without any is a diagnostic without a hint."""
from __future__ import annotations

import ast
from pathlib import Path

import segc

ROOT = Path(segc.__file__).parent
# name of the call -> (positional arguments before the hints, keyword that holds them)
MAKERS = {"Diagnostic": (3, "hints"), "error": (3, None), "warn": (3, None), "err": (2, None)}


def _calls():
    for file in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name not in MAKERS or len(node.args) < 2:
                continue
            # the code first (`err`: the message second): else not a diagnostic (`logging.error(x)`)
            if not isinstance(node.args[1 if name == "err" else 0], (ast.Constant, ast.JoinedStr)):
                continue
            yield file.relative_to(ROOT), node, name


def _has_hint(node: ast.Call, name: str) -> bool:
    before, keyword = MAKERS[name]
    if any(isinstance(a, ast.Starred) for a in node.args):
        return True
    if name == "Diagnostic":
        # Diagnostic(code, message, span, label, hints, ...): the hints by keyword or fifth
        return any(k.arg == "hints" for k in node.keywords) or len(node.args) >= 5
    return len(node.args) > before


def test_every_diagnostic_is_made_with_a_hint():
    calls = list(_calls())
    assert len(calls) > 250  # the walk finds the diagnostics (257 when this test was written)
    missing = [f"{file}:{node.lineno}" for file, node, name in calls if not _has_hint(node, name)]
    assert not missing, "diagnostics without a hint:\n" + "\n".join(missing)
