"""What reading a project's files produced, kept between runs as Python keeps its .pyc.

A cold `segc compile -e` spent most of its own time reading the project, not compiling:
parsing the .seg files (the parser's tables, then ≈ 15 ms of parsing for the example),
importing PyYAML and reading segc.yml with positions (≈ 25 ms), reading the fitted models
(≈ 10 ms). Each is a pure function of a file's text and of segc's code, so its result is
pickled into the user's cache folder and, next time, unpickled (≈ 1.5 ms for all of the
example's files; benchmarks/README.md §1.5).

- Key: the text, the name it is shown under, the kind of reading, and a fingerprint of the
  code that reads it — the size and mtime of every .py file of segc and of PyYAML's, and
  the Python version (what Python checks for a .pyc). Any change to one of them is a miss.
- One slot per file (its absolute path and kind): an edited file replaces its entry, so
  the cache holds one entry per project file ever read, never one per version.
- Only successful readings are kept; a file with errors is read (and reported) each time.
- Best effort, never an error: a folder that cannot be created or written, an entry that
  cannot be read or unpickled, or a slot written by another key is a miss, and the file
  is read as without a cache. `SEGC_NO_CACHE=1` turns it off.
- Pickle runs code when it loads, so only a folder that is the user's own is used: owned
  by them, writable by nobody else (else no cache at all). An entry holds the syntax tree
  or the YAML values of a file the user's project holds — no data row.
"""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from pathlib import Path
from typing import Callable, TypeVar

from segc.front.source import Source

T = TypeVar("T")

_fingerprint: bytes | None = None


def cache_root() -> Path | None:
    """segc's folder in the user's cache directory (XDG_CACHE_HOME, else ~/.cache); None
    when neither names an absolute folder. A user without HOME and without an entry in the
    password database (a container run with an arbitrary uid, `docker run --user 1234`) has
    no `~`: os.path.expanduser leaves it as it is, and the cache went to a folder named `~`
    in the current folder, often the project (where `rm -rf ~` is the way to remove it)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # the XDG spec: a relative path is to be ignored
        return None
    return Path(base) / "segc"


def cached(kind: str, source: Source, read: Callable[[], T]) -> T:
    """`read()`, or what it returned before for the same kind, source and code. The
    spans of what is returned point at `source` itself, as those of `read()` would."""
    folder = cache_folder(kind)
    if folder is None:
        return read()
    slot = folder / hashlib.sha256(_utf8(f"{kind}\0{os.path.abspath(source.name)}")).hexdigest()[:32]
    key = hashlib.sha256(b"\0".join((_code_fingerprint(), _utf8(kind), _utf8(source.name),
                                     _utf8(source.text)))).digest()
    try:
        with open(slot, "rb") as f:
            data = f.read()
        if data[:len(key)] == key:
            return _Unpickler(io.BytesIO(data[len(key):]), source).load()
    except Exception:  # noqa: BLE001 - a missing or damaged entry is a miss, whatever the damage
        pass
    value = read()
    out = io.BytesIO()
    try:
        _Pickler(out, source).dump(value)
    except Exception:  # noqa: BLE001 - what cannot be pickled is not kept
        return value
    from segc.front.errors import SegcError
    from segc.front.files import write_atomic

    try:
        write_atomic(slot, key + out.getvalue())
    except SegcError:
        pass
    return value


class _Pickler(pickle.Pickler):
    """The source text is not stored: the entry refers to it, and gets it back on loading."""

    def __init__(self, file, source: Source):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.source = source

    def persistent_id(self, obj):
        return "source" if obj is self.source else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, source: Source):
        super().__init__(file)
        self.source = source

    def persistent_load(self, pid):
        if pid != "source":
            raise pickle.UnpicklingError("not an entry of this cache")
        return self.source


def _utf8(text: str) -> bytes:
    """Any str as bytes: a file name that is not UTF-8 holds lone surrogates (os.fsdecode)."""
    return text.encode("utf-8", "surrogatepass")


def cache_folder(kind: str) -> Path | None:
    """segc's cache folder for one kind of entry, made if needed; None when the cache is
    off, the folder cannot be made, or it is not the user's own."""
    if os.environ.get("SEGC_NO_CACHE"):
        return None
    root = cache_root()
    if root is None:
        return None
    folder = root / kind
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if hasattr(os, "getuid"):
            for f in (root, folder):
                st = f.stat()
                if st.st_uid != os.getuid() or st.st_mode & 0o022:
                    return None
    except OSError:
        return None
    return folder


def _code_fingerprint() -> bytes:
    """Size and mtime of every .py file of segc and of PyYAML, and the Python version."""
    global _fingerprint
    if _fingerprint is None:
        import segc.grammar

        h = hashlib.sha256(sys.version.encode())
        # the segc package, the parser's tables (a folder of their own in a source
        # checkout), and PyYAML where `import yaml` would find it (not imported for this,
        # nor looked up with importlib's finders: both cost more than the cache saves)
        folders = [os.path.dirname(os.path.dirname(__file__)), os.path.dirname(segc.grammar.__file__)]
        folders += [os.path.join(p, "yaml") for p in sys.path if os.path.isfile(os.path.join(p or ".", "yaml", "__init__.py"))][:1]
        for folder in dict.fromkeys(folders):
            _add_tree(h, folder)
        _fingerprint = h.digest()
    return _fingerprint


def _add_tree(h, folder: str) -> None:
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False):
            if entry.name != "__pycache__":
                _add_tree(h, entry.path)
        elif entry.name.endswith(".py"):
            st = entry.stat()
            h.update(_utf8(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\n"))
