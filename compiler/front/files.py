"""Files in and out, each done in one place: reading a project's text files (E007 for
what cannot be read), the path a message shows for a file, and writing — one file
replaced atomically, or a whole output folder swapped in at once.

    source = read_source(path, display_path(path))
    write_atomic(path, text)
    replace_folder(out, {"index.html": b"..."}, refuse=check)

A kill -9 in the middle of a write never leaves a half-written file or folder in place:
the new content is written beside it under a hidden temporary name, then renamed over
it. Folders left behind by a killed run are removed by a later one, once they are an
hour old (a younger one may belong to a run still going)."""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Callable

from segc.front.errors import Diagnostic, SegcError
from segc.front.source import Source, Span

STALE_SECONDS = 3600


# ---- reading ----------------------------------------------------------------------------

def read_source(path: Path, display: str, keep_newlines: bool = False) -> Source:
    """A text file as a Source; a file that cannot be read, or is not UTF-8, is E007.
    Line ends become \\n, unless `keep_newlines` (the formatter compares the file as it is)."""
    try:
        if keep_newlines:
            return Source(display, Path(path).read_bytes().decode("utf-8"))
        return Source(display, Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SegcError(Diagnostic("E007", "file not found", file=display)) from None
    except UnicodeDecodeError:
        raise SegcError(_not_utf8(Path(path), display)) from None
    except OSError as e:
        raise SegcError(Diagnostic("E007", f"cannot read: {e.strerror}", file=display)) from None


def _not_utf8(path: Path, display: str) -> Diagnostic:
    """E007 pointing at the first byte that is not UTF-8 (read_text's offset is relative
    to a buffered chunk, so decode the whole file again to find it)."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        bad = len(raw)
    except UnicodeDecodeError as e:
        bad = e.start

    def text(data: bytes) -> str:  # as read_text would: universal newlines
        return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")

    at = len(text(raw[:bad]))
    return Diagnostic("E007", f"not UTF-8 text (byte {bad})", Span(Source(display, text(raw)), at, at + 1),
                      hints=("save the file as UTF-8",))


# ---- paths ------------------------------------------------------------------------------

def find_root(start: Path) -> Path | None:
    """The nearest folder upward holding segc.yml (as git finds .git)."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / "segc.yml").is_file():
            return folder
    return None


def display_path(path: Path) -> str:
    """How messages name a file: relative to the current folder when it is below it (what
    the user typed, clickable in a terminal), else as it is."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def project_path(file: str | Path, root: Path) -> str:
    """A file relative to the project root with / separators (what a manifest, a catalogue
    or a diff records, the same on every machine); a file outside it as it is."""
    p = Path(file)
    if not p.is_absolute():
        p = Path.cwd() / p
    try:
        return p.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return p.as_posix()


# ---- writing ----------------------------------------------------------------------------

def guarded_folder(out: Path, root: Path) -> str | None:
    """What replacing the folder `out` would destroy that it must not: "the project folder"
    or "the current folder" when `out` is one of them or holds one; else None."""
    target = Path(out).resolve()
    for folder, what in ((Path(root).resolve(), "the project folder"), (Path.cwd().resolve(), "the current folder")):
        if target == folder or target in folder.parents:
            return what
    return None


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace a file's content all at once (a temp file in the same folder, then
    os.replace), keeping its permissions, or for a new file those of any new file (the
    umask, not mkstemp's private 0600); a symbolic link keeps pointing at the file."""
    import tempfile

    path = Path(os.path.realpath(path))
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def replace_folder(out: Path, files: dict[str, bytes], refuse: Callable[[Path], None] | None = None) -> Path:
    """Write `files` (relative path -> content) into a new folder beside `out`, then swap
    it in: the previous folder stays as it was unless everything succeeded. `refuse(out)`
    is asked right before the swap (the folder may have changed since the caller looked)
    and raises to keep a folder segc did not write. Raises OSError on a write error.
    Folders and files get the usual permissions (the umask)."""
    out = Path(out).resolve()
    parent = out.parent
    _sweep(parent, out.name)
    parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_dir(parent, f"{out.name}.segc-new")
    try:
        for rel, data in files.items():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if refuse is not None:
            refuse(out)
        if out.exists():
            old = _fresh_dir(parent, f"{out.name}.segc-old", create=False)
            os.rename(out, old)
            try:
                os.rename(tmp, out)
            except BaseException:
                os.rename(old, out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _fresh_dir(parent: Path, stem: str, create: bool = True) -> Path:
    for _ in range(100):
        path = parent / f".{stem}.{secrets.token_hex(4)}"
        if create:
            try:
                os.mkdir(path)  # honours the umask, unlike mkdtemp
            except FileExistsError:
                continue
            return path
        if not path.exists():
            return path
    raise FileExistsError(f"no free temporary name in {parent}")


def _sweep(parent: Path, name: str) -> None:
    """Remove the temporary folders of runs into `name` that were killed (SIGKILL, a
    cancelled CI job) before they could clean up; an hour old, so not a running one's."""
    if not parent.is_dir():
        return
    for path in parent.glob(f".{glob.escape(name)}.segc-*"):  # `o[1]` is a name, not a pattern
        try:
            if path.is_dir() and time.time() - path.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
