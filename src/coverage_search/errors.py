"""Named errors; the CLI and the app turn each into one sentence that says what to do next."""

from __future__ import annotations


class CoverageSearchError(Exception):
    """Base of every error this package raises on purpose; its message is one user-facing line."""


class NoIndexError(CoverageSearchError):
    """There is no built index in the folder."""


class IndexMismatchError(CoverageSearchError):
    """The index was built with another model, settings or a newer format."""


class IndexCorruptError(CoverageSearchError):
    """The index folder exists but its files cannot be read."""

    @classmethod
    def damaged(cls, index_dir: object, problem: str) -> IndexCorruptError:
        """The one sentence for every kind of damage: what is wrong, and the build that repairs it.

        `problem` names files and fields only, never their content (it may be document text).
        """
        return cls(f"The index at {index_dir} is damaged ({problem}). Run: coverage-search build")


class BuildLockedError(CoverageSearchError):
    """Another build is writing the same index folder."""


class CorpusError(CoverageSearchError):
    """The corpus folder is missing or unusable as a whole."""


class SourceError(CoverageSearchError):
    """One corpus file cannot be read; the build reports it and goes on."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class QueryError(CoverageSearchError):
    """The query or one of its options is unusable (empty question, bad date, unknown mode)."""


class ModelError(CoverageSearchError):
    """The embedding model cannot be found or loaded."""


class FetchError(CoverageSearchError):
    """A URL or feed could not be fetched or read."""

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, lasting: bool = False
    ) -> None:
        where = f"{url}: HTTP {status}: {reason}" if status else f"{url}: {reason}"
        super().__init__(where)
        self.url = url
        self.reason = reason
        self.status = status
        # No retry can fix it (a URL the rules refuse): a feed entry that fails so is given up.
        self.lasting = lasting


class UploadError(CoverageSearchError):
    """A file given to the app or `add` cannot be stored in the corpus."""


class EvalDataError(CoverageSearchError):
    """An evaluation collection (BEIR corpus, queries or qrels file) is missing or malformed."""


class DocumentNotFoundError(CoverageSearchError):
    """`remove` was given a doc id, path or URL that names no file in the corpus."""


class EngineError(CoverageSearchError):
    """An engine that is unknown, not installed, or not reachable."""
