"""Store an uploaded file into corpus/: safe name, no overwrite, size cap, readable or gone."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from coverage_search.arguments import folder_path, whole_number
from coverage_search.errors import CoverageSearchError, UploadError

UPLOAD_FORMATS = {
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a long PDF report; more than that is not an article
_MB = 1024 * 1024  # a "MB" as Streamlit's server.maxUploadSize counts it
_MAX_STEM = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class StoredUpload:
    """Where an upload landed in the corpus, and whether it was already there."""

    path: Path
    doc_id: str  # path relative to the corpus folder, as the index names documents
    existing: bool  # True: the very same bytes were already in the corpus; nothing was written


def safe_filename(filename: str) -> str:
    """A plain file name made of [A-Za-z0-9._-] with a readable format extension.

    Directory parts (either slash), leading dots, control and non-ASCII characters are dropped,
    so no name can escape the corpus folder or hide itself.
    """
    base = re.split(r"[\\/]", filename.strip())[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    stem, dot, ext = base.rpartition(".")
    suffix = f".{ext.lower()}" if dot else ""
    if suffix not in UPLOAD_FORMATS:
        kinds = ", ".join(sorted({f".{k}" for k in UPLOAD_FORMATS.values()}))
        raise UploadError(
            f"{filename or 'The file'} is not a format the index reads; upload {kinds} files."
        )
    stem = _UNSAFE.sub("-", stem).strip(".-_")[:_MAX_STEM].strip(".-_")
    return f"{stem or 'upload'}{suffix}"


def upload_limits(max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """The size limits of an upload of at most `max_bytes`, per kind of file, as one phrase."""
    pdf, text = _limits(whole_number(max_bytes, "max_bytes", least=1))
    return f"PDF files up to {_mb(pdf)}; Markdown, text and HTML files up to {_mb(text)}"


def _limits(max_bytes: int) -> tuple[int, int]:
    """(PDF, text) upload limits: `max_bytes`, within what the corpus readers read."""
    from coverage_search.sources.scan import MAX_PDF_BYTES, MAX_TEXT_BYTES

    return min(max_bytes, MAX_PDF_BYTES), min(max_bytes, MAX_TEXT_BYTES)


def _mb(n: int) -> str:
    return f"{n / _MB:.0f} MB" if n % _MB == 0 or n >= 10 * _MB else f"{n / _MB:.1f} MB"


def check_upload_bytes(filename: str, data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse empty, oversized or mislabelled content before anything touches the corpus."""
    kind = UPLOAD_FORMATS[Path(safe_filename(filename)).suffix]
    if not data.strip():
        raise UploadError(f"{filename} is empty; nothing was added.")
    pdf, text = _limits(max_bytes)
    limit = pdf if kind == "pdf" else text  # the corpus readers' own caps, said up front
    if len(data) > limit:
        raise UploadError(
            f"{filename} is {len(data) / _MB:.1f} MB; uploads are capped at {_mb(limit)} "
            f"({upload_limits(max_bytes)})."
        )
    if kind == "pdf" and not data.lstrip()[:5] == b"%PDF-":
        raise UploadError(f"{filename} is not a PDF (it does not start with %PDF-).")
    # Text encodings and markup are judged by the corpus readers themselves (store_upload).


def store_upload(
    corpus_dir: Path, filename: str, data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES
) -> StoredUpload:
    """Write `data` into `corpus_dir` under a safe, unused name; identical bytes are a no-op.

    The file is then read back with the corpus readers; if that fails it is removed again and
    UploadError says why, so a bad upload leaves the corpus exactly as it was.
    """
    corpus_dir = folder_path(corpus_dir, "corpus_dir")
    if not isinstance(filename, str):
        raise UploadError(f"The file name must be text, not {type(filename).__name__}.")
    if not isinstance(data, bytes | bytearray):
        raise UploadError(f"An upload's content must be bytes, not {type(data).__name__}.")
    data = bytes(data)
    check_upload_bytes(filename, data, max_bytes=whole_number(max_bytes, "max_bytes", least=1))
    corpus_dir.mkdir(parents=True, exist_ok=True)
    name = safe_filename(filename)
    digest = hashlib.sha256(data).digest()
    stem, suffix = name[: -len(Path(name).suffix)], Path(name).suffix
    for n in range(1, 1000):
        target = corpus_dir / (name if n == 1 else f"{stem}-{n}{suffix}")
        if os.path.lexists(target):
            if _same_file(target, corpus_dir, data, digest):
                return StoredUpload(target, target.name, existing=True)
            continue
        try:
            with open(target, "xb") as fh:  # "x": never replace a file that appeared meanwhile
                fh.write(data)
        except FileExistsError:
            continue
        except OSError as exc:
            with contextlib.suppress(OSError):
                target.unlink()
            raise UploadError(f"Cannot save {name} into {corpus_dir} ({exc.strerror}).") from exc
        _check_readable(corpus_dir, target, filename)
        return StoredUpload(target, target.name, existing=False)
    raise UploadError(f"Too many files named like {name} in {corpus_dir}; rename the file.")


def _same_file(target: Path, corpus_dir: Path, data: bytes, digest: bytes) -> bool:
    """True when `target` is a file inside the corpus holding exactly `data`."""
    from coverage_search.sources.files import read_inside
    from coverage_search.sources.reading import Unreadable

    try:
        return hashlib.sha256(read_inside(target, corpus_dir, len(data))).digest() == digest
    except Unreadable:
        return False


def _check_readable(corpus_dir: Path, target: Path, filename: str) -> None:
    """Read the stored file as the build will; on failure remove it and explain."""
    from coverage_search.sources.scan import read_document

    try:
        read_document(target, corpus_dir)
    except CoverageSearchError as exc:
        target.unlink(missing_ok=True)
        reason = getattr(exc, "reason", str(exc))
        raise UploadError(f"{filename} cannot be read: {reason}. Nothing was added.") from exc
    except Exception as exc:  # a reader bug must not leave a half-added file behind
        target.unlink(missing_ok=True)
        raise UploadError(
            f"{filename} cannot be read ({type(exc).__name__}). Nothing was added."
        ) from exc
