"""coverage-search: semantic search over news coverage, with answers that cite the exact passage."""

__version__ = "0.1.0"

from .embedding import BACKENDS, DEFAULT_BACKEND
from .errors import (
    BuildLockedError,
    CorpusError,
    CoverageSearchError,
    DocumentNotFoundError,
    EvalDataError,
    FetchError,
    IndexCorruptError,
    IndexMismatchError,
    ModelError,
    NoIndexError,
    QueryError,
    SourceError,
    UploadError,
)
from .evaluation import EvalReport, ModeMetrics, evaluate, load_beir
from .feeds import Feed, FeedCheck, list_feeds
from .index import CoverageIndex
from .ingest import AddedItem, AddReport, FailedItem, RemoveReport
from .records import (
    Answer,
    BuildReport,
    Citation,
    Document,
    IndexStats,
    RelatedLink,
    RetrieverHit,
    SearchHit,
    Skipped,
    StoryCopy,
)
from .search import MODES, SearchSettings
from .uploads import StoredUpload, store_upload

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "MODES",
    "AddReport",
    "AddedItem",
    "Answer",
    "BuildLockedError",
    "BuildReport",
    "Citation",
    "CorpusError",
    "CoverageIndex",
    "CoverageSearchError",
    "Document",
    "DocumentNotFoundError",
    "EvalDataError",
    "EvalReport",
    "FailedItem",
    "Feed",
    "FeedCheck",
    "FetchError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexStats",
    "ModeMetrics",
    "ModelError",
    "NoIndexError",
    "QueryError",
    "RelatedLink",
    "RemoveReport",
    "RetrieverHit",
    "SearchHit",
    "SearchSettings",
    "Skipped",
    "SourceError",
    "StoredUpload",
    "StoryCopy",
    "UploadError",
    "__version__",
    "evaluate",
    "list_feeds",
    "load_beir",
    "store_upload",
]
