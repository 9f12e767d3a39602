"""Start-up weight: `import segc` and the compile command stay light (DESIGN §7).

Each check runs in a fresh interpreter and inspects `sys.modules`; nothing here measures
time. On failure the message shows the import chain that pulled the module in
(from `python -X importtime`).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from segc.cli.plain import COMPILE_OPTIONS, compile_arguments

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "retail"

HEAVY_FOR_IMPORT = ("duckdb", "jinja2", "lark", "sqlglot", "pydantic")
HEAVY_FOR_COMPILE = ("duckdb", "jinja2")
# what the `segc compile` command line does without (cli/plain.py, segc_yml_plain.read_plain)
NOT_FOR_COMPILE_COMMAND = ("duckdb", "jinja2", "typer", "click", "rich", "pydantic", "numpy", "sklearn")


def _command(*args: str) -> str:
    """Python code running `segc ARGS` as the installed script does."""
    return f"import sys\nsys.argv = ['segc', *{list(args)!r}]\nfrom segc.cli.main import main\nmain()\n"


def _run(code: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *flags, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def then_report(code: str, report: str) -> str:
    """`code`, then the Python statements `report`: also when the command ends the process
    with os._exit (the plain `segc compile` does, skipping the interpreter's teardown)."""
    return ("import os as _os, sys as _sys\n_real_exit = _os._exit\n"
            "def _report():\n" + textwrap.indent(report, "    ") + "\n"
            "def _exit(code):\n    _report()\n    _sys.stdout.flush()\n    _real_exit(code)\n"
            "_os._exit = _exit\n" + code + "\n_report()\n")


def _loaded(code: str, modules: tuple[str, ...]) -> list[str]:
    """Run `code` in a fresh interpreter; return which of `modules` it left imported."""
    probe = then_report(code, "import json, sys\n"
                              f"print('SEGC-LOADED=' + json.dumps([m for m in {list(modules)!r} if m in sys.modules]))")
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


def test_compile_command_line_runs_without_typer_pydantic_or_rich():
    _check_absent(_command("compile", "-e", "age >= 30", "-p", str(EXAMPLE)), NOT_FOR_COMPILE_COMMAND)
    _check_absent(_command("compile", "loyal_big_basket", "-p", str(EXAMPLE), "--dialect", "snowflake"),
                  NOT_FOR_COMPILE_COMMAND)


def test_only_the_target_dialect_of_sqlglot_is_loaded():
    probe = then_report(_command("compile", "-e", "age >= 30", "-p", str(EXAMPLE), "--dialect", "postgres"),
                        "import json, sys\n"
                        "print('SEGC-DIALECTS=' + json.dumps(sorted({m.split('.')[2] for m in sys.modules\n"
                        "    if m.split('.')[:2] in (['sqlglot', 'dialects'], ['sqlglot', 'generators'], ['sqlglot', 'parsers'])\n"
                        "    and len(m.split('.')) == 3})))")
    result = _run(probe)
    assert result.returncode == 0, result.stderr
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("SEGC-DIALECTS=")][-1]
    from segc.backend.dialects import DIALECTS

    assert set(json.loads(line.split("=", 1)[1])) & {*DIALECTS, "duckdb"} == {"postgres"}


# command lines that main() runs without typer (True) or leaves to typer (False)
COMMAND_LINES = [
    (True, ["compile", "-e", "age > 30", "-p", "examples/retail"]),
    (True, ["compile", "-e", "age > 30", "-p", "examples/retail", "-d", "snowflake", "--form", "count"]),
    (True, ["compile", "--expression=age > 30", "--project=examples/retail", "--dialect=tsql"]),
    (True, ["compile", "-p", "examples/retail", "value_tier", "--form", "label", "--as-of", "2024-07-01"]),
    (True, ["compile", "-e", "age > $min_basket", "-p", "examples/retail", "--param", "min_basket=3",
            "--param", "min_basket=4"]),
    (True, ["compile", "-e", "age >", "-p", "examples/retail"]),  # a syntax error
    (True, ["compile", "-e", "agee > 30", "-p", "examples/retail"]),  # a name error
    (True, ["compile", "-e", "age > 30 and age < 20", "-p", "examples/retail"]),  # a warning
    (True, ["compile", "-e", 'city = "esc\\u001b[31m x"', "-p", "examples/retail"]),  # a style, stripped
    (True, ["compile", "-e", "age > 30", "-p", "examples/retail", "--dialect", "nosuch"]),
    (True, ["compile", "-e", "age > 30", "-p", "examples/retail", "--param", "bad"]),
    (True, ["compile", "-e", "age > 30", "-p", "/nonexistent"]),
    (True, ["compile", "nosuch", "-p", "examples/retail"]),
    (False, ["compile", "--help"]),
    (False, ["compile", "-e", "age > 30", "-p", "examples/retail", "--form", "nosuch"]),
    (False, ["compile", "-p", "examples/retail"]),
    (False, ["compile", "x", "-e", "age > 30", "-p", "examples/retail"]),
    (False, ["compile", "-e", "age > 30", "-p", "examples/retail", "--bogus"]),
    (False, ["compile", "-eage > 30", "-p", "examples/retail"]),
    (False, ["compile", "-e"]),
    (False, ["compile", "-e", "age > 30", "--", "examples/retail"]),
    (False, ["--version"]),
]
# the reference: the typer app, printing with typer.echo itself
TYPER = ("import sys, typer, segc.cli.plain\n"
         # data (the SQL) keeps its escape sequences in a pipe: typer.echo's color=True
         "segc.cli.plain.echo = lambda m, err=False, data=False: typer.echo(m, err=err, color=True if data else None)\n"
         "sys.argv = ['segc', *sys.argv[1:]]\nfrom segc.cli.app import app\napp()\n")
MAIN = "import sys\nsys.argv = ['segc', *sys.argv[1:]]\nfrom segc.cli.main import main\nmain()\n"


def _bytes(code: str, args: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, timeout=120, **kw)


@pytest.mark.parametrize("plain,args", COMMAND_LINES, ids=[" ".join(a) for _p, a in COMMAND_LINES])
def test_main_prints_what_typer_prints(plain, args):
    assert (compile_arguments(args) is not None) == plain
    ours, typers = (_bytes(code, args, capture_output=True) for code in (MAIN, TYPER))
    assert (ours.returncode, ours.stdout, ours.stderr) == (typers.returncode, typers.stdout, typers.stderr)


def test_a_closed_pipe_ends_as_with_typer():
    """`segc compile ... | head -0`: exit 1 and nothing said, as typer does."""
    results = []
    for code in (MAIN, TYPER):
        read, write = os.pipe()
        os.close(read)
        result = _bytes(code, ["compile", "-e", "age > 30", "-p", "examples/retail"], stdout=write,
                        stderr=subprocess.PIPE)
        os.close(write)
        results.append((result.returncode, result.stderr))
    assert results[0] == results[1] == (1, b"")


def _with_stderr_closed(args: list[str]) -> subprocess.CompletedProcess:
    """`segc ARGS` whose stderr is a pipe that its reader closed (`2>&1 | head -2`)."""
    read, write = os.pipe()
    os.close(read)
    try:
        return _bytes(MAIN, args, stdout=subprocess.PIPE, stderr=write)
    finally:
        os.close(write)


def test_a_closed_stderr_does_not_fail_the_run():
    """Warnings written into a pipe that is closed (`segc count 2>&1 | head -2`) turned a
    successful run into a silent exit 1: they go nowhere, the run goes on, and its status
    is its own (an error is still 1)."""
    counted = _with_stderr_closed(["count", "-e", "age between 50 and 20", "-p", "examples/retail"])  # W101
    assert counted.returncode == 0 and b"population" in counted.stdout
    assert _with_stderr_closed(["count", "-p", "examples/retail"]).returncode == 0
    assert _with_stderr_closed(["count", "--strict", "-p", "examples/retail"]).returncode == 0
    warned = _with_stderr_closed(["compile", "-e", "age between 50 and 20", "-p", "examples/retail"])
    assert warned.returncode == 0 and warned.stdout.endswith(b"\"age\" <= 20;\n")
    assert _with_stderr_closed(["compile", "-e", "age >", "-p", "examples/retail"]).returncode == 1
    assert _with_stderr_closed(["check", "-p", "examples/nowhere"]).returncode == 1


def test_the_plain_compile_options_are_the_commands():
    import typer.main

    from segc.cli.main import app

    command = typer.main.get_command(app).commands["compile"]
    options = {opt: (p.name, p.multiple) for p in command.params if p.param_type_name == "option"
               for opt in p.opts + p.secondary_opts}
    assert options == COMPILE_OPTIONS
    assert [p.name for p in command.params if p.param_type_name == "argument"] == ["name"]
    assert {p.name: p.default for p in command.params} == {**compile_arguments(["compile", "x"]), "name": None}


def test_the_shipped_parser_tables_are_built_from_this_grammar():
    from segc.grammar import GRAMMAR_PATH, segment_parser

    assert segment_parser.GRAMMAR == GRAMMAR_PATH.read_text(encoding="utf-8"), (
        "segment.lark changed since segc/grammar/segment_parser.py was built: run `python -m segc.grammar.build`")


# Parses every .seg file of the repository, every expression of the conformance cases and
# the benchmark, and prefixes of the .seg files (syntax errors, recovery); prints the
# results with their spans. With the argument `lark`, as if segment.lark had changed
# since the tables were built.
PARSE_CORPUS = """
import dataclasses, json, sys
from pathlib import Path
import yaml
if sys.argv[1] == "lark":
    import segc.grammar.segment_parser as shipped
    shipped.GRAMMAR = None
from segc.front.errors import SegcError
from segc.front.parser import parse_expression, parse_module
from segc.front.source import Source, Span
sys.path.insert(0, "benchmarks")
from compile_speed_cases import CASES

def dump(x):
    if isinstance(x, Span):
        return [x.start, x.end]
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return [type(x).__name__] + [dump(getattr(x, f.name)) for f in dataclasses.fields(x)]
    if isinstance(x, (list, tuple)):
        return [dump(v) for v in x]
    return repr(x)

def result(parse, text):
    try:
        return dump(parse(Source("t", text)))
    except SegcError as e:
        return [dump(e.diagnostics), dump(getattr(e, "module", None))]

files = sorted(p for p in Path(".").glob("**/*.seg") if ".venv" not in p.parts)
expressions = [text for text, _sql in CASES] + [case["expr"] for p in sorted(Path("tests/conformance").glob("*.yml"))
                                                for case in yaml.safe_load(p.read_text())["cases"]]
out = [result(parse_module, p.read_text()) for p in files]
out += [result(parse_module, p.read_text()[:n]) for p in files for n in range(0, len(p.read_text()), 23)]
out += [result(parse_expression, text) for text in expressions]
out += [result(parse_expression, text[:n]) for text in expressions for n in range(len(text))]
print(json.dumps(["lark" in sys.modules, len(files), len(expressions), out]))
"""


def test_the_shipped_parser_parses_as_lark_builds_it():
    runs = {}
    for mode in ("shipped", "lark"):
        result = subprocess.run([sys.executable, "-c", PARSE_CORPUS, mode], capture_output=True, text=True,
                                cwd=ROOT, timeout=300)
        assert result.returncode == 0 and result.stderr == "", result.stderr  # the fallback says nothing
        runs[mode] = json.loads(result.stdout)
    (lark_shipped, files, expressions, shipped), (lark_built, *_counts, built) = runs["shipped"], runs["lark"]
    assert (lark_shipped, lark_built) == (False, True)
    assert files >= 10 and expressions >= 50
    assert shipped == built
