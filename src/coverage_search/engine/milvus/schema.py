"""The passages collection: its fields, analyzer, indexes and name, and rows for it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from coverage_search.engine.local.vectors import (
    GRAPH_MAX,
    HNSW_EF_CONSTRUCTION,
    HNSW_EF_SEARCH,
    HNSW_M,
)

MAX_VARCHAR = 65_535  # bytes, Milvus' largest VARCHAR
INSERT_BATCH = 1_000  # milvus-lite 2.5 slows down 13x at 5,000 rows a batch
MAX_LIMIT = 16_384  # Milvus' largest top-k

# The local engine's FTS5 tokenizer is "porter unicode61 remove_diacritics 2": words of letters
# and digits, lowercased, accents folded, Porter-stemmed. Milvus' nearest: the standard
# tokenizer, lowercase, asciifolding (café = cafe, also ß = ss) and the Snowball English
# stemmer (Porter's successor). No stop words, as in FTS5: query/terms.py drops glue words.
STEMMED = {
    "tokenizer": "standard",
    "filter": ["lowercase", "asciifolding", {"type": "stemmer", "language": "english"}],
}
UNSTEMMED = {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]}
BM25 = {"inverted_index_algo": "DAAT_MAXSCORE", "bm25_k1": 1.2, "bm25_b": 0.75}  # FTS5's k1, b


def collection_name(build_dir: Path) -> str:
    """`cs_<index key>_<build folder>`: one collection per build, its index folder in the name.

    The key (a hash of the index folder's path) keeps the builds of several index folders
    apart on one server, so a publish drops only its own index's old collections.
    """
    return f"{index_prefix(build_dir.parent)}{re.sub(r'[^A-Za-z0-9_]', '_', build_dir.name)}"


def index_prefix(index_dir: Path) -> str:
    key = hashlib.sha256(str(index_dir.resolve()).encode()).hexdigest()[:10]
    return f"cs_{key}_"


def vector_kind(passages: int, *, lite: bool) -> str:
    """Exact search up to GRAPH_MAX passages (where the local engine leaves HNSW for IVF), then
    HNSW (not in Milvus Lite)."""
    return "flat" if lite or passages <= GRAPH_MAX else "hnsw"


def make_schema(pymilvus: Any, *, dimension: int, stemming: bool) -> Any:
    """One row per passage; `keywords` is title + heading + text, BM25'd into `sparse`.

    FTS5's bm25() with weights 1, 1, 1 scores a row as one text of all its columns (term
    counts summed, length = all columns), which is BM25 over this one field. Passage text and
    positions stay in the side database: only what search needs lives in Milvus.
    """
    data_type = pymilvus.DataType
    schema = pymilvus.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", data_type.INT64, is_primary=True)
    schema.add_field("doc", data_type.INT64)  # row of the document in the side database
    schema.add_field(
        "keywords",
        data_type.VARCHAR,
        max_length=MAX_VARCHAR,
        enable_analyzer=True,
        analyzer_params=STEMMED if stemming else UNSTEMMED,
    )
    schema.add_field("sparse", data_type.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", data_type.FLOAT_VECTOR, dim=dimension)
    # Milvus Lite 2.5 has no nullable fields (and default "" breaks it): "" and -1 mean unknown.
    schema.add_field("outlet", data_type.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("published", data_type.INT64)  # YYYYMMDD, -1 when unknown
    schema.add_field("language", data_type.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_function(
        pymilvus.Function(
            name="keywords_bm25",
            function_type=pymilvus.FunctionType.BM25,
            input_field_names=["keywords"],
            output_field_names=["sparse"],
        )
    )
    return schema


def index_params(client: Any, kind: str) -> Any:
    params = client.prepare_index_params()
    if kind == "hnsw":  # the local engine's HNSW settings
        params.add_index(
            field_name="dense",
            index_type="HNSW",
            metric_type="IP",
            params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION},
        )
    else:
        params.add_index(field_name="dense", index_type="FLAT", metric_type="IP")
    params.add_index(
        field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params=BM25
    )
    return params


def dense_params(kind: str, limit: int) -> dict[str, Any]:
    if kind == "hnsw":
        return {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, limit)}}
    return {"metric_type": "IP"}


def clip(text: str, limit: int = MAX_VARCHAR) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, on a character boundary."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")
