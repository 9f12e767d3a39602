"""What `segc serve` works on: the project (reloaded when a .seg file or segc.yml
changes), one feature matrix per as-of (rebuilt when segc.yml or a data file changes), and
the answers of the JSON API, each one call: check, count, compile, profile, overlap,
sample, segments, save. Everything raises SegcError with diagnostics; the web layer
(app.py) only turns requests into these calls."""
from __future__ import annotations

from pathlib import Path, PurePosixPath

from segc import ir
from segc.apps.serve.fast import matrix_overlap, matrix_profile
from segc.apps.serve.matrix import Matrix, NotInMatrix, data_stamp
from segc.check.policy import may_meet_ad_hoc
from segc.front.errors import Diagnostic, SegcError
from segc.project import Project, load_project

MAX_SAMPLE = 100


class Playground:
    def __init__(self, root: Path, params: dict[str, str] | None = None, as_of=None):
        self.root = Path(root).resolve()
        self.params = params or {}
        self.as_of = as_of  # the default as-of (--as-of), else segc.yml's
        self._project: Project | None = None
        self._project_stamp = None
        self._matrices: dict[object, tuple[tuple, Matrix]] = {}

    # ---- the project and its matrices ----
    def project(self) -> Project:
        stamp = self._sources_stamp()
        if self._project is None or stamp != self._project_stamp:
            for _s, m in self._matrices.values():
                m.drop() if self._project is not None else None
            self._matrices.clear()
            self._project = load_project(self.root, self.params, self.as_of)
            self._project_stamp = stamp
        return self._project

    def _sources_stamp(self) -> tuple:
        files = [self.root / "segc.yml", *sorted((self.root / "segments").glob("**/*.seg"))]
        return tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists())

    def matrix(self, as_of=None) -> Matrix:
        """The matrix at this as-of, built on first use and again when the data changed."""
        p = self.project()
        when = self._as_of(as_of)
        # a rolling as-of (`today`, or None when the server runs --as-of today) moves at the
        # engines' midnight (UTC), not the machine's
        key = (when, ir.utc_today()) if when in (None, "today") else when
        stamp = data_stamp(self.root, p)
        held = self._matrices.get(key)
        if held is None or held[0] != stamp:
            if held is not None:
                held[1].drop()
            self._matrices[key] = (stamp, Matrix(p, when))
        return self._matrices[key][1]

    def _fast(self, run, as_of, on_matrix=None):
        """`run(project)` on the matrix (or `on_matrix(view)`, a quicker way to the same
        figures there); on the full query when the matrix cannot answer.
        Returns (result, "matrix" | "full")."""
        try:
            return (on_matrix or run)(self.matrix(as_of).view), "matrix"
        except NotInMatrix:
            return run(self.project()), "full"

    def _as_of(self, as_of):
        """A request's as-of: the server's default when left out; `today` stays `today`
        (as_of_date's None would read as the default, not as the engine's current date)."""
        p = self.project()
        if as_of in (None, ""):
            return p.as_of
        value = p.as_of_date(as_of, given_as="`as_of`:")  # the request's field, not an option
        return "today" if value is None else value

    # ---- the API ----
    def check(self, text: str) -> list[Diagnostic]:
        """The expression's diagnostics (errors raise, warnings return)."""
        return list(self.project().expression(text).warnings)

    def count(self, text: str, as_of=None) -> dict:
        target = self.project().expression(text)
        as_of = self._as_of(as_of)
        result, via = self._fast(lambda p: p.count([target], as_of), as_of)
        return {**result.to_dict(), "via": via, "diagnostics": _dicts(target.warnings)}

    def segments(self, as_of=None) -> dict:
        as_of = self._as_of(as_of)
        result, via = self._fast(lambda p: p.count(None, as_of), as_of)
        from segc.backend.dialects import DIALECTS

        return {**result.to_dict(), "via": via, "dialects": list(DIALECTS), "dialect": self.project().schema.dialect}

    def compile(self, text: str, dialect: str | None = None, as_of=None) -> dict:
        sql = self.project().compile_expression(text, dialect or None, as_of=self._as_of(as_of))
        return {"sql": str(sql), "dialect": dialect or self.project().schema.dialect}

    def profile(self, text: str, as_of=None) -> dict:
        target = self.project().expression(text)
        as_of = self._as_of(as_of)
        result, via = self._fast(lambda p: p.profile(target, as_of), as_of,
                                 lambda view: matrix_profile(view, target, as_of))
        return {**result.to_dict(), "via": via}

    def overlap(self, text: str, as_of=None) -> dict:
        """The expression's overlap with every segment (each branch), the largest first."""
        p = self.project()
        target = p.expression(text)
        as_of = self._as_of(as_of)
        (size, pairs), via = self._fast(lambda q: overlap_with(q, target, as_of), as_of,
                                        lambda view: matrix_overlap(view, target, as_of))
        rows = [{"name": n, "count": count, "both": both, "share_of_expression": both / size if size else 0.0,
                 "jaccard": both / (size + count - both) if size + count - both else 0.0}
                for n, count, both in pairs]
        rows.sort(key=lambda r: (-r["both"], r["name"]))
        return {"size": size, "segments": rows, "via": via, "withheld": withheld(p)}

    def sample(self, text: str, n: int = 20, as_of=None) -> dict:
        target = self.project().expression(text)
        as_of = self._as_of(as_of)
        result, via = self._fast(lambda p: p.sample(target, n, as_of), as_of)
        return {"columns": result.columns, "rows": result.to_dict(), "masked": result.masked, "via": via}

    def save(self, path: str, text: str) -> dict:
        """Write a .seg file inside the project, formatted (segc fmt) and atomically, if it
        checks with the rest of the project."""
        from segc.front.files import write_atomic
        from segc.front.fmt import format_source

        out = self._save_path(path)
        # checked as sent, so that a diagnostic's line and column are those of the editor's text
        self.project().with_source(text, path, replacing=out)  # raises on errors
        formatted = format_source(text, path)
        write_atomic(out, formatted, parents=True)
        return {"path": path, "text": formatted}

    def _save_path(self, path: str) -> Path:
        pure = PurePosixPath(path)
        # the project reads segments/**/*.seg only: a file elsewhere would be saved and never read
        bad = (not path or "\\" in path or "\0" in path or pure.is_absolute() or ".." in pure.parts
               or pure.suffix != ".seg" or pure.parts[0] != "segments" or len(pure.parts) < 2
               or any(part.startswith(".") or len(part.encode()) > 255 for part in pure.parts))
        out = (self.root / pure).resolve() if not bad else None
        if bad or not out.is_relative_to(self.root / "segments"):
            raise SegcError(Diagnostic("E970", "the playground saves only .seg files in the project's segments/ folder",
                                       hints=("give a relative path under segments/ ending in .seg, e.g. "
                                              "segments/new.seg (no `..`, no absolute path, no hidden file)",)))
        return out


def _dicts(diags) -> list[dict]:
    return [d.to_dict() for d in diags]


def open_playground(project: Path | None, params: dict[str, str] | None = None, as_of=None) -> Playground:
    """The playground of the project at (or above) `project`, loaded once now so that a
    broken project or a bad --as-of is reported before the server starts."""
    loaded = load_project(project or Path("."), params=params, as_of=as_of)
    pg = Playground(loaded.root, params, as_of)
    pg._project, pg._project_stamp = loaded, pg._sources_stamp()
    return pg


def withheld(project: Project) -> list[str]:
    """The segments and branches an expression's overlap leaves out: they read sensitive data."""
    from segc.preview import OVERLAP

    return [t.name for t in project.targets(project.segment_names, OVERLAP) if not may_meet_ad_hoc(t)]


def overlap_with(project: Project, target, as_of=None) -> tuple[int, list[tuple[str, int, int]]]:
    """The target's size, and (segment, size, both) for every segment and branch: one
    query of 2 sums per segment (preview.overlap's every pair would be n² sums)."""
    from sqlglot import exp

    from segc.backend.lower import Lowerer
    from segc.backend.trees import flag, ident
    from segc.preview import OVERLAP

    others = [t for t in project.targets(project.segment_names, OVERLAP) if may_meet_ad_hoc(t)]

    def select(lw: Lowerer):
        cond = lw.pred(target.pred)
        out = [exp.alias_(exp.Sum(this=flag(cond)), ident("segc_size"))]
        for i, t in enumerate(others):
            pred = lw.pred(t.pred)
            out += [exp.alias_(exp.Sum(this=flag(pred)), ident(f"segc_n_{i}")),
                    exp.alias_(exp.Sum(this=flag(exp.and_(cond.copy(), pred.copy()))), ident(f"segc_both_{i}"))]
        return out, None

    row = project.run(project.lowerer(as_of).query(project.checked.population, select))[0]
    return int(row[0] or 0), [(t.name, int(row[1 + 2 * i] or 0), int(row[2 + 2 * i] or 0)) for i, t in enumerate(others)]
