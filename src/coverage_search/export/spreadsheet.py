"""The answer and its passages as CSV, every cell safe from spreadsheet formula injection."""

from __future__ import annotations

import csv
import io

from coverage_search.export.searched import searched_differently
from coverage_search.records import Answer
from coverage_search.sources.urls import is_web_url

COLUMNS = (
    "kind", "number", "title", "outlet", "published", "author", "url", "link", "doc_id",
    "page", "score", "text", "cited", "searched_as",
)  # fmt: skip
# A cell a spreadsheet would run as a formula (OWASP's list), also after leading spaces.
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")


def safe_cell(value: object) -> str:
    """Text for a CSV cell: one starting (after spaces) like a formula gets a leading quote.

    Numbers the export writes itself (a negative score) stay numbers.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    text = "" if value is None else str(value)
    if text.startswith(_TRIGGERS) or text.lstrip().startswith(_TRIGGERS):
        return "'" + text
    return text


def answer_csv(answer: Answer) -> str:
    """A header, one `answer` row (the text with [n] markers, and the question as searched
    when that differs), then one row per passage."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    text = answer.text if answer.found else answer.message
    head = ("answer", "", answer.question, "", "", "", "", "", "", "", "", text, "",
            searched_differently(answer))  # fmt: skip
    writer.writerow([safe_cell(v) for v in head])
    for number, hit in enumerate(answer.hits, start=1):
        cited = " ".join(c.sentence for c in answer.sentences if c.number == number)
        row = (
            "passage", number, hit.title, hit.outlet, hit.published, hit.author,
            hit.url if is_web_url(hit.url) else "",  # only an address a reader can open
            hit.link, hit.doc_id, hit.page or "", round(hit.score, 4), hit.text, cited, "",
        )  # fmt: skip
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()
