"""What each added events segment costs in project.count() (issue 17, benchmarks/README.md §8.2).

    python benchmarks/events_marginal.py [--rounds 3]

Copies scale.py's 1M-customer project (built by events.py: project-1m-base, its data
paths absolute) into a temporary folder five times: as it is, with one of events.py's
three segments added (last_shoes, relaunch, shoes_then_bag), and with all three; then
times project.count() of each, interleaved over the rounds; medians of wall and CPU,
and each one's ratio to the project as it is."""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from events import LAST, RELAUNCH, SHOES_BAG, copy_project  # noqa: E402
from count_speed import interleaved  # noqa: E402
from scale import prepare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import segc

    base = copy_project(prepare("1m"), "-base")
    added = {"last": f"segment last_shoes = {LAST}\n", "relaunch": f"segment relaunch = {RELAUNCH}\n",
             "seq": f"segment shoes_then_bag = {SHOES_BAG}\n"}
    variants = {"base": "", **{f"+{k}": v for k, v in added.items()}, "+3": "".join(added.values())}
    projects = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in variants.items():
            out = Path(tmp) / (name.strip("+") or "plus")
            shutil.copytree(base, out)
            if text:
                (out / "segments" / "extra.seg").write_text(text, encoding="utf-8")
            projects[name] = segc.load_project(out)
        for p in projects.values():  # warm-up
            p.count()
        wall, cpu = interleaved({n: p.count for n, p in projects.items()}, args.rounds)
    b = statistics.median(wall["base"]), statistics.median(cpu["base"])
    for n in projects:
        w, c = statistics.median(wall[n]), statistics.median(cpu[n])
        print(f"{n:10} {w:7.3f} {c:7.3f}   / base {w / b[0]:.2f} wall {c / b[1]:.2f} CPU")


if __name__ == "__main__":
    main()
