"""A locale whose encoding cannot write every character (LANG=en_US.ISO-8859-1, LC_ALL=C
with PYTHONUTF8=0, a PYTHONIOENCODING=ascii): segc printed a UnicodeEncodeError traceback for
a value such as `Łódź`, or for its own `—` in `segc count`'s title (s12C F2). Now output to a
pipe or a file is UTF-8 (as --out files), and a terminal shows what it cannot write as an
escape. PYTHONIOENCODING stands for the locale here (the test machine may have no other
locale than C.UTF-8).
"""
from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import write_project

CITIES = ["Łódź", "Zürich", "Genève"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("locale")
    (root / "data").mkdir()
    rows = "\n".join(f"{i},{CITIES[i % 3]}" for i in range(1, 10))
    (root / "data" / "customers.csv").write_text("customer_id,city\n" + rows + "\n", encoding="utf-8")
    config = {"name": "locale", "entity": "customer", "base": "customers", "key": "customer_id",
              "as_of": "2024-07-01",
              "sources": {"customers": {"table": "crm.customers", "path": "data/customers.csv"}},
              "features": {"city": {"type": "string", "description": "Ville — où (ü)"}}}
    return write_project(root, config, '## Clients à Łódź — café\nsegment lodz = city = "Łódź"\n')


def _env(encoding: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LANG", "PYTHONUTF8")}
    return {**env, "PYTHONIOENCODING": encoding, "PYTHONUTF8": "0", "COLUMNS": "100"}


def _piped(project, encoding, *args):
    return subprocess.run([sys.executable, "-m", "segc.cli.main", *args, "-p", str(project)],
                          capture_output=True, env=_env(encoding), timeout=120)


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_piped_output_is_utf8_whatever_the_locale(project, encoding):
    done = _piped(project, encoding, "sample", "lodz", "--format", "csv")
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    assert done.stdout.decode("utf-8").splitlines()[1:] == ["3,Łódź", "6,Łódź", "9,Łódź"]
    done = _piped(project, encoding, "sample", "lodz", "--format", "json")
    assert done.returncode == 0 and json.loads(done.stdout.decode("utf-8"))[0]["city"] == "Łódź"
    done = _piped(project, encoding, "count")
    assert done.returncode == 0 and b"Traceback" not in done.stderr, done.stderr
    assert "as of 2024-07-01 — population 9" in done.stdout.decode("utf-8")


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_terminal_shows_what_its_locale_cannot_write_as_escapes(project, encoding):
    # (command, an escape it shows): — and Ł are neither ASCII nor Latin-1
    for args, escape in ((["count"], "\\u2014"), (["sample", "lodz"], "\\u0141"), (["profile", "lodz"], "")):
        out = _on_terminal(project, encoding, *args)
        assert "Traceback" not in out and "UnicodeEncodeError" not in out, out
        assert escape in out, out


def test_diagnostics_with_any_text_on_stderr(project, tmp_path):
    bad = tmp_path / "bad"
    write_project(bad, _config(project), 'segment x = city = "Łódź" and\n')
    done = _piped(bad, "latin-1", "check")
    assert done.returncode == 1 and b"Traceback" not in done.stderr and b"error[E10" in done.stderr, done.stderr
    assert b"\\u0141\xf3d\\u017a" in done.stderr  # the excerpt: Latin-1's own letter as is, the others escaped


def _config(project):
    import yaml

    config = yaml.safe_load((project / "segc.yml").read_text(encoding="utf-8"))
    config["sources"]["customers"]["path"] = str(project / "data" / "customers.csv")
    config["allow_outside_paths"] = True
    return config


def _on_terminal(project, encoding, *args) -> str:
    """The command's stdout and stderr written to a pseudo-terminal, read back as bytes
    decoded leniently (Latin-1 never fails)."""
    main, sub = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "segc.cli.main", *args, "-p", str(project)],
                            stdin=subprocess.DEVNULL, stdout=sub, stderr=sub, env=_env(encoding))
    os.close(sub)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    out = b"".join(chunks).decode("latin-1")
    assert proc.returncode == 0, out
    return out


def test_a_project_in_a_folder_with_a_non_ascii_name(project, tmp_path):
    """A locale that is not UTF-8 (here LC_ALL=C with PYTHONUTF8=0; a Latin-1 locale alike)
    decodes the folder `josé` otherwise than DuckDB, which opens UTF-8: every preview failed
    (E704 "No files found", or a surrogate conversion error), and the snapshot store with it
    (s12C F9)."""
    import shutil

    root = tmp_path / "josé" / "projet"
    shutil.copytree(project, root)
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "PYTHONIOENCODING")}
    env.update(LC_ALL="C", PYTHONUTF8="0")
    for args in (["count", "--format", "json"], ["snapshot", "lodz", "--format", "json"],
                 ["changes", "lodz", "--since", "2024-07-01", "--as-of", "2024-07-02", "--format", "json"]):
        done = subprocess.run([sys.executable, "-m", "segc.cli.main", *args, "-p", os.fsencode(str(root))],
                              capture_output=True, env=env, timeout=120)
        assert done.returncode == 0 and b"Traceback" not in done.stderr, (args, done.stderr)
    assert json.loads(done.stdout.decode("utf-8"))  # changes read the partition snapshot wrote


def test_build_and_docs_of_a_non_ascii_file_name(project, tmp_path):
    """`segments/café.seg` under LC_ALL=C with PYTHONUTF8=0: build and docs ended in a
    UnicodeEncodeError traceback (surrogates in the file name written into the SQL header
    and the HTML), and a Latin-1 locale wrote `cafÃ©.seg` (s12C F10)."""
    import shutil

    root = tmp_path / "p"
    shutil.copytree(project, root)
    (root / "segments" / "main.seg").rename(root / "segments" / "café.seg")
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "PYTHONIOENCODING")}
    env.update(LC_ALL="C", PYTHONUTF8="0")
    for args in (["build", "--out", str(tmp_path / "b")], ["docs", "--out", str(tmp_path / "d")]):
        done = subprocess.run([sys.executable, "-m", "segc.cli.main", *args, "-p", str(root)],
                              capture_output=True, env=env, timeout=120)
        assert done.returncode == 0 and b"Traceback" not in done.stderr, (args, done.stderr)
    assert "from segments/café.seg" in (tmp_path / "b" / "lodz.sql").read_text(encoding="utf-8")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["segments"]["lodz"]["file"] == "segments/café.seg"
    assert "segments/café.seg" in "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "d").rglob("*.html"))
