"""Milvus engine (being written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coverage_search.engine.base import BuildContent, Engine, EngineWriter
from coverage_search.errors import EngineError


class MilvusEngine(Engine):
    @classmethod
    def open(cls, build_dir: Path, manifest: dict[str, Any]) -> Engine:
        raise EngineError("The Milvus engine is not available in this version.")


class MilvusWriter(EngineWriter):
    def __init__(self, build_dir: Path, *, uri: str | None) -> None:
        raise EngineError("The Milvus engine is not available in this version.")

    def write(self, content: BuildContent) -> dict[str, Any]:
        raise NotImplementedError
