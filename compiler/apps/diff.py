"""What changed between two versions of a project: segments added, removed and changed
(a unified diff of their definitions), and how membership moves on the preview data.

    result = diff_projects("HEAD", "examples/retail")       # a git revision and a folder
    result = diff_projects("old/retail", "examples/retail")  # two folders

Both versions are compiled with the same as-of and run on the NEW project's engine and
data (DuckDB over its local files by default): one query per side returns the members of
every compared segment, and the keys are compared in Python. A definition whose text is
unchanged still counts as changed when its SQL changed (a referenced segment, a feature,
a parameter or the population changed in segc.yml).
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from segc import ir
from segc.front import ast
from segc.front import files
from segc.front.files import project_path
from segc.front.errors import Diagnostic, SegcError


@dataclass(frozen=True)
class Membership:
    name: str  # a segment, or `segmentation.branch`
    before: int
    after: int
    entered: int
    left: int
    unchanged: int  # members on both sides

    def to_dict(self) -> dict:
        return {"name": self.name, "before": self.before, "after": self.after, "entered": self.entered,
                "left": self.left, "unchanged": self.unchanged}


@dataclass(frozen=True)
class Change:
    name: str
    kind: str  # segment, segmentation
    status: str  # added, removed, changed
    text_diff: str  # unified diff of the definition's source text ('' when only the SQL changed)
    sql_changed: bool
    file: str  # relative to the project root
    members: list[Membership] = field(default_factory=list)

    @property
    def membership(self) -> Membership | None:
        """The one membership row of a segment (segmentations have one per branch)."""
        return self.members[0] if len(self.members) == 1 and self.members[0].name == self.name else None

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "status": self.status, "file": self.file,
                "text_changed": bool(self.text_diff),
                "sql_changed": self.sql_changed, "diff": self.text_diff,
                "membership": [m.to_dict() for m in self.members]}


@dataclass(frozen=True)
class DiffResult:
    old_label: str
    new_label: str
    as_of: str | None
    changes: list[Change]
    config_diff: str = ""  # unified diff of segc.yml
    notes: list[str] = field(default_factory=list)
    unchanged: int = 0  # definitions identical on both sides

    def to_dict(self) -> dict:
        return {"old": self.old_label, "new": self.new_label, "as_of": self.as_of,
                "added": [c.name for c in self.changes if c.status == "added"],
                "removed": [c.name for c in self.changes if c.status == "removed"],
                "changed": [c.name for c in self.changes if c.status == "changed"],
                "unchanged": self.unchanged, "segc_yml_diff": self.config_diff,
                "segments": [c.to_dict() for c in self.changes], "notes": list(self.notes)}


@dataclass(frozen=True)
class _Def:
    name: str
    kind: str
    text: str
    file: str  # relative to the project root
    line: int  # first line of the definition in its file
    members: tuple[str, ...]  # names in checked.segments: itself, or its branches


def diff_projects(old: str | Path, new: str | Path = ".", as_of=None, params: dict | None = None,
                  membership: bool = True) -> DiffResult:
    """Compare OLD (a project folder or a git revision) with NEW (a project folder)."""
    from segc.project import load_project

    new_project = load_project(new, params=params)
    old_path = Path(old)
    if files.is_dir(old_path) or (files.exists(old_path) and old_path.suffix == ".seg"):
        old_project = _load_side(old_path, params, f"{old}")
        return _compare(old_project, new_project, str(old), str(new), as_of, membership)
    with tempfile.TemporaryDirectory(prefix="segc-diff-") as tmp:
        folder, label = checkout(str(old), new_project.root, Path(tmp))
        old_project = _load_side(folder, params, label)
        return _compare(old_project, new_project, label, str(new), as_of, membership)


def _load_side(path: Path, params, label: str):
    from segc.project import load_project

    try:
        return load_project(path, params=params)
    except SegcError as e:
        raise SegcError([Diagnostic("E903", f"the old version ({label}) does not load; its problems follow",
                                    file=label, hints=("compare with a version that checks",))] + e.diagnostics) from None


# ---- git ------------------------------------------------------------------------------

def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, env=env, timeout=120)
    except FileNotFoundError:
        raise SegcError(Diagnostic("E901", "git is not installed: OLD must be a project folder",
                                   hints=("install git, or pass two folders: segc diff OLD_DIR NEW_DIR",))) from None


def checkout(rev: str, root: Path, dest: Path) -> tuple[Path, str]:
    """The project files (segc.yml, segments/, models/) of `root` at git revision `rev`, written
    under `dest`. Returns the project folder there and a label such as `HEAD (1a2b3c4)`."""
    import io
    import tarfile

    root = root.resolve()
    top = _git(["rev-parse", "--show-toplevel"], root)
    if top.returncode != 0:
        raise SegcError(Diagnostic("E901", f"`{rev}` is not a folder, and {root} is not in a git repository",
                                   hints=("OLD is a project folder or a git revision (e.g. HEAD, main, v1.2)",)))
    toplevel = Path(top.stdout.decode().strip()).resolve()
    rel = root.relative_to(toplevel).as_posix()
    prefix = "" if rel == "." else rel + "/"
    if rev.startswith("-"):
        raise SegcError(Diagnostic("E902", f"`{rev}` is not a git revision",
                                   hints=("give a commit, a branch or a tag: `segc diff HEAD~1`",)))
    commit = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], toplevel)
    if commit.returncode != 0:
        raise SegcError(Diagnostic("E902", f"`{rev}` is neither a folder nor a git revision",
                                   hints=("e.g. HEAD, HEAD~1, main, a tag or a commit hash",)))
    sha = commit.stdout.decode().strip()
    label = f"{rev} ({sha[:7]})"
    # models/: the fitted scores (score_model.py) that segments of that revision may use
    paths = [p for p in (f"{prefix}segc.yml", f"{prefix}segments", f"{prefix}models")
             if _git(["cat-file", "-e", f"{sha}:{p}"], toplevel).returncode == 0]
    if f"{prefix}segc.yml" not in paths:
        raise SegcError(Diagnostic("E903", f"there is no project at {rev}:{prefix}segc.yml",
                                   hints=("the project did not exist at that revision, or it lived in another folder",)))
    archive = _git(["archive", "--format=tar", sha, "--", *paths], toplevel)
    if archive.returncode != 0:
        raise SegcError(Diagnostic("E903", f"git archive failed at {label}",
                                   hints=(archive.stderr.decode(errors="replace").strip()[:300],)))
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest / rel, label


# ---- comparing ---------------------------------------------------------------------------------

def _definitions(project) -> dict[str, _Def]:
    out: dict[str, _Def] = {}
    for module in project.modules:
        for node in module.definitions:
            if node.name in out or node.span is None:
                continue  # a duplicate: the checker reported it
            if isinstance(node, ast.Segmentation):
                info = project.checked.segmentations.get(node.name)
                members = tuple(f"{node.name}.{b}" for b, _p in info.branches) if info else ()
                kind = "segmentation"
            else:
                members = (node.name,) if node.name in project.checked.segments else ()
                kind = "segment"
            out[node.name] = _Def(node.name, kind, node.span.text(), project_path(module.file, project.root),
                                  node.span.line, members)
    return out


def _unified(old: _Def | None, new: _Def | None) -> str:
    """A unified diff of two definitions, with line numbers of their files."""
    a = old.text.splitlines() if old else []
    b = new.text.splitlines() if new else []
    lines = list(difflib.unified_diff(a, b, fromfile=f"a/{old.file}" if old else "/dev/null",
                                      tofile=f"b/{new.file}" if new else "/dev/null", lineterm="", n=3))
    shift_a = old.line - 1 if old else 0
    shift_b = new.line - 1 if new else 0

    def renumber(m: re.Match) -> str:
        def part(start: str, count: str | None, shift: int) -> str:
            s = int(start) + (shift if int(start) or count != "0" else 0)
            return f"{s}" + (f",{count}" if count is not None else "")

        return f"@@ -{part(m[1], m[2], shift_a)} +{part(m[3], m[4], shift_b)} @@"

    return "\n".join(re.sub(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", renumber, line) for line in lines)


def _sql(project, name: str, as_of: dt.date) -> str | None:
    try:
        return project.compile(name, dialect="duckdb", as_of=as_of, pretty=False)
    except SegcError:
        return None


def _compare(old, new, old_label: str, new_label: str, as_of, membership: bool) -> DiffResult:
    effective = new.as_of_date(as_of) if as_of is not None else new.as_of
    if effective is None:
        effective = ir.utc_today()  # both sides on the same day, the engines' (UTC)
    a, b = _definitions(old), _definitions(new)
    changes: list[Change] = []
    unchanged = 0
    for name in [*b, *(n for n in a if n not in b)]:
        da, db = a.get(name), b.get(name)
        if da is None:
            changes.append(Change(name, db.kind, "added", _unified(None, db), True, db.file))
            continue
        if db is None:
            changes.append(Change(name, da.kind, "removed", _unified(da, None), True, da.file))
            continue
        text_changed = da.text != db.text or da.kind != db.kind
        sql_changed = da.kind != db.kind or _sql(old, name, effective) != _sql(new, name, effective)
        if text_changed or sql_changed:
            changes.append(Change(name, db.kind, "changed", _unified(da, db) if text_changed else "",
                                  sql_changed, db.file))
        else:
            unchanged += 1
    config_diff = "\n".join(difflib.unified_diff(
        old.schema.located.source.text.splitlines() if old.schema.located else [],
        new.schema.located.source.text.splitlines() if new.schema.located else [],
        fromfile="a/segc.yml", tofile="b/segc.yml", lineterm=""))
    notes: list[str] = []
    if membership and changes:
        try:
            changes = _with_membership(old, new, a, b, changes, effective)
        except SegcError as e:
            notes.append("membership not compared: " + "; ".join(
                d.message + "".join(f" ({h})" for h in d.hints[:1]) for d in e.diagnostics))
    return DiffResult(old_label, new_label, effective.isoformat(), changes, config_diff, notes, unchanged)


def _with_membership(old, new, a, b, changes: list[Change], as_of: dt.date) -> list[Change]:
    """Members of every compared segment on each side: one query per side."""
    names_a = [m for c in changes if c.name in a for m in a[c.name].members]
    names_b = [m for c in changes if c.name in b for m in b[c.name].members]
    before = _members(old, names_a, as_of, new.engine)
    after = _members(new, names_b, as_of, new.engine)
    out = []
    for c in changes:
        rows = []
        for m in dict.fromkeys([*(b[c.name].members if c.name in b else ()),
                                *(a[c.name].members if c.name in a else ())]):
            x, y = before.get(m, set()), after.get(m, set())
            both = len(x & y)
            rows.append(Membership(m, len(x), len(y), len(y) - both, len(x) - both, both))
        out.append(Change(c.name, c.kind, c.status, c.text_diff, c.sql_changed, c.file, rows))
    return out


def _members(project, names: list[str], as_of: dt.date, engine) -> dict[str, set]:
    """{segment: keys} for `names` of `project`, in one query on `engine`."""
    if not names:
        return {}
    from sqlglot import exp

    from segc.backend.lower import KEY
    from segc.backend.trees import col, ident
    from segc.backend.render import render

    preds = [project.checked.segments[n].pred for n in names]

    def select(lw):
        cols = [exp.alias_(col(KEY), ident("segc_member"))]
        for i, p in enumerate(preds):
            cols.append(exp.alias_(exp.Case(ifs=[exp.If(this=lw.pred(p), true=exp.Literal.number(1))],
                                            default=exp.Literal.number(0)), ident(f"segc_{i}")))
        return cols, None

    inner = project.lowerer(as_of).query(project.checked.population, select)
    flags = [col(f"segc_{i}") for i in range(len(preds))]
    total = flags[0]
    for f in flags[1:]:
        total = exp.Add(this=total, expression=f)
    q = (exp.select(exp.Star())
         .from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=ident("segc_flags"))))
         .where(exp.GT(this=exp.Paren(this=total), expression=exp.Literal.number(0))))
    rows = engine.execute(render(q, engine.dialect, pretty=False))
    out: dict[str, set] = {n: set() for n in names}
    for row in rows:
        for n, flag in zip(names, row[1:]):
            if flag:
                out[n].add(row[0])
    return out
