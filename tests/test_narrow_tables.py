"""Tables on narrow terminals (COLUMNS=40 and 60; TTY_COMPATIBLE=1 makes rich treat the
test's output as a terminal): no table line is wider than the terminal, no number is cut
(no `…`, every figure of the JSON output that the table shows is there whole), text
wraps, and a column left out is named in a note. Into a pipe, the whole table."""
from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from segc.cli.main import app
from tests.conftest import EXAMPLE

P = ["-p", str(EXAMPLE)]
BOX = re.compile(r"[┃│┏┗┡└]")


ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Plain:
    """A CliRunner result with rich's styling codes taken out."""

    def __init__(self, result):
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        self.stdout, self.stderr = ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)


def terminal(width: int) -> dict[str, str]:
    return {"COLUMNS": str(width), "TTY_COMPATIBLE": "1", "NO_COLOR": "1"}


def run(width: int, *args: str) -> Plain:
    return Plain(CliRunner().invoke(app, list(args), env=terminal(width)))


def table_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if BOX.match(line)]


def assert_fits(text: str, width: int) -> None:
    lines = table_lines(text)
    assert lines, text
    assert "…" not in text, text
    too_wide = [line for line in lines if len(line) > width]
    assert not too_wide, "\n".join(too_wide)


def note(text: str) -> str:
    """The note under a table, its lines joined."""
    return " ".join(text.split("not shown")[-1].split()) if "not shown" in text else ""


def cells(text: str) -> set[str]:
    """Every word inside the tables (a number cut over two lines would not be one)."""
    return {w for line in table_lines(text) for w in re.split(r"[\s┃│]+", line) if w}


WIDTHS = [40, 60]


@pytest.mark.parametrize("width", WIDTHS)
def test_count(width):
    out = run(width, "count", *P).stdout
    assert_fits(out, width)
    data = json.loads(run(200, "count", *P, "--format", "json").stdout)
    words = cells(out)
    for s in data["segments"]:  # count and share are never dropped: they are the table
        assert f"{s['count']:,}" in words and f"{s['share']:.1%}" in words, s
    assert "young_urban_fr" in out.replace("│\n│", "")  # names wrap rather than get cut


@pytest.mark.parametrize("width", WIDTHS)
def test_overlap(width):
    out = run(width, "overlap", "loyal_big_basket", "at_risk", "inactive_6m", *P).stdout
    assert_fits(out, width)
    data = json.loads(run(200, "overlap", "loyal_big_basket", "at_risk", "inactive_6m", *P, "--format", "json").stdout)
    shown = [s for s in data["segments"] if s["name"] not in note(out)]
    assert shown and all(f"{s['count']:,}" in cells(out) for s in shown)
    if width == 40:
        assert note(out).startswith("for the terminal's width of 40: inactive_6m;")


@pytest.mark.parametrize("width", WIDTHS)
def test_sample(width):
    out = run(width, "sample", "at_risk", "-n", "5", *P).stdout
    assert_fits(out, width)
    rows = json.loads(run(200, "sample", "at_risk", "-n", "5", *P, "--format", "json").stdout)
    assert all(str(r["customer_id"]) in cells(out) for r in rows)


@pytest.mark.parametrize("width", WIDTHS)
def test_profile(width):
    out = run(width, "profile", "loyal_big_basket", *P).stdout
    assert_fits(out, width)
    data = json.loads(run(200, "profile", "loyal_big_basket", *P, "--format", "json").stdout)
    means = [f"{n['mean']:,.2f}" for n in data["numeric"] if n["mean"] is not None]
    assert means and all(m in cells(out) for m in means)


@pytest.mark.parametrize("width", WIDTHS)
def test_transitions(width):
    args = ["transitions", "value_tier", "--from", "2024-01-01", "--to", "2024-07-01", *P]
    out = run(width, *args).stdout
    assert_fits(out, width)
    assert "total" in note(out)


@pytest.mark.parametrize("width", WIDTHS)
def test_report(width):
    out = run(width, "report", "loyal_big_basket", "at_risk", *P).stdout
    assert_fits(out, width)
    data = json.loads(run(200, "report", "loyal_big_basket", "at_risk", *P, "--format", "json").stdout)
    sizes = {f"{r['size']:,}" for r in data["rows"]}
    assert sizes and sizes <= cells(out), (sizes, out)
    assert "revenue_per_customer" in note(out)  # a KPI left out is named


@pytest.mark.parametrize("width", WIDTHS)
def test_score_show(width):
    out = run(width, "score", "show", "potential", *P).stdout
    assert_fits(out, width)
    data = json.loads(run(200, "score", "show", "potential", *P, "--format", "json").stdout)
    assert all(f"{f['coefficient']:+.4f}" in cells(out) for f in data["features"])


def test_discover_narrow():
    result = Plain(CliRunner().invoke(app, ["discover", *P, "--features", "purchases_365d,basket_avg", "--k", "3"],
                                      env=terminal(40)))
    assert_fits(result.stderr, 40)
    assert "19,891" in cells(result.stderr)


def test_a_pipe_gets_the_whole_table():
    out = CliRunner().invoke(app, ["report", *P], env={"COLUMNS": "40"}).stdout
    assert "…" not in out and "not shown" not in out
    assert max(len(line) for line in table_lines(out)) > 80  # as wide as it needs


# every command that prints a table, with the words of its headers and title that a pipe
# must get whole (a segmentation's branches head the profile's columns)
PIPED = [
    (["count", "value_tier"], ["very_good", "occasional"]),
    (["overlap", "at_risk", "inactive_6m", "loyal_big_basket"], ["loyal_big_basket"]),
    (["sample", "-e", "basket_avg > 500 and purchases_365d >= 2", "-n", "3"],
     ["basket_avg > 500 and purchases_365d >= 2 (first 3 by key)"]),
    (["profile", "value_tier"], ["very_good", "occasional", "population", "mean (missing) of"]),
    (["profile", "loyal_big_basket"], ["pop. stddev", "pop. missing"]),
    (["transitions", "value_tier", "--from", "2024-01-01", "--to", "2024-07-01"], ["very_good", "occasional"]),
    (["report", "loyal_big_basket", "at_risk"], ["revenue_per_customer"]),
    (["score", "show", "potential"], ["coefficient"]),
]


@pytest.mark.parametrize("args, whole", PIPED, ids=lambda v: v[0] if isinstance(v[0], str) and v[0] != "-e" else "")
def test_every_table_into_a_pipe_is_printed_whole(args, whole):
    result = CliRunner().invoke(app, [*args, *P], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout and "not shown" not in result.stdout, result.stdout
    for words in whole:
        assert any(words in line for line in result.stdout.splitlines()), (words, result.stdout)


def test_diff_membership_table(tmp_path):
    import shutil

    new = tmp_path / "new"
    shutil.copytree(EXAMPLE, new, ignore=shutil.ignore_patterns("build", "site"))
    seg = new / "segments" / "behaviour.seg"
    seg.write_text(seg.read_text().replace("segment at_risk = inactive_6m and not loyal_big_basket",
                                           "segment at_risk = inactive_6m"))
    out = Plain(CliRunner().invoke(app, ["diff", str(EXAMPLE), str(new)], env=terminal(40))).stdout
    assert_fits(out, 40)
    data = json.loads(CliRunner().invoke(app, ["diff", str(EXAMPLE), str(new), "--format", "json"]).stdout)
    members = [m for c in data["segments"] for m in c["membership"]]
    assert members and all(f"{m['after']:,}" in cells(out) for m in members), out


def _header_lines(text: str) -> list[list[str]]:
    """The first table's column headers: each column's header lines (blank ones left out)."""
    lines = text.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("┏"))
    rows = []
    for line in lines[top + 1:]:
        if not line.startswith("┃"):
            break
        rows.append([cell.strip() for cell in line.strip("┃").split("┃")])
    return [[row[j] for row in rows if row[j]] for j in range(len(rows[0]))]


KPIS = ["active", "email_reachable", "basket_value", "avg_basket", "frequency", "revenue_per_customer"]


@pytest.mark.parametrize("width", [40, 50, 60, 70, 80, 90, 100])
def test_report_kpi_headers_break_only_after_an_underscore(width):
    """newuser11 F19: at 70 columns, `--kpi email_reachable` was headed `email_rea` /
    `chable`. A header is a name the user types: it breaks only after a `_` (`email_` /
    `reachable`), and a column it no longer fits in is left out with the note."""
    args = ["report", "big_basket_90d", *(a for k in KPIS for a in ("--kpi", k)), *P]
    out = run(width, *args).stdout
    assert_fits(out, width)
    headers = _header_lines(out)
    assert ["".join(h) for h in headers[:3]] == ["segment", "size", "share"], out
    kpis = headers[3:]
    assert ["".join(h) for h in kpis] == KPIS[:len(kpis)], out
    assert all(k in note(out) for k in KPIS[len(kpis):]), out
    assert all(line.endswith("_") for h in kpis for line in h[:-1]), out
    if width == 70:
        assert ["email_", "reachable"] in kpis, out
