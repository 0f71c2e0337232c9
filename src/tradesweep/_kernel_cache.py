"""Stale compiled kernels, cleared at import.

numba's ``cache=True`` checks a kernel's on-disk cache against its own source file only, so a
kernel that calls a kernel in another module (``sweep/fused_nb.py`` calling ``engine/nb.py``'s
``bar_step_nb``, which it compiles inline) keeps loading its old machine code after the callee's
file is edited. numba documents this and offers no dependency tracking (numba issue #1833).

Guarantee: ``tradesweep/__init__`` calls :func:`refresh` (with ``os.environ``) before any
kernel module can be imported. Every numba cache directory of a directory holding kernels
(``*nb.py``) then carries a stamp, a hash of all kernel sources (those modules and the package
modules they import); where the stamp differs or is missing, the directory's
``*.nbi`` / ``*.nbc`` files are deleted before the stamp is written, so the next call compiles
from the current sources. The candidate directories are numba's, in its order:
``$NUMBA_CACHE_DIR/<dir>_<sha1>``, the in-tree ``__pycache__``, the user-wide cache.

Cheap (hashes about 75 kB), safe under concurrent processes (the stamp is replaced atomically;
numba recompiles a kernel whose cache file vanished), a no-op where the directories are
read-only. It looks at numba's own variables (``NUMBA_CACHE_DIR``, the XDG cache home) in the
``environ`` it is given, as numba reads them at import, not tradesweep settings.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
KERNEL_PATTERN = "*nb.py"
STAMP_NAME = "tradesweep-kernels.stamp"
_CACHE_SUFFIXES = (".nbi", ".nbc")


def kernel_sources(package_dir: Path) -> list[Path]:
    """Every ``*nb.py`` below ``package_dir`` and the package's modules they import, at any
    depth: numba compiles imported values (``engine/enums.py``'s ``trade_dt``) into a kernel
    as constants, so those files are part of its source too."""
    imports = re.compile(rf"^\s*(?:from|import)\s+({re.escape(package_dir.name)}(?:\.\w+)*)", re.M)
    todo = sorted(package_dir.rglob(KERNEL_PATTERN))
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for module in imports.findall(path.read_text(encoding="utf-8")):
            parts = module.split(".")[1:]
            for candidate in (
                package_dir.joinpath(*parts, "__init__.py"),
                package_dir.joinpath(*parts).with_suffix(".py"),
            ):
                if candidate.is_file():
                    todo.append(candidate)
    return sorted(seen)


def sources_digest(package_dir: Path, sources: list[Path]) -> str:
    """One hash over the kernel sources' relative paths and contents."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sources:
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_dirs(source_dir: Path, environ: Mapping[str, str]) -> list[Path]:
    """Where numba may cache the kernels of ``source_dir``, in the order it tries them."""
    # numba's get_suitable_cache_subpath: the directory's name and the sha1 of its path.
    path = os.path.abspath(source_dir)
    subpath = f"{os.path.basename(path)}_{hashlib.sha1(path.encode()).hexdigest()}"
    dirs = []
    if environ.get("NUMBA_CACHE_DIR"):
        dirs.append(Path(environ["NUMBA_CACHE_DIR"]) / subpath)
    dirs.append(source_dir / "__pycache__")
    dirs.append(_user_cache_dir(environ) / subpath)
    return dirs


def refresh(package_dir: Path, environ: Mapping[str, str]) -> list[Path]:
    """Clear the compiled kernels built from other sources; returns the directories cleared.
    ``environ`` holds numba's variables (``tradesweep/__init__`` passes ``os.environ``)."""
    try:
        sources = kernel_sources(package_dir)
        digest = sources_digest(package_dir, sources)
    except OSError:
        return []
    cleared = []
    for source_dir in sorted({path.parent for path in sources}):
        # Like numba, the first writable candidate is the one in use: create it (numba would)
        # so its first cache files are stamped; later candidates are checked only if present.
        in_use = False
        for cache_dir in cache_dirs(source_dir, environ):
            if not in_use or cache_dir.is_dir():
                stamped, was_stale = _stamp(cache_dir, digest, create=not in_use)
                in_use = in_use or stamped
                if was_stale:
                    cleared.append(cache_dir)
    return cleared


def _stamp(cache_dir: Path, digest: str, *, create: bool) -> tuple[bool, bool]:
    """(the directory carries ``digest`` now, its cache files were deleted)."""
    stamp = cache_dir / STAMP_NAME
    try:
        if stamp.read_text() == digest:
            return True, False
    except OSError:
        pass
    try:
        if create:
            cache_dir.mkdir(parents=True, exist_ok=True)
        stale = [e.path for e in os.scandir(cache_dir) if e.name.endswith(_CACHE_SUFFIXES)]
        for path in stale:
            with suppress(FileNotFoundError):  # another process cleared it first
                os.unlink(path)
        _write_atomic(stamp, digest)
    except OSError:  # read-only install, or a directory numba cannot use either
        return False, False
    return True, bool(stale)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _user_cache_dir(environ: Mapping[str, str]) -> Path:
    """numba's user-wide cache directory (``appdirs.user_cache_dir("numba")``)."""
    if sys.platform == "win32":
        return Path(environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "numba/Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "numba"
    return Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"
