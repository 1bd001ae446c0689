"""The index folder: CURRENT names the live build; builds are written aside, switched atomically."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from coverage_search.errors import (
    BuildLockedError,
    IndexCorruptError,
    IndexMismatchError,
    NoIndexError,
)

FORMAT_VERSION = 2  # 2: documents.indexed_as (exact copies share their first copy's passages)
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
CACHE = "embeddings.sqlite"  # outside the builds, so it survives every rebuild
LOCK = ".build.lock"
KEEP_BUILDS = 2  # the live build and the one before it (an app may still be reading it)


def live_build(index_dir: Path) -> Path | None:
    """The folder of the live build, or None when nothing was ever published."""
    try:
        name = (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:  # unreadable, or not text at all
        raise IndexCorruptError(
            f"{index_dir / CURRENT} cannot be read. Run: coverage-search build"
        ) from exc
    folder = index_dir / name
    if not name.startswith("build-") or "/" in name or not folder.is_dir():
        raise IndexCorruptError(
            f"{index_dir / CURRENT} names a build that is not there. Run: coverage-search build"
        )
    return folder


def read_manifest(build_dir: Path, *, index_dir: Path) -> dict[str, Any]:
    """The manifest of a build, checked for a format this version reads."""
    try:
        manifest: dict[str, Any] = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("manifest is not a JSON object")
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"The index at {index_dir} is damaged (unreadable manifest). Run: coverage-search build"
        ) from exc
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index at {index_dir} was written by a newer coverage-search (format {version}). "
            "Upgrade coverage-search, or rebuild it: coverage-search build"
        )
    if version < FORMAT_VERSION:
        raise IndexMismatchError(
            f"The index at {index_dir} uses an old format ({version}). "
            "Rebuild it: coverage-search build"
        )
    return manifest


def require_live(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The live build and its manifest; NoIndexError when there is none."""
    build = live_build(index_dir)
    if build is None:
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
    os.replace(tmp, index_dir / CURRENT)
    _fsync_path(index_dir)


def cleanup(index_dir: Path, *, keep: int = KEEP_BUILDS) -> None:
    """Remove builds older than the newest `keep` finished ones, and any unfinished leftovers."""
    try:
        live = live_build(index_dir)
    except IndexCorruptError:
        live = None  # a broken CURRENT is what this build is about to replace
    builds = sorted(p for p in index_dir.glob("build-*") if p.is_dir())
    finished = [p for p in builds if (p / MANIFEST).is_file()]
    keep_set = set(finished[-keep:]) | ({live} if live else set())
    for folder in builds:
        if folder not in keep_set:
            shutil.rmtree(folder, ignore_errors=True)
    for tmp in index_dir.glob(f".{CURRENT}.*.tmp"):
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index folder's build lock; a second build fails at once instead of waiting."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexCorruptError(
            f"{index_dir} is a file, not an index folder. Give --index a folder."
        )
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / LOCK, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLockedError(
                f"Another build is running on {index_dir}. Wait for it to finish, then try again."
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def folder_bytes(folder: Path) -> int:
    """Bytes used by the files directly in `folder`."""
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
