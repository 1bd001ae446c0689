"""The Milvus engine: the same data in Milvus (a Milvus Lite file by default, or a server)."""

from coverage_search.engine.milvus.engine import MilvusEngine
from coverage_search.engine.milvus.writer import MilvusWriter

__all__ = ["MilvusEngine", "MilvusWriter"]
