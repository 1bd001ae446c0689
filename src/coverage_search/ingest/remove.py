"""Take documents out of corpus/: by doc id, path or URL, a PDF with its metadata sidecar."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from coverage_search.errors import CoverageSearchError
from coverage_search.ingest.catalog import CorpusCatalog, corpus_lock
from coverage_search.records import FailedItem, RemoveReport
from coverage_search.sources.urls import has_web_scheme


def remove_documents(refs: Sequence[str], *, corpus_dir: str | Path) -> RemoveReport:
    """Delete corpus files named by doc id, path or URL; unknown ones are reported, not fatal."""
    from coverage_search.sources.files import sidecars

    corpus = Path(corpus_dir)
    removed: list[str] = []
    failed: list[FailedItem] = []
    with corpus_lock(corpus):
        # Every name is resolved before any file goes: a document named twice (its doc id and
        # its path) is one document, where the second name was "no document matches" (exit 1).
        found: dict[str, str] = {}
        for ref in refs:
            try:
                found.setdefault(resolve_document(ref, corpus), ref)
            except CoverageSearchError as exc:
                failed.append(FailedItem(ref, str(exc)))
        for doc_id, ref in found.items():
            path = corpus / doc_id
            try:
                path.unlink()
            except OSError as exc:
                failed.append(FailedItem(ref, f"cannot delete it ({exc.strerror or exc})"))
                continue
            if path.suffix.lower() == ".pdf":
                for sidecar in sidecars(path):
                    sidecar.unlink(missing_ok=True)  # a PDF's metadata goes with it
            removed.append(doc_id)
    return RemoveReport(tuple(removed), tuple(failed))


def resolve_document(ref: str, corpus: Path) -> str:
    """The doc id of a corpus file given as doc id, path (absolute or relative) or URL."""
    from coverage_search.errors import DocumentNotFoundError
    from coverage_search.sources.scan import corpus_document_id

    for candidate in (corpus / ref, Path(ref).expanduser()):
        if doc_id := corpus_document_id(candidate, corpus):
            return doc_id
    if has_web_scheme(ref) and (found := CorpusCatalog.scan(corpus).find_url(ref)):
        return found
    raise DocumentNotFoundError(
        f"No document in {corpus} matches {ref!r}. Give its file name (doc id), path or URL."
    )
