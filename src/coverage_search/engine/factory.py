"""Engines by name: open the one a manifest records, or make a writer for a new build."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coverage_search.engine.base import DocumentSource, Engine, EngineWriter
from coverage_search.errors import EngineError

ENGINES = ("local", "milvus")
DEFAULT_ENGINE = "local"


def check_engine(name: str) -> str:
    """The engine name, or EngineError naming the choices."""
    if name not in ENGINES:
        raise EngineError(f"Unknown engine {name!r}: use one of {', '.join(ENGINES)}.")
    return name


def open_engine(build_dir: Path, manifest: dict[str, Any]) -> Engine:
    """The engine that holds a build's data (an index without one is the local engine)."""
    name = check_engine(str(manifest.get("engine") or DEFAULT_ENGINE))
    if name == "milvus":
        from coverage_search.engine.milvus import MilvusEngine

        return MilvusEngine.open(build_dir, manifest)
    from coverage_search.engine.local.engine import LocalEngine

    return LocalEngine(build_dir, manifest)


def open_documents(build_dir: Path, manifest: dict[str, Any]) -> DocumentSource:
    """A build's stored documents alone: no search index is loaded, no checksum checked.

    For readers that verify every document they take (the build cache hashes each one).
    """
    if check_engine(str(manifest.get("engine") or DEFAULT_ENGINE)) == "milvus":
        from coverage_search.engine.milvus.engine import DOCUMENTS, Documents

        return Documents(build_dir / DOCUMENTS)
    from coverage_search.engine.local.engine import DATABASE
    from coverage_search.engine.local.store import Store

    return Store(build_dir / DATABASE)


def engine_writer(name: str, build_dir: Path, *, uri: str | None = None) -> EngineWriter:
    """A writer that stores a new build in engine `name` (`uri`: where, for Milvus)."""
    if check_engine(name) == "milvus":
        from coverage_search.engine.milvus import MilvusWriter

        return MilvusWriter(build_dir, uri=uri)
    from coverage_search.engine.local.engine import LocalWriter

    return LocalWriter(build_dir)
