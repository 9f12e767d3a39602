"""A project without `scores:` compiles without the fitted-score modules (issue 16,
start-up: score_model imports yaml, hashlib and json, ≈ 7-10 ms of a cold start)."""
import json
import subprocess
import sys
from pathlib import Path

from tests.test_startup import then_report

ROOT = Path(__file__).resolve().parents[1]
SCORE_MODULES = ("segc.schema.score_model", "segc.check.scores", "segc.check.kpis", "segc.check.experiments")

SEGC_YML = """name: tiny
entity: customer
base: customers
key: customer_id
sources:
  customers:
    table: shop.customers
features:
  age: {type: int}
"""


def _loaded_after_compile(project: Path) -> list:
    code = then_report("import json, sys\nsys.argv = ['segc', 'compile', '-e', 'age > 30', '-p', sys.argv[1]]\n"
                       "from segc.cli.main import main\n"
                       "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n",
                       "import json, sys\n"
                       f"print('LOADED=' + json.dumps([m for m in {list(SCORE_MODULES)!r} if m in sys.modules]))")
    result = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "SELECT" in result.stdout
    return json.loads(result.stdout.rsplit("LOADED=", 1)[1])


def test_no_score_module_without_scores(tmp_path):
    (tmp_path / "segc.yml").write_text(SEGC_YML, encoding="utf-8")
    (tmp_path / "segments").mkdir()
    (tmp_path / "segments" / "a.seg").write_text("segment adults = age >= 18\n", encoding="utf-8")
    assert _loaded_after_compile(tmp_path) == []


def test_the_example_with_scores_loads_them():
    """The probe sees them when they are needed (so that the test above can fail)."""
    loaded = _loaded_after_compile(ROOT / "examples" / "retail")
    assert "segc.check.scores" in loaded and "segc.schema.score_model" in loaded
