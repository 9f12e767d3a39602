"""The generated data the benchmarks run on, kept in ~/.cache/segc-bench between runs.

A data folder made by examples/retail/generate.py holds a stamp of what made it (the
generator, and the example's segc.yml and segments, which draw the campaign's arms): when
either changes, the folder is generated again, so that no figure is measured on data an
older generator wrote (it happened: benchmarks/README.md §7.1). A folder given on the
command line (`--data DIR`) is the user's: generated only when its files are missing."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "retail"
FILES = ("customers.parquet", "orders.parquet", "carts.parquet")
STAMP = ".generated-by"


def generator_stamp() -> str:
    h = hashlib.sha256()
    for path in [EXAMPLE / "generate.py", EXAMPLE / "segc.yml", *sorted((EXAMPLE / "segments").glob("*.seg"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def ensure_data(data: Path, customers: int, managed: bool = True) -> Path:
    """`data` holding the three files for `customers` customers, generated when missing or,
    for a folder of the cache (`managed`), when the generator changed since."""
    stamp = f"{customers}\n{generator_stamp()}\n"
    present = all((data / f).is_file() for f in FILES)
    current = (data / STAMP).is_file() and (data / STAMP).read_text(encoding="utf-8") == stamp
    if not present or (managed and not current):
        why = "missing" if not present else "written by another version of generate.py"
        print(f"generating {customers:,} customers into {data} ({why}) ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(EXAMPLE / "generate.py"), "--customers", str(customers),
                        "--out", str(data)], check=True)
        (data / STAMP).write_text(stamp, encoding="utf-8")
    return data
