"""Files in and out, each done in one place: reading a project's text files (E007 for
what cannot be read), the path a message shows for a file, and writing — one file
replaced atomically, or a whole output folder swapped in at once.

    source = read_source(path, display_path(path))
    check_output(out, has_mark(b"<meta name=\"generator\" content=\"segc report\">"))
    write_atomic(path, text)
    replace_folder(out, {"index.html": b"..."}, refuse=check)

Every output goes through one rule (check_output: segc replaces only what it wrote) and
one writer (write_atomic, replace_folder: any OSError is E824). A kill -9 in the middle
of a write never leaves a half-written file or folder in place: the new content is
written beside it under a hidden temporary name, then renamed over it; a folder swap
killed half-way is undone by the next run (replace_folder)."""
from __future__ import annotations

import contextlib
import errno
import glob
import os
import secrets
import shutil
import stat
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping

from segc.front.errors import Diagnostic, SegcError
from segc.front.source import Source, Span

STALE_SECONDS = 3600


# ---- reading ----------------------------------------------------------------------------

def read_source(path: Path, display: str, keep_newlines: bool = False) -> Source:
    """A text file as a Source; a file that cannot be read, or is not UTF-8, is E007.
    Line ends become \\n, unless `keep_newlines` (the formatter compares the file as it is)."""
    # "utf-8-sig": a byte-order mark (Windows editors' "UTF-8 with BOM") is no character
    # of the text, as YAML's reader already treats it
    try:
        if keep_newlines:
            return Source(display, Path(path).read_bytes().decode("utf-8-sig"))
        return Source(display, Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise SegcError(Diagnostic("E007", "file not found", file=display,
                                   hints=("check the path (relative paths start at the current folder)",))) from None
    except UnicodeDecodeError:
        raise SegcError(_not_utf8(Path(path), display)) from None
    except OSError as e:
        raise SegcError(Diagnostic("E007", f"cannot read: {e.strerror}", file=display,
                                   hints=("check that it is a file you may read",))) from None


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
        if is_file(folder / "segc.yml"):
            return folder
    return None


# Path.is_dir()/is_file()/exists() raise OSError for a name the system refuses (ENAMETOOLONG:
# a 260-character segment name typed as a target, ENAMETOOLONG from `-p`): a word that names
# no file is simply not one
def is_dir(path) -> bool:
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):
        return False


def is_file(path) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def exists(path) -> bool:
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def display_path(path: Path) -> str:
    """How messages name a file: relative to the current folder when it is below it (what
    the user typed, clickable in a terminal), else as it is."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def project_path(file: str | Path, root: Path) -> str:
    """A file relative to the project root with / separators (what a manifest, a catalogue
    or a diff records, the same on every machine); a file outside it as it is. The path is
    the one the user sees in the project folder (`segments/rfm.seg`): symbolic links are
    not followed first, or a linked segments/ (or .seg) would be recorded by its target, an
    absolute path of this machine. A path reaching the project through a link is
    resolved, then."""
    p = Path(os.path.abspath(file))
    for here, top in ((p, Path(os.path.abspath(root))), (p.resolve(), Path(root).resolve())):
        try:
            return _as_written(here.relative_to(top).as_posix())
        except ValueError:
            continue
    return _as_written(p.as_posix())


def _as_written(path: str) -> str:
    """A file name as the user wrote it (UTF-8 on disk), whatever the locale decoded it as:
    `café.seg` became `cafÃ©.seg` in a Latin-1 locale, and surrogates that no UTF-8 output
    can hold (a build, a catalogue: a traceback) under LC_ALL=C with PYTHONUTF8=0. Bytes
    that are no UTF-8 show as U+FFFD. For records and messages only, never to open a file."""
    return os.fsencode(path).decode("utf-8", "replace")


# ---- writing: the one rule and the one writer ------------------------------------------
#
# Every file or folder segc writes (build, docs, report --out, discover --out, fmt, score
# fit, init) goes through `check_output` (may segc replace what is there?) and then
# `write_atomic` or `replace_folder` (write it all at once); any OSError becomes E824.

def check_output(out: Path, ours: Callable[[Path], bool], *, folder: bool = False, root: Path | None = None,
                 force: bool = False, protected: Iterable[Path] = (), segment_file: bool = False,
                 kind: str = "", others: Mapping[str, Callable[[Path], bool]] | None = None) -> None:
    """The one rule for outputs: segc replaces only what it wrote itself. `out` may be new,
    or what `ours(out)` recognises as segc's earlier output (a mark segc writes into each
    output: a header line, a manifest, a marker file). Refused (E822): a symbolic link
    (writing through it would change a file elsewhere), a FIFO, a device or a socket, the
    project's segc.yml and `protected` paths (its data files) even with `force`, the project
    or the current folder for a folder output, anything inside the project's segments/ or
    tests/ (read whole: but a `segment_file`, a .seg written for segments/), and anything
    else without segc's mark (unless `force`). A folder where a file goes, or the reverse,
    is E824 (in the way). The refusal of what segc did write says so: `kind` names this
    output ("a JSON report", "catalogue"), `others` recognise segc's outputs of other kinds
    that may be at `out` (name -> `ours` of that kind), and a folder inside one that `ours`
    recognises is part of that output."""
    out = Path(os.path.abspath(out))
    read = read_folder(out, root) if root is not None else None
    if read and not (segment_file and read == "segments/" and out.suffix == ".seg"):
        raise _refused(out, f"is inside the project's {read}, where segc reads every file as part of the project",
                       "write outside segments/ and tests/, e.g. --out build/...")
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        if not folder and not out.parent.is_dir():  # a file's folder is not created for it
            raise write_error(out, FileNotFoundError(errno.ENOENT, "the folder does not exist")) from None
        return
    except OSError as e:  # a name too long, a file where a folder is on the way...
        raise write_error(out, e) from None
    try:
        _check_existing(out, st, ours, folder, root, force, protected, kind, others or {})
    except OSError as e:  # a folder it cannot read, a link loop...
        raise write_error(out, e) from None


def _check_existing(out: Path, st: os.stat_result, ours: Callable[[Path], bool], folder: bool,
                    root: Path | None, force: bool, protected: Iterable[Path], kind: str,
                    others: Mapping[str, Callable[[Path], bool]]) -> None:
    what = "folder" if folder else "file"
    if stat.S_ISLNK(st.st_mode):
        raise _refused(out, "is a symbolic link: segc does not write through links",
                       f"give the real path, or a new {what} name")
    if folder and not stat.S_ISDIR(st.st_mode) or not folder and stat.S_ISDIR(st.st_mode):
        raise write_error(out, OSError(errno.ENOTDIR if folder else errno.EISDIR,
                                       "a file is in the way" if folder else "a folder is in the way"))
    if not folder and not stat.S_ISREG(st.st_mode):
        raise _refused(out, "is not a plain file (a FIFO, a device or a socket)", "give a new file name")
    guarded = guarded_folder(out, root if root is not None else Path.cwd()) if folder else None
    if guarded:
        raise _refused(out, f"would replace {guarded} or a folder holding it",
                       "write into a folder of its own, e.g. --out build/out")
    never = {Path(p).resolve() for p in protected} | ({Path(root).resolve() / "segc.yml"} if root else set())
    if out.resolve() in never:
        raise _refused(out, "is one of the project's own files", "give a new file name")
    if force or folder and not any(out.iterdir()) or _safely(ours, out):
        return
    other = next((name for name, theirs in others.items() if _safely(theirs, out)), None)
    if other is not None:
        raise _refused(out, f"holds {other} that segc wrote: {kind} replaces only {kind}",
                       f"give a new {what} name for {kind}, or write {other} there again")
    within = next((parent for parent in out.parents if folder and _safely(ours, parent)), None)
    if within is not None:
        raise _refused(out, f"is part of the {kind or 'output'} segc wrote in `{display_path(within)}`: "
                            "it would be replaced", f"write into `{display_path(within)}` itself (replaced whole), "
                                                    "or into a new folder outside it")
    raise _refused(out, "exists and segc did not write it: it would be replaced",
                   "give a new folder name (or an empty folder); segc replaces only its own outputs" if folder
                   else "give a new file name; segc replaces only its own outputs")


def read_folder(out: Path, root: Path) -> str | None:
    """"segments/" or "tests/" when `out` is one of the project's folders that segc reads
    whole (a file written there would be read as a segment or a test), or lies inside one."""
    target, root = Path(out).resolve(), Path(root).resolve()
    for name in ("segments", "tests"):
        if target == root / name or root / name in target.parents:
            return f"{name}/"
    return None


def guarded_folder(out: Path, root: Path) -> str | None:
    """What replacing the folder `out` would destroy that it must not: "the project folder"
    or "the current folder" when `out` is one of them or holds one; else None."""
    target = Path(out).resolve()
    for folder, what in ((Path(root).resolve(), "the project folder"), (Path.cwd().resolve(), "the current folder")):
        if target == folder or target in folder.parents:
            return what
    return None


def has_mark(mark: bytes, within: int = 1024) -> Callable[[Path], bool]:
    """`ours` for a file that carries `mark` in its first `within` bytes (a header line, a
    <meta name="generator">, the fixed start of a JSON or CSV report)."""
    def ours(path: Path) -> bool:
        with open(path, "rb") as f:
            return mark in f.read(within)
    return ours


def _safely(ours: Callable[[Path], bool], out: Path) -> bool:
    try:
        return ours(out)
    except (OSError, ValueError):  # unreadable, or not what segc writes
        return False


def _refused(out: Path, why: str, hint: str) -> SegcError:
    return SegcError(Diagnostic("E822", f"`{display_path(out)}` {why}", file=display_path(out),
                                hints=(hint, "segc replaces only files and folders it wrote itself (README: "
                                             "What segc writes)")))


_HINTS = {
    errno.ENAMETOOLONG: "the name is too long for this file system: choose a shorter one",
    errno.EACCES: "the folder is not writable: choose another place or change its permissions",
    errno.EPERM: "the folder is not writable: choose another place or change its permissions",
    errno.EROFS: "the file system is read-only: choose another place",
    errno.ENOTDIR: "a file is in the way where a folder is needed: move it or choose another path",
    errno.EISDIR: "a folder is in the way where a file is needed: move it or choose another name",
    errno.EEXIST: "something is in the way: move it or choose another path",
    errno.ENOTEMPTY: "something is in the way: move it or choose another path",
    errno.ENOSPC: "the disk is full: free some space and run again",
    errno.EDQUOT: "the disk quota is exceeded: free some space and run again",
    errno.EFBIG: "the file is larger than this file system or limit allows",
    errno.ENOENT: "the folder does not exist: create it first",
}


def write_error(path: Path, e: OSError) -> SegcError:
    """E824, the one diagnostic for an output segc cannot write: the path, the OS's reason
    and what to do; nothing was changed (every write is all or nothing)."""
    reason = e.strerror or str(e)
    shown = display_path(Path(path))
    return SegcError(Diagnostic("E824", f"cannot write `{shown}`: {reason}", file=shown,
                                hints=(_HINTS.get(e.errno, "check the path and the file system"),
                                       "nothing was changed: a previous output, if any, is as it was")))


def write_atomic(path: Path, text: str | bytes, refuse: Callable[[Path], None] | None = None,
                 parents: bool = False) -> None:
    """Replace a file's content all at once (a temp file in the same folder, then
    os.replace), keeping its permissions, or for a new file those of any new file (the
    umask, not mkstemp's private 0600); a symbolic link keeps pointing at the file (`segc
    fmt` rewrites what a link points to; outputs refuse links in `check_output`).
    `refuse(path)` is asked right before the replace, as in replace_folder; `parents`
    creates the file's folder first. E824 on any OSError, and no temp file is left behind."""
    try:
        if parents:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(Path(path), text, refuse)
    except OSError as e:
        raise write_error(Path(path), e) from None


def _write_atomic(path: Path, text: str | bytes, refuse: Callable[[Path], None] | None) -> None:
    import tempfile

    real = Path(os.path.realpath(path))
    mode = real.stat().st_mode & 0o7777 if real.exists() else 0o666 & ~_umask()
    prefix = f".{real.name[:200]}."
    _sweep_temps(real.parent, prefix)
    fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=prefix, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, text.encode("utf-8") if isinstance(text, str) else text)
        os.chmod(tmp, mode)
        if refuse is not None:
            refuse(path)
        os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _sweep_temps(folder: Path, prefix: str) -> None:
    """Remove the temp files of this very file that a killed writer (SIGKILL, a cancelled
    job) left in its folder, once an hour old: a younger one may belong to a write still
    running. Only mkstemp's names for it (`prefix` + 8 characters + `.tmp`)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp") and len(name) == len(prefix) + 12:
            stale = folder / name
            try:
                if stale.is_file() and not stale.is_symlink() and time.time() - stale.stat().st_mtime > STALE_SECONDS:
                    stale.unlink()
            except OSError:
                pass


def _write_all(f, data: bytes) -> None:
    f.write(data)
    f.flush()
    os.fsync(f.fileno())  # a full disk often shows only here (delayed allocation)


def replace_folder(out: Path, files: dict[str, bytes], refuse: Callable[[Path], None] | None = None) -> Path:
    """Write `files` (relative path -> content) into a new folder beside `out`, then swap
    it in: the previous folder stays as it was unless everything succeeded. `refuse(out)`
    is asked right before the swap (the folder may have changed since the caller looked)
    and raises to keep a folder segc did not write. E824 on any OSError. Folders and files
    get the usual permissions (the umask).

    Crash-safe: the swap is two renames (out -> .out.segc-old.X, new -> out). A run killed
    between them leaves the previous output whole in .segc-old; the next run into `out`
    puts it back before anything else, and the sweep removes a .segc-old only once `out`
    exists again (so never the only copy). The swap and the recovery hold a lock on the
    parent folder, so a run never mistakes another's swap for a crash."""
    out = Path(os.path.abspath(out))  # not resolve(): a symbolic link named `out` is refused, not followed
    try:
        return _replace_folder(out, files, refuse)
    except OSError as e:
        raise write_error(out, e) from None


def fill_folder(out: Path, fill: Callable[[Path], None], refuse: Callable[[Path], None] | None = None) -> Path:
    """replace_folder for content too big to hold in memory (a snapshot's parquet file):
    `fill(tmp)` writes it into the new folder, which is then swapped in as replace_folder
    does (the same crash safety; E824 on any OSError)."""
    out = Path(os.path.abspath(out))
    try:
        return _replace_folder(out, fill, refuse)
    except OSError as e:
        raise write_error(out, e) from None


def recover_folders(parent: Path) -> None:
    """Put back every folder of `parent` that a swap killed between its two renames left
    whole in .segc-old (what replace_folder does for its own `out` before writing): a
    reader of several outputs (the snapshot store's partitions) sees them all."""
    parent = Path(parent)
    if not parent.is_dir():
        return
    with _locked(parent):
        for old in parent.glob(".*.segc-old.*"):
            name = old.name[1:].rsplit(".segc-old.", 1)[0]
            _recover(parent, parent / name)


def _replace_folder(out: Path, files: dict[str, bytes] | Callable[[Path], None],
                    refuse: Callable[[Path], None] | None) -> Path:
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    with _locked(parent):
        _recover(parent, out)
        _sweep(parent, out.name)
        # made and locked under the parent's lock, as another run's sweep reads it: while
        # this run lives, its .segc-new is never one that can be locked (a dead run's)
        tmp = _fresh_dir(parent, f"{out.name}.segc-new")
        held = _hold(tmp)
    try:
        if callable(files):
            files(tmp)
            _step("writing")
        for rel, data in files.items() if not callable(files) else ():
            path = tmp / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "wb") as f:
                _write_all(f, data)
            _step("writing")
        with _locked(parent):
            if refuse is not None:
                refuse(out)
            _step("before-swap")
            _swap(parent, out, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if held is not None:
            os.close(held)
    return out


def _hold(folder: Path) -> int | None:
    """An exclusive flock on `folder`, released by the OS when the process dies (SIGKILL
    included): a .segc-new that can be locked is a dead run's. None without flock."""
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(folder, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _abandoned(folder: Path) -> bool:
    """Whether a .segc-new belongs to no live run: its lock is free (where flock exists),
    else it is an hour old."""
    try:
        import fcntl
    except ImportError:
        return time.time() - folder.stat().st_mtime > STALE_SECONDS
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def _swap(parent: Path, out: Path, tmp: Path) -> None:
    if not os.path.lexists(out):
        os.rename(tmp, out)
        _step("new-moved")
        return
    old = _fresh_dir(parent, f"{out.name}.segc-old", create=False)
    os.rename(out, old)
    _step("old-moved")
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    _step("new-moved")
    shutil.rmtree(old, ignore_errors=True)


def _step(name: str) -> None:
    """A point in a write where a test kills the process (tests/test_files.py replaces this
    in a subprocess and sends itself SIGKILL) to prove each step leaves a whole output."""


@contextlib.contextmanager
def _locked(folder: Path):
    """An advisory lock on `folder` (flock on the folder itself: no lock file to leave
    behind); released by the OS when the process dies, even by SIGKILL."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; the swap is as safe, only not guarded against a parallel run
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def one_writer(lock_file: Path):
    """Hold an exclusive flock on `lock_file` (created if missing, never removed: an empty
    file) for a whole read-modify-write, so that two runs writing the same store (two
    `segc snapshot` at one as-of) take turns instead of losing one's rows. Released by the
    OS when the process dies, even by SIGKILL. E824 when it cannot be created."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; writes are as safe, only not serialised
        yield
        return
    lock_file = Path(lock_file)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise write_error(lock_file, e) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _recover(parent: Path, out: Path) -> None:
    """A run killed between the swap's two renames left no `out` and the previous output
    whole in .segc-old: put it back (the newest, should several be there)."""
    if os.path.lexists(out):
        return
    olds = [p for p in parent.glob(f".{glob.escape(out.name)}.segc-old.*") if p.is_dir()]
    if olds:
        os.rename(max(olds, key=lambda p: p.stat().st_mtime), out)


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
    """Remove what runs into `name` left behind when killed (SIGKILL, a cancelled CI job)
    before they could clean up, with the parent folder locked (after `_recover`): a
    .segc-old once `out` is in place (a new output replaced it; a swap in progress holds
    the lock), a half-written .segc-new once no live run holds it (`_abandoned`)."""
    if not parent.is_dir():
        return
    out_exists = os.path.lexists(parent / name)
    for path in parent.glob(f".{glob.escape(name)}.segc-*"):  # `o[1]` is a name, not a pattern
        try:
            if not path.is_dir():
                continue
            old = path.name.startswith(f".{name}.segc-old.")
            if old and out_exists or not old and _abandoned(path):
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
