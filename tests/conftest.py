"""Shared fixtures: engines (DuckDB, SQLite, a throwaway PostgreSQL) and project helpers."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

pytest_plugins = ["tests.pg_fixture"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "retail"


def drop_experiments(project: Path) -> None:
    """A copy of the example given other segments: its segc.yml without `experiments:`
    (the last block), whose arms are segments of the example (E212 without them)."""
    path = project / "segc.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("# Experiments of `segc lift`")], encoding="utf-8")


def write_project(folder: Path, config: dict, segments: str = "") -> Path:
    """A project folder from a segc.yml mapping and the text of one .seg file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "segc.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (folder / "segments").mkdir(exist_ok=True)
    (folder / "segments" / "main.seg").write_text(segments, encoding="utf-8")
    return folder


def table_columns(config: dict) -> dict[str, dict[str, str]]:
    """Column types of each source table, read from the schema (base features, event
    columns), for loading fixture rows into an engine."""
    sources = config["sources"]
    base = config["base"]
    out: dict[str, dict[str, str]] = {}
    for name, src in sources.items():
        cols: dict[str, str] = {}
        if name == base:
            cols[config["key"]] = "int"
            for fname, f in config.get("features", {}).items():
                if "from" not in f and "sql" not in f:
                    cols[f.get("column", fname)] = f["type"]
            if src.get("time"):  # when a customer joined (DESIGN §8.2)
                cols.setdefault(src["time"], "timestamp")
        else:
            cols[src["key"]] = "int"
            if src.get("time"):
                cols[src["time"]] = "timestamp"
            cols.update(src.get("columns", {}))
        out[src.get("table", name)] = cols
    return out


@pytest.fixture
def make_project(tmp_path):
    def make(config: dict, segments: str = "", name: str = "proj") -> Path:
        return write_project(tmp_path / name, config, segments)
    return make
