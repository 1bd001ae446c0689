"""Opening corpus files: only regular files inside the corpus, never through a link leaving it.

Every read of a corpus file goes through `read_inside`. It resolves the path, refuses a target
outside the corpus, then opens it one folder at a time from the corpus root with O_NOFOLLOW,
so a link swapped in after the check cannot lead the open elsewhere either.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any

from coverage_search.sources.markdown import whole_characters
from coverage_search.sources.reading import Unreadable

_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
# Linux opens no path of PATH_MAX bytes or more, and os.walk silently skips a folder it cannot
# list: what is nested that deep is listed to be named in the report, never entered or read
# (one such file stopped the whole build with "File name too long").
PATH_MAX = 4096
TOO_DEEP = (
    "nested too deep for the system to open (a path over 4,095 bytes): "
    "move it nearer the top of the corpus"
)


def fits(path: Path) -> bool:
    """Whether the system can open `path`: its absolute form is under PATH_MAX bytes."""
    return len(os.fsencode(os.path.abspath(path))) < PATH_MAX


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file under corpus_dir that is not hidden and not in a hidden folder, sorted, with
    each link to a folder and each folder too deep to open, so that the report names them."""
    found: list[Path] = []
    for root, dirs, files in os.walk(corpus_dir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]  # .git, .obsidian, ...
        found.extend(Path(root, f) for f in files if not f.startswith("."))
        deep = {d for d in dirs if not fits(Path(root, d))}
        found.extend(Path(root, d) for d in deep)
        dirs[:] = [d for d in dirs if d not in deep]
        # os.walk does not enter links to folders; they are listed, so the report names them.
        found.extend(p for d in dirs if (p := Path(root, d)).is_symlink())
    return sorted(found, key=lambda p: p.relative_to(corpus_dir).as_posix())


def is_utf8_name(name: str) -> bool:
    """False for a name holding bytes that are not UTF-8 (Python shows them as lone surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown_name(rel: str) -> str:
    """A file name for a one-line notice: undecodable bytes as \\xNN, line breaks escaped."""
    if not is_utf8_name(rel):
        return os.fsencode(rel).decode("utf-8", "backslashreplace")
    return rel if rel.isprintable() else repr(rel)


def link_problem(path: Path, root: Path) -> tuple[str, bool] | None:
    """Why a link is not read (reason, is it an error), or None for a file or a link inside.

    `root` is the corpus folder, resolved.
    """
    if not path.is_symlink():
        return None
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        return "a link to nothing (its target is missing)", True
    except (OSError, RuntimeError):  # RuntimeError: Python 3.11's word for a link loop
        return "a link that loops back on itself", True
    if not target.is_relative_to(root):
        # Indexing it would publish, say, /etc/passwd to whoever can search the corpus.
        return "a link to a file outside the corpus", False
    return None


def is_file_inside(path: Path, root: Path) -> bool:
    """True when `path` is (or links to) a regular file inside the folder `root`."""
    try:
        real = path.resolve(strict=True)
        return real.is_relative_to(root.resolve()) and real.is_file()
    except (OSError, RuntimeError):
        return False


def read_inside(path: Path, root: Path, limit: int) -> bytes:
    """The bytes of `path`, a regular file of at most `limit` bytes inside the folder `root`.

    Raises Unreadable with the reason otherwise (outside, a pipe or device, too large).
    """
    try:
        base = root.resolve(strict=True)
        real = path.resolve(strict=True)
    except FileNotFoundError:
        raise Unreadable("cannot read the file (it is not there)") from None
    except (OSError, RuntimeError):
        raise Unreadable("a link that loops back on itself") from None
    if not real.is_relative_to(base) or real == base:
        raise Unreadable("a link to a file outside the corpus")
    try:
        fd = _open_below(base, real.relative_to(base).parts)
    except OSError as exc:
        raise Unreadable(f"cannot read the file ({exc.strerror or exc})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(fd)
        if info.st_size > limit and stat.S_ISREG(info.st_mode):
            raise Unreadable(_too_large(info.st_size, limit))
        # Reading a FIFO or a device would never end.
        raise Unreadable("not a regular file (a pipe or a device?): leave it out")
    with os.fdopen(fd, "rb") as fh:
        try:
            data = fh.read(limit + 1)
        except OSError as exc:
            raise Unreadable(f"cannot read the file ({exc.strerror or exc})") from None
    if len(data) > limit:  # it grew while being read
        raise Unreadable(_too_large(len(data), limit))
    return data


def _open_below(base: Path, parts: tuple[str, ...]) -> int:
    """A read-only descriptor of base/parts, each folder and the file opened without following."""
    folder = os.open(base, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        for part in parts[:-1]:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW, dir_fd=folder)
            os.close(folder)
            folder = inner
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        return os.open(parts[-1], os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW, dir_fd=folder)
    finally:
        with contextlib.suppress(OSError):
            os.close(folder)


def _too_large(size: int, limit: int) -> str:
    return f"too large for one article ({_size(size)}; the limit is {_size(limit)}): split it"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    return f"{n / 1024:.1f} KiB" if n >= 1024 else f"{n} bytes"


SIDECAR_SUFFIXES = (".yml", ".yaml")  # `report.pdf.yml` holds the metadata of `report.pdf`


def is_sidecar(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(".pdf" + s) for s in SIDECAR_SUFFIXES)


def sidecars(pdf: Path) -> list[Path]:
    """The files beside a PDF named like its sidecar (`report.pdf.yml`), in any letter case."""
    wanted = {(pdf.name + s).casefold() for s in SIDECAR_SUFFIXES}
    try:
        return sorted(p for p in pdf.parent.iterdir() if p.name.casefold() in wanted)
    except OSError:
        return []


def sidecar_path(pdf: Path, corpus_dir: Path) -> Path | None:
    """The PDF's sidecar; one that links out of the corpus is no sidecar (the scan says so)."""
    return next((p for p in sidecars(pdf) if is_file_inside(p, corpus_dir)), None)


STATE_FILE_LIMIT = 64 * 1024 * 1024  # feeds and saved searches: a few KB each


def read_state_file(path: Path, limit: int = STATE_FILE_LIMIT) -> bytes | None:
    """The bytes of a state file the tool keeps in the corpus (.feeds.json, .watches.json), or
    None when there is none. Like corpus files, never through a link, never from a pipe (which
    would block) or a device (/dev/zero would fill memory), never past `limit`: OSError."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OSError("a link, not a file" if os.path.islink(path) else exc.strerror) from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file (a pipe or a device?)")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"over {limit // 2**20} MB")
    return data


def open_lock(path: Path) -> Any:
    """A lock file, created if need be, opened for flock: never through a link (one would let
    the lock create or touch a file anywhere the link points). OSError for a link."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o666)
    except OSError as exc:
        raise OSError(
            f"{path} is a link or not a file ({exc.strerror}): remove it"
            if os.path.lexists(path)
            else exc.strerror
        ) from None
    return os.fdopen(fd, "r+b")


def valid_data(value: object) -> object:
    """Data read from JSON with every string, key or value, made whole characters: a file's
    `\\ud800` escape decodes to half a character, which no file or terminal takes (U+FFFD)."""
    if isinstance(value, str):
        return whole_characters(value)
    if isinstance(value, list):
        return [valid_data(v) for v in value]
    if isinstance(value, dict):
        return {valid_data(k): valid_data(v) for k, v in value.items()}
    return value
