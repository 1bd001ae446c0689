"""SQLite, owned here for the whole package: connections, damage, batching, filters as SQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TypeVar

from coverage_search.records import RelatedLink, SearchFilters

T = TypeVar("T")
BATCH = 500  # bound values per statement, well under SQLite's limit


def damaged(exc: BaseException) -> bool:
    """True when SQLite says the file is not a (sound) database, rather than busy or full."""
    return isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorname", "") in (
        "SQLITE_CORRUPT",
        "SQLITE_NOTADB",
    )


def remove_database(path: Path) -> None:
    """Delete a database file with its journals, so the next open starts afresh."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def batched(items: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most `size` items."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open a database; read-only connections treat the finished build as immutable."""
    if readonly:
        # A finished build never changes, so SQLite may skip locking (faster, no -wal files).
        conn = sqlite3.connect(
            f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
    else:
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode=OFF")  # a killed build throws the whole folder away
        conn.execute("PRAGMA synchronous=OFF")  # the folder is fsynced once, before the switch
        conn.execute("PRAGMA cache_size=-65536")  # FTS5 merges its segments in memory
    return conn


def outlet_key(outlet: str | None) -> str | None:
    """Outlet names compare case- and space-insensitively."""
    return " ".join(outlet.casefold().split()) if outlet else None


def related_json(related: Sequence[RelatedLink]) -> str:
    return json.dumps(
        [{k: v for k, v in asdict(r).items() if v is not None} for r in related], ensure_ascii=False
    )


def related_from_json(raw: str) -> tuple[RelatedLink, ...]:
    return tuple(RelatedLink(**item) for item in json.loads(raw))


def filter_sql(filters: SearchFilters, alias: str = "d") -> tuple[str, list[object]]:
    """A WHERE fragment on documents (as `alias`) for the filters, with its bound values."""
    clauses: list[str] = []
    params: list[object] = []
    if filters.outlets:
        keys = [outlet_key(o) for o in filters.outlets]
        clauses.append(f"{alias}.outlet_key IN ({', '.join('?' * len(keys))})")
        params.extend(keys)
    if filters.since:
        clauses.append(f"{alias}.published >= ?")
        params.append(filters.since)
    if filters.until:
        # Inclusive of the whole day, also when `published` carries a time.
        clauses.append(f"substr({alias}.published, 1, 10) <= ?")
        params.append(filters.until)
    if filters.language:
        clauses.append(f"lower({alias}.language) = lower(?)")
        params.append(filters.language)
    return (" AND ".join(clauses) or "1"), params


def passing_documents(filters: SearchFilters) -> tuple[str, list[object]]:
    """A WHERE fragment on `p` (passages): it stands for a document (or exact copy) that passes."""
    where, params = filter_sql(filters)
    return passing(where), params


def passing(where: str) -> str:
    """passing_documents's fragment for a filter_sql fragment `where` on `d`."""
    return f"p.document IN (SELECT d.indexed_as FROM documents d WHERE {where})"
