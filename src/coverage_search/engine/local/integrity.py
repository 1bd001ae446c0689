"""Checksums of a local build's data files: recorded when written, verified on every open.

A bit flip, a truncated copy or a file swapped for another (even a valid one, of another
dimension) is caught before a single result is served from it.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from coverage_search.errors import IndexCorruptError

_CHUNK = 1024 * 1024
FileRecord = dict[str, Any]  # {"bytes": size, "sha256": hex digest}


def file_record(path: Path) -> FileRecord:
    """Size and SHA-256 of a file just written (SHA-256 is the fastest hashlib hash here)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        for chunk in _chunks(fh):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def check_file(
    path: Path, record: object, *, whole: bool = False, name: str | None = None
) -> bytes:
    """Verify `path` against its record (IndexCorruptError if it differs); its bytes if `whole`.

    `name`: the file's path inside its build folder (default: its name, a file of the folder).
    """
    name = name or path.name
    index_dir = path.parents[len(Path(name).parts)]
    if not _valid(record):
        raise IndexCorruptError.damaged(index_dir, f"the manifest has no valid checksum of {name}")
    assert isinstance(record, dict)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise IndexCorruptError.damaged(index_dir, f"{name} is missing") from None
    except OSError as exc:
        raise IndexCorruptError.damaged(
            index_dir, f"{name} cannot be read: {exc.strerror}"
        ) from None
    kept: list[bytes] = []
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size != record["bytes"]:
        os.close(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IndexCorruptError.damaged(index_dir, f"{name} is not a file")
        raise IndexCorruptError.damaged(
            index_dir, f"{name} is {info.st_size:,} bytes, not the {record['bytes']:,} written"
        )
    with os.fdopen(fd, "rb") as fh:
        digest = hashlib.sha256()
        try:
            for chunk in _chunks(fh):
                digest.update(chunk)
                if whole:
                    kept.append(chunk)
        except OSError as exc:
            raise IndexCorruptError.damaged(
                index_dir, f"{name} cannot be read: {exc.strerror}"
            ) from None
    if digest.hexdigest() != record["sha256"]:
        raise IndexCorruptError.damaged(index_dir, f"{name} does not match its checksum")
    return b"".join(kept)


def _valid(record: object) -> bool:
    return (
        isinstance(record, dict)
        and type(record.get("bytes")) is int
        and isinstance(record.get("sha256"), str)
    )


def _chunks(fh: BinaryIO) -> Iterator[bytes]:
    while chunk := fh.read(_CHUNK):
        yield chunk
