"""The mutation harness (tests/mutation/run.py) finds its mutants by structure: each applies to
exactly one place of the package as it is now, wherever the code lives and however it is laid out.
No copy is made and no mutant's test run happens here."""
import ast
import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent / "mutation" / "run.py"


def _load_harness():
    # by file path: tests/mutation is no package, and pytest imports with --import-mode=importlib
    spec = importlib.util.spec_from_file_location("segc_mutation_run", HARNESS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolves the module's annotations through it
    spec.loader.exec_module(module)
    return module


run = _load_harness()


@pytest.fixture(scope="module")
def package():
    return run.Package.read(run.ROOT)


@pytest.mark.parametrize("name", list(run.MUTANTS))
def test_mutant_applies_to_one_place(package, name):
    _what, patches = run.MUTANTS[name]
    for old, _new in patches:
        sites = package.find(old)
        assert len(sites) == 1, f"{name}: {old!r} matches {len(sites)} places: {', '.join(map(str, sites))}"
    for path, text in run.mutate(package, patches).items():
        # it parses, and it is a mutant: a replacement that changes nothing would survive every test
        assert ast.dump(ast.parse(text)) != ast.dump(ast.parse(package.sources[path])), name


def _write(root: Path, files: dict[str, str]) -> "run.Package":
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(textwrap.dedent(text), encoding="utf-8")
    return run.Package.read(root)


def _call(text: str, function: str, *args):
    namespace = {}
    exec(compile(text, "<mutated>", "exec"), namespace)
    return eval(function, namespace)(*args)


# the same two functions, flat in one file, then moved into a class in another file of a
# subfolder, reformatted and commented
FLAT = """
def at_most(a, b):
    return a <= b


def guard(positive, core):
    if positive:
        return core
    return None
"""
MOVED = """
class Cuts:
    @staticmethod
    def at_most(a, b):
        return (a
                <=   b)  # inclusive

    @staticmethod
    def guard(positive, core):
        if (positive):
            # nothing to guard
            return core
        return None
"""


def test_matching_goes_by_structure(tmp_path):
    package = _write(tmp_path, {"compiler/lower.py": FLAT, "cli/main.py": "def main():\n    return 0\n"})
    assert [str(s) for s in package.find("a <= b")] == ["compiler/lower.py:3"]
    assert package.find("a < b") == [] and package.find("b <= a") == []  # one operator, or the order
    assert len(package.find("if positive:\n    return core\nreturn None")) == 1  # consecutive statements
    assert package.find("if positive:\n    return core\nreturn core") == []
    assert [str(s) for s in package.find("return 0")] == ["cli/main.py:2"]


def test_matching_ignores_file_layout_and_comments(tmp_path):
    package = _write(tmp_path, {"compiler/backend/cuts.py": MOVED, "cli/main.py": ""})
    assert [str(s) for s in package.find("a <= b")] == ["compiler/backend/cuts.py:5"]
    assert [str(s) for s in package.find("if positive:\n    return core")] == ["compiler/backend/cuts.py:10"]
    mutated = run.mutate(package, [("a <= b", "a < b"),
                                   ("if positive:\n    return core", "kept = core\nreturn kept")])
    text = mutated["compiler/backend/cuts.py"]
    assert _call(text, "Cuts.at_most", 1, 1) is False
    assert _call(text, "Cuts.guard", False, "core") == "core"  # both statements inside the method


def test_not_applied_says_how_many_and_where(tmp_path):
    package = _write(tmp_path, {"compiler/a.py": FLAT, "compiler/b.py": FLAT})
    with pytest.raises(LookupError, match=r"matches 2 places .*compiler/a\.py:3, compiler/b\.py:3"):
        package.locate("a <= b")
    with pytest.raises(LookupError, match="matches 0 places"):
        run.mutate(package, [("a >= b", "a > b")])


def test_the_fixture_loader_is_never_mutated(package):
    """A mutant in run/memory.py (how the tests load their tables) would be killed by a
    broken set-up, not by a test that saw the compiler go wrong."""
    assert not [path for path in package.sources if path in run.NOT_MUTATED]
    assert any(path.startswith("compiler/backend/") for path in package.sources)
