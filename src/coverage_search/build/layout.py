"""The index folder: CURRENT names the live build; builds are written aside, switched atomically."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import stat
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coverage_search.embed.embedder import BACKENDS
from coverage_search.engine.factory import ENGINES
from coverage_search.errors import (
    BuildLockedError,
    IndexCorruptError,
    IndexMismatchError,
    NoIndexError,
)

# 2: documents.indexed_as (exact copies share their first copy's passages)
# 3: manifest "files": size and SHA-256 of each data file, checked on every open
# 4: keywords/ (tantivy) is the local engine's keyword index; coverage.sqlite has no FTS5
# 5: passages hold no text of their own (their span of the document's text)
FORMAT_VERSION = 5
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CACHE = "embeddings.sqlite"  # outside the builds, so it survives every rebuild
LOCK = ".build.lock"
KEEP_BUILDS = 2  # the live build and the one before it (an app may still be reading it)
_BUILD_NAME = re.compile(r"build-[0-9A-Za-z-]+")
_MADE_BUILD = re.compile(r"build-\d{8}T\d{12}Z-\d+")  # new_build_dir's names
_SMALL_FILE_BYTES = 1024 * 1024  # CURRENT and manifests are a few hundred bytes
_HALF = re.compile("[\ud800-\udc7f]")
# Manifest fields: accepted types, and whether every build has them. Engines check their own
# extra fields (the local engine its "files").
_SCHEMA: dict[str, tuple[tuple[type, ...], bool]] = {
    "model": ((str,), True),
    "backend": ((str,), False),  # indexes from before backends were recorded: torch
    "dimension": ((int,), True),
    "corpus_fingerprint": ((str,), True),
    "built_at": ((str,), True),
    "counts": ((dict,), True),
    "engine": ((str,), False),
    "engine_uri": ((str, type(None)), False),
    "vector_index": ((str,), False),
    "corpus_dir": ((str,), False),
    "corpus_path": ((str,), False),  # corpus_dir resolved: add, update and remove check it
    "package_version": ((str,), False),
    "chunking": ((dict,), False),
    "stemming": ((bool,), False),
    "dedup": ((int,), False),
    "files": ((dict,), False),
}


def live_build(index_dir: Path) -> Path | None:
    """The folder of the live build, or None when nothing was ever published."""
    try:
        raw = _read_small(index_dir / CURRENT, index_dir)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise IndexCorruptError.damaged(index_dir, f"{CURRENT} is not text") from None
    folder = index_dir / name
    if not _BUILD_NAME.fullmatch(name) or not folder.is_dir() or folder.is_symlink():
        raise IndexCorruptError.damaged(index_dir, f"{CURRENT} names a build that is not there")
    return folder


def _read_small(path: Path, index_dir: Path) -> bytes:
    """A small index file (CURRENT, a manifest): a regular file, never a link, pipe or folder.

    FileNotFoundError / NotADirectoryError when it is not there; IndexCorruptError otherwise.
    """
    name = path.name
    try:
        # O_NONBLOCK: a FIFO in its place would otherwise block the open until a writer comes.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise IndexCorruptError.damaged(index_dir, f"{name} is a link, not a file") from None
        raise IndexCorruptError.damaged(
            index_dir, f"{name} cannot be read: {exc.strerror}"
        ) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # before fdopen, which refuses a folder
        os.close(fd)
        raise IndexCorruptError.damaged(index_dir, f"{name} is not a file")
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(_SMALL_FILE_BYTES + 1)
        except OSError as exc:
            raise IndexCorruptError.damaged(
                index_dir, f"{name} cannot be read: {exc.strerror or exc}"
            ) from None
    if len(data) > _SMALL_FILE_BYTES:
        raise IndexCorruptError.damaged(index_dir, f"{name} is far too large")
    return data


def read_manifest(build_dir: Path, *, index_dir: Path) -> dict[str, Any]:
    """The manifest of a build, checked for a format this version reads and for its schema."""
    try:
        manifest = json.loads(_read_small(build_dir / MANIFEST, index_dir))
    except (OSError, ValueError, RecursionError):
        raise IndexCorruptError.damaged(index_dir, f"unreadable {MANIFEST}") from None
    if not isinstance(manifest, dict):
        raise IndexCorruptError.damaged(index_dir, f"{MANIFEST} is not a JSON object")
    version = manifest.get("format_version")
    if type(version) is not int:
        raise IndexCorruptError.damaged(index_dir, f"{MANIFEST} has no valid format_version")
    if version > FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index at {index_dir} was written by a newer coverage-search (format {version}). "
            "Upgrade coverage-search, or rebuild it: coverage-search build"
        )
    if version < FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index at {index_dir} uses an old format ({version}). "
            "Rebuild it: coverage-search build"
        )
    if problem := _schema_problem(manifest):
        raise IndexCorruptError.damaged(index_dir, f"{MANIFEST} has {problem}")
    return manifest


def _schema_problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with a manifest's fields, or None (the one place their types are checked)."""
    for key, (kinds, required) in _SCHEMA.items():
        if key not in manifest:
            if required:
                return f"no {key}"
            continue
        value = manifest[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            return f"a {key} of the wrong type"
    if manifest["dimension"] < 1:
        return "a dimension below 1"
    for key, known in (("backend", BACKENDS), ("engine", ENGINES)):  # values no build writes
        if key in manifest and manifest[key] not in known:
            return f"an unknown {key}"
    # Half a UTF-16 pair (a hand edit's \ud800) is no text a path or a terminal takes; the
    # halves \udc80-\udcff are the bytes of a path that is not UTF-8, as a build writes them.
    if _HALF.search(json.dumps(manifest, ensure_ascii=False)):
        return "text that is not valid Unicode"
    counts = manifest["counts"]
    for key in ("documents", "passages"):
        value = counts.get(key)
        if type(value) is not int or value < 0:
            return f"no valid counts.{key}"
    return None


def live_build_name(index_dir: Path) -> str:
    """The name of the build live in `index_dir` now, or "" when there is none."""
    try:
        build = live_build(index_dir)
    except IndexCorruptError:
        return ""
    return build.name if build is not None else ""


def index_of_build(folder: Path) -> Path | None:
    """The index folder when `folder` is one of its builds (index/build-…), else None."""
    try:
        real = folder.resolve()
    except (OSError, RuntimeError):  # a symlink loop: no build, and the caller says what is wrong
        return None
    if not _BUILD_NAME.fullmatch(real.name) or (folder / CURRENT).exists():
        return None
    inside = (folder / MANIFEST).is_file() and (real.parent / CURRENT).exists()
    return real.parent if inside else None


def not_a_build(index_dir: Path) -> None:
    """Refuse a build folder given as the index: "No index at" it, or an index made inside it."""
    parent = index_of_build(index_dir)
    if parent is not None:
        raise NoIndexError(
            f"{index_dir} is one build of the index at {parent}: give --index {parent}"
        )


def require_live(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The live build and its manifest; NoIndexError when there is none."""
    build = live_build(index_dir)
    if build is None:
        not_a_build(index_dir)
        raise NoIndexError(f"No index at {index_dir}. Run: coverage-search build")
    return build, read_manifest(build, index_dir=index_dir)


def new_build_dir(index_dir: Path) -> Path:
    """A fresh, empty build folder (unique even for builds started in the same microsecond)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = index_dir / f"build-{stamp}-{os.getpid()}"
    folder.mkdir(parents=True)
    return folder


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(index_dir: Path, build_dir: Path) -> None:
    """Make `build_dir` live: fsync its files, then replace CURRENT atomically."""
    for item in build_dir.iterdir():
        _fsync_path(item)
    _fsync_path(build_dir)
    tmp = index_dir / f".{CURRENT}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(build_dir.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    current = index_dir / CURRENT
    if current.is_dir() and not current.is_symlink():  # a damaged CURRENT: os.replace cannot
        shutil.rmtree(current)  # replace a folder, and the index folder is ours
    os.replace(tmp, current)
    _fsync_path(index_dir)


def kept_builds(index_dir: Path, *, keep: int = KEEP_BUILDS) -> set[Path]:
    """The build folders `cleanup` keeps: the newest `keep` finished ones and the live one."""
    try:
        live = live_build(index_dir)
    except IndexCorruptError:
        live = None  # a broken CURRENT is what this build is about to replace
    finished = sorted(
        p
        for p in index_dir.glob("build-*")
        if p.is_dir() and _MADE_BUILD.fullmatch(p.name) and (p / MANIFEST).is_file()
    )
    return set(finished[-keep:]) | ({live} if live else set())


def cleanup(index_dir: Path, *, keep: int = KEEP_BUILDS) -> None:
    """Remove builds older than the newest `keep` finished ones, and any unfinished leftovers.

    Only folders named as `new_build_dir` names them: a user's "build-tools" is not a build.
    A CURRENT that is a folder holding anything is refused, not swept (publish replaces it).
    """
    current = index_dir / CURRENT
    if current.is_dir() and not current.is_symlink() and any(current.iterdir()):
        raise IndexCorruptError(
            f"{current} is a folder holding files, where the name of the live build belongs: "
            "move it out of the index folder, then build again."
        )
    keep_set = kept_builds(index_dir, keep=keep)
    builds = sorted(
        p for p in index_dir.glob("build-*") if p.is_dir() and _MADE_BUILD.fullmatch(p.name)
    )
    for folder in builds:
        if folder not in keep_set:
            shutil.rmtree(folder, ignore_errors=True)
    for tmp in index_dir.glob(f".{CURRENT}.*.tmp"):
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def build_lock(
    index_dir: Path, *, wait: float = 0.0, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the index folder's build lock.

    With `wait` 0 a second build fails at once; otherwise it waits up to `wait` seconds for the
    running one (calling `on_wait` once, to say so) and then fails.
    """
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexCorruptError(
            f"{index_dir} is a file, not an index folder. Give --index a folder."
        )
    not_a_build(index_dir)
    if index_dir.is_symlink() and not index_dir.exists():  # mkdir would say "File exists"
        raise IndexCorruptError(
            f"{index_dir} is a link that leads to no folder (a loop or a missing target): "
            "give --index a folder."
        )
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a read-only parent, a name too long
        raise IndexCorruptError(
            f"Cannot make the index folder {index_dir} ({exc.strerror}): give --index a folder "
            "you can write."
        ) from None
    path = index_dir / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise IndexCorruptError(
                f"Cannot write in the index folder {index_dir} ({exc.strerror}): make it writable."
            ) from None
        raise IndexCorruptError(f"{path} cannot be opened ({exc.strerror}): remove it.") from None
    with os.fdopen(fd, "r+b") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise IndexCorruptError(f"{path} is not a file: remove it.")
        _acquire(fh.fileno(), index_dir, wait, on_wait)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _acquire(fd: int, index_dir: Path, wait: float, on_wait: Callable[[], None] | None) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                waited = f" (waited {wait:g} s)" if wait > 0 else ""
                raise BuildLockedError(
                    f"Another build is running on {index_dir}{waited}. "
                    "Wait for it to finish, then try again."
                ) from None
        if on_wait is not None:
            on_wait()
            on_wait = None
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))


def same_corpus(here: Path, built_from: str) -> bool:
    """True when `here` is the recorded corpus folder, by path or as the same folder."""
    if here == Path(built_from):
        return True
    try:
        return os.path.samefile(here, built_from)  # a bind mount, another spelling
    except (OSError, ValueError):  # ValueError: a NUL in an edited manifest, no folder at all
        return False
