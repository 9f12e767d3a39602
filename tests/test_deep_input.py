"""Deep input (issue 15): every stage after the parser walks the tree recursively, so the
depth is bounded once (segc.front.nesting, E104) and everything the parser accepts must
go through every route: check, compile (every dialect), count on DuckDB, fmt, build, the
catalogue, the reference interpreter. Beyond the bound: E104, never a traceback, however
deep (10,000 levels), in the CLI and the API; through references, through segc.yml.
A chain of one `and`/`or` is one level, whatever its length."""
from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml
from typer.testing import CliRunner

import segc
from segc.backend.dialects import DIALECTS
from segc.cli.main import app
from segc.front.nesting import MAX_NESTING
from segc.front.parser import parse_expression
from segc.front.source import Source
from tests import reference as ref
from tests.conftest import EXAMPLE, drop_experiments

runner = CliRunner()

# each shape nests one more level per step; all but the and/or chain (flat) have a bound
SHAPES = {
    "not": lambda d: "not " * d + "loyalty_card",
    "parens": lambda d: "(" * d + "not loyalty_card" + ")" * d,
    "neg": lambda d: "age > " + "- " * d + "age",
    "neg_literal": lambda d: "age > " + "-" * d + "1",
    "and_or": lambda d: "".join(f"(age > {i} {'and' if i % 2 else 'or'} " for i in range(d))
    + "loyalty_card" + ")" * d,
    "sum_chain": lambda d: "age > " + " + ".join(["age"] * d),
    "product_chain": lambda d: "age > age" + " * 1" * d,
    "nested_sum": lambda d: "age > " + "(1 + " * d + "age" + ")" * d,
    "call": lambda d: "abs(" * d + "age" + ")" * d + " > 1",
    # sqlglot writes a level of these with more stack frames than `not` (found at 98 levels)
    "least": lambda d: "least(" * d + "age" + ", 3)" * d + " > 3",
    "greatest": lambda d: "greatest(" * d + "age" + ", 3)" * d + " > 3",
    "coalesce": lambda d: "coalesce(" * d + "age" + ", 3)" * d + " > 3",
    "date_shift": lambda d: "signup_date > today" + " - 1 day" * d,
    "aggregate_where": lambda d: "count(orders where " + "not " * d + "amount > 1) > 0",
    "and_chain": lambda d: " and ".join(f"age > {i - d}" for i in range(d)),
    "or_chain": lambda d: " or ".join(f"age < {i - d}" for i in range(d)) + " or loyalty_card",
}
DEEP = 10_000
# parentheses that only group, `-` on a number (one literal), and a chain of one `and`
# or `or` (flat in the tree) add no level
FLAT = ("parens", "neg_literal", "and_chain", "or_chain")


def accepted(text: str) -> bool:
    try:
        parse_expression(Source("x", text))
        return True
    except segc.SegcError as e:
        assert {d.code for d in e.diagnostics} == {"E104"}, e
        return False


def deepest_accepted(shape) -> int:
    """The largest step count the parser accepts (None if it accepts 10,000)."""
    lo, hi = 0, 400
    assert not accepted(shape(hi))
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if accepted(shape(mid)) else (lo, mid)
    return lo


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("deep") / "retail"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("segments", "tests", "models"))
    drop_experiments(folder)
    (folder / "segments").mkdir()
    return folder


def write(folder, text: str) -> None:
    (folder / "segments" / "deep.seg").write_text(text, encoding="utf-8")


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


def routes(folder, tmp_path) -> dict[str, list[str]]:
    p = str(folder)
    return {"check": ["check", p], "count": ["count", "deep", "-p", p],
            "fmt": ["fmt", str(folder / "segments" / "deep.seg")],
            "build": ["build", "-p", p, "--out", str(tmp_path / "build")],
            "docs": ["docs", "-p", p, "--out", str(tmp_path / "docs"), "--no-counts"],
            **{f"compile-{d}": ["compile", "deep", "-p", p, "--dialect", d] for d in DIALECTS}}


def world(project) -> ref.World:
    rows = {1: {"age": 40, "loyalty_card": True, "signup_date": dt.date(2020, 1, 1), "is_test": False},
            2: {"age": None, "loyalty_card": False, "signup_date": None, "is_test": False}}
    orders = [{"customer_id": 1, "ordered_at": dt.datetime(2024, 6, 1), "amount": 5.0}]
    return ref.World(rows, {"orders": orders}, dt.date(2024, 7, 1), project.schema)


@pytest.mark.parametrize("name", [n for n in SHAPES if n not in FLAT])
def test_the_deepest_accepted_input_goes_through_every_route(name, project_dir, tmp_path):
    """At the bound, each shape checks, compiles on every dialect, counts, formats, builds,
    and the reference interpreter evaluates it; one level more is E104 on every route."""
    depth = deepest_accepted(SHAPES[name])
    assert depth >= MAX_NESTING - 5  # a shape's levels are its steps plus a few
    write(project_dir, f"segment deep = {SHAPES[name](depth)}\n")
    for route, args in routes(project_dir, tmp_path).items():
        result = cli(*args)
        assert result.exit_code == 0, (route, result.output[-2000:])
    project = segc.load_project(project_dir)
    ref.evaluate(world(project), project.definition("deep").pred, project.checked.population)
    for dialect in DIALECTS:
        project.compile_expression(SHAPES[name](depth), dialect=dialect)
    write(project_dir, f"segment deep = {SHAPES[name](depth + 1)}\n")
    for route, args in routes(project_dir, tmp_path).items():
        if route != "fmt":  # fmt refuses too, but says so for the file
            result = cli(*args)
            assert result.exit_code == 1 and "E104" in result.output, (route, result.output[-2000:])


@pytest.mark.parametrize("name", FLAT)
def test_levels_that_are_not_nesting_have_no_bound(name, project_dir, tmp_path):
    write(project_dir, f"segment deep = {SHAPES[name](DEEP)}\n")
    chain = name.endswith("_chain")  # 10,000 terms: each CLI run takes seconds
    for route, args in routes(project_dir, tmp_path).items():
        if chain and route not in ("check", "count", "fmt", "build", "compile-tsql"):
            continue
        result = cli(*args)
        assert result.exit_code == 0, (route, result.output[-2000:])
    project = segc.load_project(project_dir)
    for dialect in DIALECTS:
        project.compile("deep", dialect=dialect)


@pytest.mark.parametrize("name", [n for n in SHAPES if n not in FLAT])
def test_ten_thousand_levels_give_a_diagnostic(name, project_dir, tmp_path):
    text = SHAPES[name](DEEP)
    write(project_dir, f"segment deep = {text}\nsegment fine = age > 1\n")
    for route, args in routes(project_dir, tmp_path).items():
        result = cli(*args)
        assert result.exit_code == 1, (route, result.output[-2000:])
        assert "E104" in result.output, (route, result.output[-2000:])
    result = cli("compile", "-e", text, "-p", str(project_dir))
    assert result.exit_code == 1 and "E104" in result.output
    write(project_dir, "")
    project = segc.load_project(project_dir)
    for dialect in ("duckdb", "tsql"):  # the parser refuses it before any dialect is involved
        with pytest.raises(segc.SegcError) as e:
            project.compile_expression(text, dialect=dialect)
        assert [d.code for d in e.value.diagnostics] == ["E104"]


def test_a_too_deep_definition_leaves_the_others_checked(project_dir):
    write(project_dir, "segment deep = " + SHAPES["not"](DEEP) + "\nsegment other = nosuch > 1\n")
    result = cli("check", str(project_dir))
    assert "E104" in result.output and "E201" in result.output


def test_references_count_the_whole_expanded_depth(project_dir, tmp_path):
    """Each definition is shallow, but each holds the previous one's whole tree."""
    lines = ["segment s0 = not loyalty_card"] + [f"segment s{i} = not s{i - 1}" for i in range(1, 300)]
    write(project_dir, "\n".join(lines) + "\n")
    result = cli("check", str(project_dir))
    assert result.exit_code == 1 and "E104" in result.output
    assert "deep.seg:" in result.output
    # declared in the reverse order, the checker checks them through the references
    write(project_dir, "\n".join(reversed(lines)) + "\n")
    result = cli("check", str(project_dir))
    assert result.exit_code == 1 and "E104" in result.output
    # within the bound (two levels a definition: `not` and the name), everything runs,
    # whichever order the checker meets them in
    last = MAX_NESTING // 2 - 2
    ok = [f"segment s{i} = not s{i - 1}" for i in range(1, last + 1)]
    for order in (lines[:1] + ok, list(reversed(lines[:1] + ok))):
        write(project_dir, "\n".join(order) + "\n")
        for route, args in routes(project_dir, tmp_path).items():
            if route == "count":
                args = ["count", f"s{last}", "-p", str(project_dir)]
            elif route.startswith("compile"):
                args = ["compile", f"s{last}", *args[2:]]
            result = cli(*args)
            assert result.exit_code == 0, (route, result.output[-2000:])


def test_aliases_through_a_segmentation(project_dir):
    lines = ["segmentation t {\n  a = not loyalty_card\n  b = else\n}", "segment s0 = t.a"]
    lines += [f"segment s{i} = not s{i - 1}" for i in range(1, 200)]
    write(project_dir, "\n".join(lines) + "\n")
    result = cli("check", str(project_dir))
    assert result.exit_code == 1 and "E104" in result.output


def test_a_long_or_chain_is_one_level(project_dir):
    """60,000 terms of one `or` (flat in the tree; sqlglot renders a chain iteratively),
    counted on DuckDB; the equalities of one feature become one IN list (DuckDB plans a
    chain of equalities in quadratic time: this took most of a minute)."""
    text = " or ".join(f"age = {i}" for i in range(60_000)) + " or " + \
        " or ".join(f"age > {i} and age < {i + 2}" for i in range(0, 1000, 2))
    write(project_dir, f"segment deep = {text}\n")
    project = segc.load_project(project_dir)
    sql = project.compile_expression(text)
    assert sql.count(" IN ") == 1 and sql.count(" OR ") == 500
    same = project.with_source("segment same = age >= 0 and age is present\n", "same.seg")
    counts = {c.name: c.count for c in same.count(["deep", "same"]).segments}
    assert counts["deep"] == counts["same"] > 0


def test_deep_expressions_in_segc_yml(project_dir, tmp_path):
    """`population:` and a feature's `where:` go through the same bound."""
    folder = tmp_path / "yml"
    shutil.copytree(project_dir, folder)
    config = yaml.safe_load((folder / "segc.yml").read_text(encoding="utf-8"))
    write(folder, "segment s = age > 1\n")
    for key, text in (("population", "not " * DEEP + "is_test"),
                      ("where", "not " * DEEP + 'status = "completed"')):
        changed = dict(config, features=dict(config["features"]))
        if key == "population":
            changed["population"] = text
        else:
            changed["features"]["purchases_90d"] = dict(changed["features"]["purchases_90d"], where=text)
        (folder / "segc.yml").write_text(yaml.safe_dump(changed, sort_keys=False), encoding="utf-8")
        result = cli("check", str(folder))
        assert result.exit_code == 1 and "E104" in result.output and "segc.yml:" in result.output, result.output


GROWTH = {
    **SHAPES,
    # DuckDB's decimal round read its argument three times (3x the SQL a level)
    "round": lambda d: "round(" * d + "age" + ", 1)" * d + " > 3",
    # SQLite's shift of a timestamp read it twice (2x a level)
    "time_shift": lambda d: "last_order_at" + " + 1 day" * d + " > first_order_at",
}


@pytest.mark.parametrize("name", ["least", "greatest", "coalesce", "round", "time_shift", "call", "nested_sum", "not"])
def test_the_sql_grows_with_the_depth_not_faster(name, project_dir):
    """Twice the levels make at most about four times the SQL on every dialect (pretty SQL
    indents each level: quadratic): sqlglot's DuckDB LEAST repeated its arguments to make
    NULLs contagious, 5x the SQL a level (785 MB at 20 levels)."""
    project = segc.load_project(project_dir)
    for dialect in DIALECTS:
        small, large = (len(project.compile_expression(GROWTH[name](d), dialect=dialect)) for d in (6, 12))
        assert large < 4.5 * small, (dialect, small, large)


def test_segments_used_many_times_are_bounded_by_their_written_out_size(project_dir):
    """Each segment uses the previous one 20 times: five steps (2 KB of text) held 3.2
    million copies of `age > 1`; `segc check` took 27 s and `segc compile` 3 GB. The
    checker now counts the written-out size once per shared part (E105 past 100,000)."""
    import time

    text = "segment a0 = age > 1\n" + "".join(
        f"segment a{level} = " + " or ".join(f"(a{level - 1} and age > {i})" for i in range(20)) + "\n"
        for level in range(1, 6))
    write(project_dir, text)
    start = time.monotonic()
    result = cli("check", str(project_dir))
    assert time.monotonic() - start < 20
    assert result.exit_code == 1 and result.output.count("E105") == 2, result.output[-2000:]
    assert "deep.seg:5:9" in result.output and "deep.seg:6:9" in result.output and "1,162,101" in result.output
    write(project_dir, text.split("segment a4")[0])  # a3: 32,000 copies, within the bound
    assert cli("compile", "a3", "-p", str(project_dir)).exit_code == 0
    twenty = " or ".join(f"(a3 and age > {i})" for i in range(20))
    result = cli("count", "-e", twenty, "-p", str(project_dir))
    assert result.exit_code == 1 and "E105" in result.output and "the expression" in result.output
    # the same through segmentations: each branch holds the earlier ones
    n, levels = 12, 6
    text = "segmentation s0 {\n" + "".join(f"  x{i} = age > {i}\n" for i in range(n)) + "}\n" + "".join(
        f"segmentation s{level} {{\n" + "".join(f"  x{i} = s{level - 1}.x{n - 1} and age > {i}\n" for i in range(n))
        + "}\n" for level in range(1, levels))
    write(project_dir, text + f"segment top_level = s{levels - 1}.x{n - 1}\n")
    start = time.monotonic()
    result = cli("check", str(project_dir))
    write(project_dir, "segment deep = age > 1\n")  # the module's project checks again for the next test
    assert time.monotonic() - start < 20 and result.exit_code == 1 and "E105" in result.output


def test_one_query_of_many_segments_is_bounded_too(project_dir):
    """Each `t` holds ~93,000 conditions (under E105), but `segc count` writes them all into
    one query: 24 s to lower, 17 s to write, 2.3 GB. The lowering stops at 100,000."""
    import time

    lines = ["segment s0 = age > 1 and loyalty_card"]
    for d, k in enumerate([20, 20, 10], 1):
        lines.append(f"segment s{d} = " + " or ".join(f"(s{d - 1} and age > {i})" for i in range(k)))
    lines += [f"segment t{i} = s3 and age > {i}" for i in range(10)]
    write(project_dir, "\n".join(lines) + "\n")
    try:
        assert cli("check", str(project_dir)).exit_code == 0
        start = time.monotonic()
        result = cli("count", "-p", str(project_dir))
        assert time.monotonic() - start < 60
        assert result.exit_code == 1 and "E105" in result.output and "fewer segments" in result.output
        assert cli("count", "t0", "-p", str(project_dir)).exit_code == 0  # one alone is within the bound
    finally:
        write(project_dir, "segment deep = age > 1\n")


def test_the_deepest_input_renders_while_another_render_holds_the_raised_limit(project_dir):
    """The render raises Python's recursion limit while sqlglot writes (backend/render.py
    deep_stack) and restores it after the last concurrent render. A render that began
    while another was under way used to rely on the first one's raise: when something
    lowered the limit meanwhile (hypothesis sets its own per test case), the deepest
    accepted input was E104 'nests too deeply' (seen once in the differential test)."""
    import sys
    import threading

    from segc.backend.render import deep_stack

    project = segc.load_project(project_dir)
    deepest = SHAPES["least"](MAX_NESTING - 2)
    entered, release = threading.Event(), threading.Event()

    def hold():
        with deep_stack():
            entered.set()
            release.wait(30)

    other = threading.Thread(target=hold)
    other.start()
    entered.wait(30)
    before = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(1000)
        assert project.compile_expression(deepest, dialect="duckdb")
    finally:
        sys.setrecursionlimit(before)
        release.set()
        other.join()
