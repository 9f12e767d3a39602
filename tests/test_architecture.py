"""The architecture holds by construction: these tests read the package's source (its
imports and attribute uses, with `ast`) and fail on

- an import cycle between segc's modules (lazy imports inside functions count: a cycle
  that only closes at run time is still a cycle);
- a module using another module's `_private` name (imported, or read as an attribute of
  anything but `self`/`cls`);
- a module over MAX_LINES lines without a reason in its docstring;
- the CLI building diagnostics (codes are the compiler's: it reports, the CLI prints);
- an upward arrow between the stages (front <- schema <- check <- backend <- run <- apps <- cli).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"compiler": "segc", "cli": "segc.cli", "grammar": "segc.grammar"}
MAX_LINES = 600

# the stages, lowest first: a module may import its own stage and those below it
STAGES = ["segc.ir", "segc.front", "segc.schema", "segc.check", "segc.backend", "segc.run",
          "segc.project", "segc.preview", "segc.apps", "segc.cli"]
# leaves read from any stage: data tables and helpers with no segc imports of their own
LEAVES = {"segc.backend.dialects", "segc.grammar", "segc.records"}
# generated, not written: lark's standalone parser with its tables (`python -m
# segc.grammar.build` writes it; tests/test_startup.py fails when it is stale)
GENERATED = {"segc.grammar.segment_parser"}


def _modules() -> dict[str, Path]:
    out = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join((package, *parts))] = path
    return out


MODULES = _modules()


def _tree(name: str) -> ast.Module:
    return ast.parse(MODULES[name].read_text(encoding="utf-8"))


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Line numbers of imports under `if TYPE_CHECKING:` (never run: no dependency)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            for child in node.body:
                lines.add(child.lineno)
    return lines


def _resolve(importer: str, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    base = importer.split(".")
    is_package = MODULES[importer].name == "__init__.py"
    base = base[:len(base) - level + (1 if is_package else 0)]
    return ".".join(base + ([module] if module else []))


def _imports(name: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names imported from it, line) for every segc import of `name`."""
    tree = _tree(name)
    skip = _type_checking_only(tree)
    out = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "segc"]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(name, node.module, node.level)
            if target.split(".")[0] != "segc":
                continue
            names = [a.name for a in node.names]
            # `from segc.x import y` where y is a module of the package: a dependency on y
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            out.append((target, [n for n in names if f"{target}.{n}" not in MODULES], node.lineno))
            out += [(s, [], node.lineno) for s in subs]
    return out


def _graph() -> dict[str, set[str]]:
    graph = {}
    for name in MODULES:
        deps = set()
        for target, _names, _line in _imports(name):
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and target != "segc":  # the package root is the public API
                deps.add(target)
        graph[name] = deps
    return graph


def test_the_modules_are_found():
    assert {"segc.front.parser", "segc.check.checker", "segc.backend.lower", "segc.run.duckdb_engine",
            "segc.project", "segc.preview", "segc.apps.build", "segc.cli.main"} <= set(MODULES)


def test_no_import_cycle():
    graph = _graph()
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                cycles.append(" -> ".join(path[path.index(dep):] + [dep]))
            elif dep not in state:
                visit(dep, path + [dep])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def _stage(module: str) -> int | None:
    if module in LEAVES or any(module.startswith(leaf + ".") for leaf in LEAVES):
        return None
    for i, prefix in reversed(list(enumerate(STAGES))):
        if module == prefix or module.startswith(prefix + "."):
            return i
    return None


def test_arrows_point_down_the_pipeline():
    # project.py offers the previews as methods (the documented API, `project.count()`):
    # they delegate to preview.py, which takes the project; preview never imports project
    allowed = {("segc.project", "segc.preview")}
    upward = []
    for name, deps in _graph().items():
        here = _stage(name)
        for dep in deps:
            there = _stage(dep)
            if here is not None and there is not None and there > here and (name, dep) not in allowed:
                upward.append(f"{name} ({STAGES[here]}) imports {dep} ({STAGES[there]})")
    assert not upward, "imports against the pipeline:\n" + "\n".join(sorted(upward))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _external(tree: ast.Module) -> set[str]:
    """Names bound to other libraries' modules (`os`, `SparkContext`): their `_names` are
    theirs to document (os._exit is public API), not segc's."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] != "segc"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] != "segc":
            out |= {a.asname or a.name for a in node.names}
    return out


def _defined(tree: ast.Module) -> set[str]:
    """Names a module defines itself: its functions, classes, assignments, attributes of self."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            out.add(node.attr)
        elif isinstance(node, ast.arg):
            out.add(node.arg)
    return out


@pytest.mark.parametrize("name", sorted(set(MODULES) - GENERATED))
def test_no_private_name_of_another_module(name):
    tree = _tree(name)
    own, external = _defined(tree), _external(tree)
    problems = [f"line {line}: from {target} import {n}" for target, names, line in _imports(name)
                for n in names if _private(n)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in own:
            owner = node.value.id if isinstance(node.value, ast.Name) else ""
            if owner not in ("self", "cls") and owner not in external:
                problems.append(f"line {node.lineno}: {ast.unparse(node)}")
    assert not problems, f"{name} uses private names of other modules:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", sorted(set(MODULES) - GENERATED))
def test_modules_are_small_or_say_why(name):
    path = MODULES[name]
    lines = path.read_text(encoding="utf-8").count("\n")
    if lines <= MAX_LINES:
        return
    doc = ast.get_docstring(_tree(name)) or ""
    assert re.search(r"\b(over|about) \d+ lines\b", doc), (
        f"{path.relative_to(ROOT)} has {lines} lines (> {MAX_LINES}); split it by concern, or say in "
        "its docstring why it is one module (`One module of about N lines: ...`)")


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("segc.cli")))
def test_the_cli_builds_no_diagnostics(name):
    """Diagnostics are the compiler's: the CLI prints them, it never makes one."""
    tree = _tree(name)
    made = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", "")) == "Diagnostic"]
    assert not made, f"{name} builds Diagnostics at lines {made}"


def test_the_checks_catch_what_they_look_for(tmp_path, monkeypatch):
    """On a small package with a cycle (closed by a lazy import), an upward arrow, a private
    import, a private attribute and a CLI-made diagnostic, each check fails."""
    fake = {
        "segc.front.a": "from segc.apps import b\nfrom segc.front.c import _hidden\n",
        "segc.apps.b": "def f():\n    from segc.front import a\n    return a._secret\n",
        "segc.front.c": "_hidden = 1\n",
        "segc.cli.d": "from segc.front.errors import Diagnostic\nx = Diagnostic('E1', 'm')\n",
    }
    paths = {}
    for name, code in fake.items():
        paths[name] = tmp_path / f"{name.replace('.', '_')}.py"
        paths[name].write_text(code, encoding="utf-8")
    monkeypatch.setitem(globals(), "MODULES", paths)
    with pytest.raises(AssertionError, match=r"segc\.apps\.b -> segc\.front\.a -> segc\.apps\.b"):
        test_no_import_cycle()
    with pytest.raises(AssertionError, match=r"segc\.front\.a \(segc\.front\) imports segc\.apps\.b"):
        test_arrows_point_down_the_pipeline()
    with pytest.raises(AssertionError, match="from segc.front.c import _hidden"):
        test_no_private_name_of_another_module("segc.front.a")
    with pytest.raises(AssertionError, match=r"a\._secret"):
        test_no_private_name_of_another_module("segc.apps.b")
    with pytest.raises(AssertionError, match="builds Diagnostics at lines"):
        test_the_cli_builds_no_diagnostics("segc.cli.d")
