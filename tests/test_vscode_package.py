"""The VS Code extension as `vsce package` sees it. Always: package.json has what vsce and
VS Code require, and every file it names exists. Only with SEGC_TEST_VSIX=1 (it needs
node, npm and the npm registry; CI may skip it): the .vsix is built from a copy of
editors/vscode, as docs/editors.md says, and holds the extension's files."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

EXT = Path(__file__).resolve().parents[1] / "editors" / "vscode"


def _manifest() -> dict:
    return json.loads((EXT / "package.json").read_text())


def test_package_json_has_what_vsce_requires():
    m = _manifest()
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", m["name"]) and m["publisher"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", m["version"])
    assert re.fullmatch(r"\^\d+\.\d+\.\d+", m["engines"]["vscode"])
    assert m["license"] and (EXT / "LICENSE").is_file()
    assert (EXT / m["main"]).is_file()
    assert "vscode-languageclient" in m["dependencies"]  # the client extension.js requires


def test_contributed_files_exist_and_agree():
    contributes = _manifest()["contributes"]
    languages = {lang["id"]: lang for lang in contributes["languages"]}
    assert ".seg" in languages["seg"]["extensions"]
    for lang in languages.values():
        assert (EXT / lang["configuration"]).is_file()
        json.loads((EXT / lang["configuration"]).read_text())
    for grammar in contributes["grammars"]:
        assert grammar["language"] in languages
        assert json.loads((EXT / grammar["path"]).read_text())["scopeName"] == grammar["scopeName"]
    assert "segc.path" in contributes["configuration"]["properties"]


def test_build_outputs_are_not_committed_nor_packaged():
    ignored = (EXT / ".gitignore").read_text().split()
    assert "node_modules/" in ignored and "*.vsix" in ignored
    assert "*.vsix" in (EXT / ".vscodeignore").read_text().split()


@pytest.mark.skipif(os.environ.get("SEGC_TEST_VSIX") != "1", reason="set SEGC_TEST_VSIX=1 to build the .vsix")
def test_vsix_builds(tmp_path: Path):
    assert shutil.which("npm") and shutil.which("npx"), "node and npm are needed to build the .vsix"
    work = tmp_path / "vscode"
    shutil.copytree(EXT, work, ignore=shutil.ignore_patterns("node_modules", "*.vsix"))
    for step in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "package"]):
        done = subprocess.run(step, cwd=work, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"{' '.join(step)}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    m = _manifest()
    names = set(zipfile.ZipFile(work / f"{m['name']}-{m['version']}.vsix").namelist())
    assert {"extension/package.json", "extension/extension.js", "extension/language-configuration.json",
            "extension/syntaxes/seg.tmLanguage.json",
            "extension/node_modules/vscode-languageclient/package.json"} <= names
    assert not any(n.endswith((".vsix", "package-lock.json")) for n in names)
