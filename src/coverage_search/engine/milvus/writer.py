"""Writes one build into Milvus: a collection per build, old ones dropped once it is live."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.engine.base import BuildContent, EngineWriter, keyword_text
from coverage_search.engine.local.integrity import file_record
from coverage_search.engine.local.writer import write_content
from coverage_search.engine.milvus.client import (
    CALL_TIMEOUT,
    POOL,
    WRITE_TIMEOUT,
    check_uri,
    failures,
    is_lite,
    lite_is_damaged,
    pymilvus,
)
from coverage_search.engine.milvus.engine import DOCUMENTS, LITE_FILE
from coverage_search.engine.milvus.filters import day_number, language_value, outlet_value
from coverage_search.engine.milvus.schema import (
    INSERT_BATCH,
    clip,
    collection_name,
    index_params,
    index_prefix,
    make_schema,
    vector_kind,
)
from coverage_search.errors import EngineError
from coverage_search.records import Document, Passage


def passage_rows(
    documents: Sequence[Document],
    passages: Sequence[Sequence[Passage]],
    ids: Sequence[int],
    vectors: np.ndarray,
) -> Iterator[dict[str, Any]]:
    """One Milvus row per passage, in the flattened order of `ids` and `vectors`.

    Exact copies have no passages of their own (their first copy's stand for them), so each
    passage is one row, BM25 statistics match the local engine's, and a filter on a copy is
    resolved in the side database into `doc in [...]` (see filters.filter_expression).
    """
    flat = 0
    for row, (doc, group) in enumerate(zip(documents, passages, strict=True), start=1):
        outlet, day, language = (
            outlet_value(doc.outlet),
            day_number(doc.published),
            language_value(doc.language),
        )
        for p in group:
            yield {
                "id": int(ids[flat]),
                "doc": row,
                "keywords": clip(
                    keyword_text("\n".join(x for x in (doc.title, p.heading, p.text) if x))
                ),
                "dense": vectors[flat].tolist(),
                "outlet": outlet,
                "published": day,
                "language": language,
            }
            flat += 1


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class MilvusWriter(EngineWriter):
    """Stores one build: the side database in the build folder, the passages in Milvus.

    `uri`: a Milvus server (http://host:19530) or a Milvus Lite file; by default milvus.db in
    the index folder, shared by its builds (each has its own collection), so it survives them.
    """

    def __init__(self, build_dir: Path, *, uri: str | None = None) -> None:
        self.build_dir = build_dir
        self.index_dir = build_dir.parent
        if uri:
            checked = check_uri(uri)
            self.uri = os.path.abspath(checked) if is_lite(checked) else checked
            self._recorded = self.uri
        else:  # recorded relative to the index folder, which may then move
            self.uri, self._recorded = str(self.index_dir / LITE_FILE), LITE_FILE
        self.collection = collection_name(build_dir)
        self._client: Any = None
        self._created = False

    def write(self, content: BuildContent) -> dict[str, Any]:
        ids = write_content(self.build_dir / DOCUMENTS, content, keyword_index=False)
        client = self._connect()
        kind = vector_kind(len(ids), lite=is_lite(self.uri))
        schema = make_schema(
            pymilvus(), dimension=int(content.vectors.shape[1]), stemming=content.stemming
        )
        with failures(self.uri, f"create collection {self.collection}"):
            self._created = True  # creation is not atomic: a failed index leaves the collection
            client.create_collection(self.collection, schema=schema, timeout=WRITE_TIMEOUT)
            # On the empty collection the indexes are ready at once: sync=False only skips
            # pymilvus' fixed 0.5 s sleep per index before it asks.
            client.create_index(
                self.collection, index_params(client, kind), sync=False, timeout=WRITE_TIMEOUT
            )
            client.load_collection(self.collection, timeout=WRITE_TIMEOUT)
        rows = passage_rows(content.documents, content.passages, ids, content.vectors)
        with failures(self.uri, f"store passages in {self.collection}"):
            for batch in _batches(rows, INSERT_BATCH):
                client.insert(self.collection, batch, timeout=WRITE_TIMEOUT)
            client.flush(self.collection, timeout=WRITE_TIMEOUT)
            # Strong: waits until every row is visible, so the build goes live complete.
            counted = client.query(
                self.collection,
                filter="",
                output_fields=["count(*)"],
                consistency_level="Strong",
                timeout=WRITE_TIMEOUT,
            )
        stored = int(counted[0]["count(*)"]) if counted else 0
        if stored != len(ids):
            raise EngineError(
                f"Milvus holds {stored} of the {len(ids)} passages written to {self.collection}."
            )
        return {
            "milvus_uri": self._recorded,
            "milvus_collection": self.collection,
            "vector_index": kind,
            # The side database is checked on open like the local engine's files.
            "files": {DOCUMENTS: file_record(self.build_dir / DOCUMENTS)},
        }

    def _connect(self) -> Any:
        path = Path(self.uri)
        if is_lite(self.uri) and lite_is_damaged(path):
            # Nothing can read it (the live build fails too); keep it aside, start a new one.
            path.replace(path.with_name(path.name + ".damaged"))
        self._client = POOL.acquire(self.uri)
        return self._client

    def publish(self, kept: Collection[Path]) -> None:
        """The new build is live: drop this index's collections of builds no longer kept."""
        try:
            if self._client is not None:
                keep = {collection_name(p) for p in kept} | {self.collection}
                prefix = index_prefix(self.index_dir)
                with failures(self.uri, "drop old collections"):
                    for name in self._client.list_collections(timeout=CALL_TIMEOUT):
                        if name.startswith(prefix) and name not in keep:
                            self._client.drop_collection(name, timeout=CALL_TIMEOUT)
        except EngineError:
            pass  # the build is live; what is left over goes at the next publish
        finally:
            self._release()

    def discard(self) -> None:
        """The build failed: drop its collection; the previous build's stays live."""
        try:
            if self._client is not None and self._created:
                with failures(self.uri, f"drop collection {self.collection}"):
                    self._client.drop_collection(self.collection, timeout=CALL_TIMEOUT)
        except EngineError:
            pass  # dropped at the next publish, like the collection of a killed build
        finally:
            self._release()

    def _release(self) -> None:
        if self._client is not None:
            self._client = None
            with contextlib.suppress(EngineError):
                POOL.release(self.uri)
