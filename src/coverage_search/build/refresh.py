"""After an add, update or remove: one incremental build that brings the index in step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from coverage_search.arguments import folder_path
from coverage_search.build import layout
from coverage_search.errors import BuildLockedError, CorpusError, IndexCorruptError
from coverage_search.records import BuildReport

LOCK_WAIT = 300.0  # seconds add, update and remove wait for a build already running
# A corpus folder other than the recorded one is taken as the same corpus, moved, when it holds
# this share of the index's documents (a few may have been removed since).
MOVED_SHARE = 0.9


def _has_live_build(index_dir: Path) -> bool:
    try:
        return layout.live_build(index_dir) is not None
    except IndexCorruptError:
        return False


def ingest_folders(corpus_dir: object, index_dir: object) -> tuple[Path, Path]:
    """The corpus and index folders of an add, update or remove, checked (check_corpus)."""
    corpus, index = folder_path(corpus_dir, "corpus_dir"), folder_path(index_dir, "index_dir")
    check_corpus(corpus, index)
    return corpus, index


def check_corpus(corpus_dir: str | Path, index_dir: str | Path) -> None:
    """Refuse (CorpusError) a change to a corpus that is not the one the live build was built
    from: with a mistyped --corpus, the build that follows would replace the index's documents
    with that folder's. Builds from before the corpus was recorded are not checked. add,
    update and remove call it; an app that saves files into a corpus calls it first too."""
    corpus_dir, index_dir = (
        folder_path(corpus_dir, "corpus_dir"),
        folder_path(index_dir, "index_dir"),
    )
    layout.not_a_build(index_dir)  # before the corpus changes, not at the build after it
    try:
        build, manifest = layout.require_live(Path(index_dir))
    except Exception:  # no index yet, or an unreadable one that the next build replaces
        return
    built_from = manifest.get("corpus_path")
    if not isinstance(built_from, str):
        return
    try:
        here = Path(corpus_dir).resolve()
    except (OSError, RuntimeError):
        here = Path(corpus_dir).absolute()
    if layout.same_corpus(here, built_from) or _holds_its_documents(here, build, manifest):
        return
    rebuild = f"coverage-search build --corpus {corpus_dir} --index {index_dir}"
    if not Path(built_from).is_dir():
        raise CorpusError(
            f"The index at {index_dir} was built from {built_from}, which is gone, and "
            f"{corpus_dir} does not hold its documents: rebuild the index from it with {rebuild}."
        )
    raise CorpusError(
        f"The index at {index_dir} was built from {built_from}, not {corpus_dir}: pass "
        f"--corpus {built_from}, or rebuild the index from this folder with {rebuild}."
    )


def _holds_its_documents(corpus: Path, build: Path, manifest: dict[str, Any]) -> bool:
    """True when `corpus` holds (by name) nine in ten of the live build's documents: the same
    corpus, moved or copied with the project (the next build that changes the index records
    its new place; until then each change checks this again)."""
    from coverage_search.engine.factory import open_engine

    try:
        engine = open_engine(build, manifest)
        try:
            ids = [doc_id for doc_id, _, _ in engine.documents()]
        finally:
            engine.close()
    except Exception:  # an unreadable build: the mismatch stands
        return False
    # An index with no documents has none to lose: any corpus may fill it.
    return sum((corpus / i).exists() for i in ids) >= MOVED_SHARE * len(ids)


def refresh_index(
    changed: bool,
    *,
    needed: bool = True,
    corpus_dir: str | Path,
    index_dir: str | Path,
    model: str | None = None,
    progress: bool = True,
) -> BuildReport | None:
    """Bring the index in step with corpus/ after an add, update or remove; None if it was.

    Always an incremental build, even when this run changed nothing: an earlier run whose build
    could not happen (another build held the lock, the process was killed) left corpus/ ahead
    of the index, and this is where that is repaired. It costs a scan when nothing changed.
    A running build is waited for, up to LOCK_WAIT seconds. `needed=False` (the run touched
    nothing) skips the build while there is a live one.
    """
    from coverage_search.build.run import build_index  # numpy and the model: only when building

    if not needed and _has_live_build(Path(index_dir)):
        return None

    try:
        report = build_index(
            Path(corpus_dir), Path(index_dir), model=model, progress=progress,
            wait_for_lock=LOCK_WAIT, allow_empty=changed,  # this run removed the last document
        )  # fmt: skip
    except BuildLockedError:
        if not changed:
            raise
        raise BuildLockedError(
            f"Another build is still running on {index_dir} after {LOCK_WAIT:g} s, so {corpus_dir}"
            " changed but the index did not yet. Run: coverage-search build once it is done."
        ) from None
    return report if changed or report.changed else None
