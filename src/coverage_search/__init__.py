"""coverage-search: semantic search over news coverage, with answers that cite the exact passage."""

__version__ = "0.1.0"

from .errors import (  # noqa: E402
    BuildLockedError,
    CorpusError,
    CoverageSearchError,
    FetchError,
    IndexCorruptError,
    IndexMismatchError,
    ModelError,
    NoIndexError,
    QueryError,
    SourceError,
    UploadError,
)
from .index import CoverageIndex  # noqa: E402
from .records import (  # noqa: E402
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
from .search import MODES, SearchSettings  # noqa: E402
from .uploads import StoredUpload, store_upload  # noqa: E402

__all__ = [
    "MODES",
    "Answer",
    "BuildLockedError",
    "BuildReport",
    "Citation",
    "CorpusError",
    "CoverageIndex",
    "CoverageSearchError",
    "Document",
    "FetchError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexStats",
    "ModelError",
    "NoIndexError",
    "QueryError",
    "RelatedLink",
    "RetrieverHit",
    "SearchHit",
    "SearchSettings",
    "Skipped",
    "SourceError",
    "StoredUpload",
    "StoryCopy",
    "UploadError",
    "__version__",
    "store_upload",
]
