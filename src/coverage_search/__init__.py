"""coverage-search: semantic search over news coverage, with answers that cite the exact passage."""

__version__ = "0.1.0"

from coverage_search.api import CoverageIndex
from coverage_search.embed.embedder import BACKENDS, DEFAULT_BACKEND
from coverage_search.engine.factory import ENGINES
from coverage_search.errors import (
    BuildLockedError,
    CorpusError,
    CoverageSearchError,
    DocumentNotFoundError,
    EngineError,
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
from coverage_search.evaluation import EvalReport, ModeMetrics, evaluate, load_beir
from coverage_search.evaluation.qa import (
    QAOutcome,
    QAQuestion,
    QAReport,
    QAScores,
    evaluate_qa,
    load_qa,
    load_refusals,
)
from coverage_search.ingest.feeds import list_feeds
from coverage_search.ingest.uploads import StoredUpload, store_upload
from coverage_search.query.search import MODES
from coverage_search.query.settings import SearchSettings
from coverage_search.records import (
    AddedItem,
    AddReport,
    Answer,
    BuildReport,
    Citation,
    Document,
    FailedItem,
    Feed,
    FeedCheck,
    IndexStats,
    RelatedLink,
    RemoveReport,
    RetrieverHit,
    SearchHit,
    Skipped,
    StoryCopy,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "ENGINES",
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
    "EngineError",
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
    "QAOutcome",
    "QAQuestion",
    "QAReport",
    "QAScores",
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
    "evaluate_qa",
    "list_feeds",
    "load_beir",
    "load_qa",
    "load_refusals",
    "store_upload",
]
