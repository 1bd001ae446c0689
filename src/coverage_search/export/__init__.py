"""An answer and its passages as Markdown, CSV or RIS, safe to open whatever the documents hold."""

from coverage_search.export.markdown import answer_markdown
from coverage_search.export.ris import answer_ris
from coverage_search.export.spreadsheet import answer_csv, safe_cell

FORMATS = ("markdown", "csv", "ris")
MEDIA_TYPES = {
    "markdown": "text/markdown",
    "csv": "text/csv",
    "ris": "application/x-research-info-systems",
}
SUFFIXES = {"markdown": ".md", "csv": ".csv", "ris": ".ris"}


def export_answer(answer: object, fmt: str) -> str:
    """The answer in `fmt` (one of FORMATS)."""
    from coverage_search.errors import QueryError
    from coverage_search.records import Answer

    if not isinstance(answer, Answer):
        raise QueryError("Only an answer (CoverageIndex.answer) can be exported.")
    if not isinstance(answer.question, str) or not isinstance(answer.searched_as, str):
        raise QueryError("An answer's question and searched_as must be text to be exported.")
    if fmt == "markdown":
        return answer_markdown(answer)
    if fmt == "csv":
        return answer_csv(answer)
    if fmt == "ris":
        return answer_ris(answer)
    raise QueryError(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")


__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "SUFFIXES",
    "answer_csv",
    "answer_markdown",
    "answer_ris",
    "export_answer",
    "safe_cell",
]
