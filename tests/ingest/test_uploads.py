"""Uploads land in corpus/ under a safe, unused name, or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from coverage_search import UploadError, store_upload
from coverage_search.ingest.uploads import safe_filename

ARTICLE = b"---\ntitle: A short story\n---\n\nAnthropic said something about Claude today.\n"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("story.md", "story.md"),
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\Windows\\evil.HTML", "evil.html"),
        (".hidden.txt", "hidden.txt"),
        ("Café Über story (final).PDF", "Cafe-Uber-story-final.pdf"),
        ("<script>.md", "script.md"),
        ("....md", "upload.md"),
        ("x" * 300 + ".txt", "x" * 80 + ".txt"),
    ],
)
def test_safe_filename(given: str, stored: str) -> None:
    assert safe_filename(given) == stored


@pytest.mark.parametrize("name", ["notes.docx", "archive.tar.gz", "README", "run.sh", ""])
def test_unsupported_formats_are_refused(name: str) -> None:
    with pytest.raises(UploadError, match="not a format the index reads"):
        safe_filename(name)


def test_same_name_never_overwrites_and_same_bytes_is_a_no_op(tmp_path: Path) -> None:
    first = store_upload(tmp_path, "story.md", ARTICLE)
    again = store_upload(tmp_path, "../story.md", ARTICLE)
    other = store_upload(tmp_path, "story.md", ARTICLE.replace(b"today", b"yesterday"))

    assert (first.doc_id, first.existing) == ("story.md", False)
    assert (again.doc_id, again.existing) == ("story.md", True)
    assert (other.doc_id, other.existing) == ("story-2.md", False)
    assert (tmp_path / "story.md").read_bytes() == ARTICLE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["story-2.md", "story.md"]


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("big.md", b"a" * 2048, "capped at"),
        ("fake.pdf", b"<html>not a pdf</html>", "is not a PDF"),
        ("broken.pdf", b"%PDF-1.4\nnothing else", "cannot be read"),
        ("nul.txt", b"text\x00with\x00nuls" * 10, "cannot be read"),
        ("meta.md", b"---\ntitle: [unclosed\n---\nbody\n", "cannot be read"),
        ("blank.txt", b"\n\n  \n", "is empty"),
    ],
)
def test_bad_uploads_leave_the_corpus_untouched(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    (tmp_path / "keep.md").write_bytes(ARTICLE)
    with pytest.raises(UploadError, match=says):
        store_upload(tmp_path, name, data, max_bytes=1024)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.md"]


def test_a_text_upload_over_the_readers_cap_is_refused_before_it_is_written(
    tmp_path: Path,
) -> None:
    from coverage_search.sources.scan import MAX_TEXT_BYTES

    big = b"A sentence about Anthropic and OpenAI. " * (MAX_TEXT_BYTES // 39 + 10)
    with pytest.raises(UploadError, match=f"capped at {MAX_TEXT_BYTES / 1e6:.0f} MB"):
        store_upload(tmp_path, "huge.md", big)
    assert not list(tmp_path.iterdir())
