"""BEIR collections: load corpus, queries and judgments; write the corpus as Markdown files."""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from coverage_search.arguments import file_path, folder_path
from coverage_search.errors import EvalDataError
from coverage_search.sources.files import valid_data

# CommonMark lets a backslash escape any ASCII punctuation, so escaped text renders verbatim.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
EVAL_MARK = ".coverage-search-eval"
_EVAL_SCRATCH = ("coverage-eval-", "coverage-qa-")  # evaluation's temporary folders
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # a line that may hold a lone surrogate


@dataclass(frozen=True, slots=True)
class BeirData:
    """A BEIR collection: documents (id → title, text), queries (id → text) and judgments."""

    name: str
    corpus: Mapping[str, tuple[str, str]]
    queries: Mapping[str, str]
    qrels: Mapping[str, Mapping[str, int]]

    def judged_queries(self) -> list[str]:
        """Ids of the queries with text and at least one relevant document, in file order."""
        return [
            q
            for q, text in self.queries.items()
            if text.strip() and any(r > 0 for r in self.qrels.get(q, {}).values())
        ]


def read_jsonl(
    path: Path, *, what: str = "a BEIR .jsonl file", need_id: bool = True
) -> Iterable[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-empty line; one-sentence EvalDataError otherwise."""
    try:
        with _open_text(path) as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    if _SURROGATE_ESCAPE.search(line):  # no Markdown file or terminal takes one
                        row = valid_data(row)
                except json.JSONDecodeError as exc:
                    raise EvalDataError(
                        f"{path}:{number} is not JSON ({exc.msg}). Give {what}."
                    ) from exc
                except (ValueError, RecursionError):  # a 5,000-digit number; nesting too deep
                    raise EvalDataError(
                        f"{path}:{number} holds a number too long or nesting too deep. Give {what}."
                    ) from None
                if not isinstance(row, dict):
                    raise EvalDataError(f"{path}:{number} is not a JSON object. Give {what}.")
                if need_id and "_id" not in row and "id" not in row:
                    raise EvalDataError(f'{path}:{number} has no "id". Give {what}.')
                yield number, row
    except OSError as exc:
        raise EvalDataError(f"Cannot read {path} ({exc.strerror or exc}). Check the path.") from exc
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"{path} is not UTF-8 text. Give {what}.") from exc


def _open_text(path: Path) -> TextIO:
    """A data file opened for reading as UTF-8 (a BOM is not part of line 1): regular files
    only, so a FIFO never blocks and /dev/zero is never read without end."""
    path = file_path(path, "the file")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise EvalDataError(f"{path} is a folder. Give a file.")
        if not stat.S_ISREG(mode):
            raise EvalDataError(f"{path} is not a regular file (a pipe or a device?). Give a file.")
        return os.fdopen(fd, encoding="utf-8-sig")
    except BaseException:
        os.close(fd)
        raise


def _row_id(row: Mapping[str, Any]) -> str:
    return str(row.get("_id", row.get("id")))


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """query-id → corpus-id → relevance from a BEIR qrels TSV (the header line is optional)."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        with _open_text(path) as text:
            lines = text.read().splitlines()
    except OSError as exc:
        raise EvalDataError(f"Cannot read {path} ({exc.strerror or exc}). Check the path.") from exc
    except UnicodeDecodeError as exc:
        raise EvalDataError(f"{path} is not UTF-8 text. Give a BEIR qrels .tsv file.") from exc
    for number, line in enumerate(lines, start=1):
        cells = line.strip().split("\t")
        if not line.strip() or (
            number == 1 and cells[0].lower() in ("query-id", "query_id", "qid")
        ):
            continue
        if len(cells) < 3:
            raise EvalDataError(
                f"{path}:{number} needs query-id, corpus-id and score separated by tabs."
            )
        try:
            score = int(float(cells[-1]))
        except (ValueError, OverflowError) as exc:  # "high", "nan", "inf"
            raise EvalDataError(
                f"{path}:{number} has a score that is not a number: {cells[-1][:40]!r}."
            ) from exc
        qrels.setdefault(cells[0], {})[cells[-2]] = score
    return qrels


def load_corpus(corpus: Path | str) -> dict[str, tuple[str, str]]:
    """id → (title, text) of a BEIR corpus.jsonl; EvalDataError when it holds no text."""
    corpus = Path(corpus)
    docs: dict[str, tuple[str, str]] = {}
    lines: dict[str, int] = {}
    for number, row in read_jsonl(corpus):
        doc_id = _row_id(row)
        if doc_id in lines:  # the later one would silently replace the earlier
            raise EvalDataError(
                f"{corpus}:{number} repeats the id {doc_id[:60]!r} of line {lines[doc_id]}: "
                "give each document its own id."
            )
        lines[doc_id] = number
        docs[doc_id] = (str(row.get("title") or ""), str(row.get("text") or ""))
    if not docs:
        raise EvalDataError(f"{corpus} holds no documents. Give a BEIR corpus.jsonl.")
    if not any(title.strip() or text.strip() for title, text in docs.values()):
        raise EvalDataError(f"Every document in {corpus} is empty. Give documents with text.")
    return docs


def load_beir(
    corpus: Path | str, queries: Path | str, qrels: Path | str, *, name: str | None = None
) -> BeirData:
    """A BEIR collection from its three files."""
    corpus = file_path(corpus, "the corpus file")
    queries, qrels = file_path(queries, "the queries file"), file_path(qrels, "the qrels file")
    docs = load_corpus(corpus)
    texts = {_row_id(row): str(row.get("text") or "") for _, row in read_jsonl(queries)}
    judged = read_qrels(qrels)
    data = BeirData(name or corpus.resolve().parent.name, docs, texts, judged)
    ids = data.judged_queries()
    if not any(text.strip() for text in texts.values()):  # ids cannot help: there is nothing
        raise EvalDataError(f'No query in {queries} has text. Give each query a "text".')
    if not any(r > 0 for judged_docs in judged.values() for r in judged_docs.values()):
        raise EvalDataError(f"{qrels} judges no document relevant (no score above 0).")
    if not ids:
        raise EvalDataError(
            f"No query in {queries} has a relevant document in {qrels}. Check that the ids match."
        )
    if not any(d in docs for q in ids for d, r in judged[q].items() if r > 0):
        raise EvalDataError(
            f"No relevant document in {qrels} is in {corpus}. Check that the ids match."
        )
    return data


def load_beir_folder(folder: Path | str) -> BeirData:
    """A BEIR collection from a folder holding corpus.jsonl, queries.jsonl and qrels.tsv."""
    folder = folder_path(folder, "the BEIR folder")
    qrels = folder / "qrels.tsv"
    if not qrels.is_file() and (folder / "qrels").is_dir():
        qrels = folder / "qrels" / "test.tsv"
    return load_beir(folder / "corpus.jsonl", folder / "queries.jsonl", qrels, name=folder.name)


def markdown_escape(text: str) -> str:
    """`text` as Markdown that renders back to exactly `text` (ASCII punctuation escaped)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def claim_folder(folder: Path, ours: Callable[[Path], bool] = lambda _: False) -> None:
    """Make `folder` one that evaluation may rewrite, or refuse it (EvalDataError).

    A folder an earlier evaluation wrote carries EVAL_MARK; a new or empty one is marked now,
    as is one whose every entry is `ours` (written before the mark existed). Anything else (a
    user's notes, their live index) is never rewritten or swept.
    """
    mark = folder / EVAL_MARK
    if mark.is_file():
        return
    if folder.exists():
        try:
            strangers = [p.name for p in folder.iterdir() if not ours(p)]
        except OSError as exc:
            raise EvalDataError(f"Cannot use {folder} ({exc.strerror}).") from None
        if strangers:
            raise EvalDataError(
                f"{folder} holds files evaluation did not write (e.g. {strangers[0]}): give "
                "evaluation a folder of its own (--keep-index)."
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        mark.write_text("Written by coverage-search eval, which may rewrite this folder.\n")
    except OSError as exc:
        raise EvalDataError(f"Cannot write {folder} ({exc.strerror}).") from None


def claim_index(target: Path, corpus: Path) -> None:
    """Make `target` an index folder evaluation may build into, or refuse it (EvalDataError).

    Besides a new or marked folder, an index an evaluation built before the mark existed is
    taken: its live build was made from `corpus` or from an evaluation's temporary corpus.
    A user's own index (built from their corpus) never is."""
    from coverage_search.build import layout

    try:
        made = str(layout.require_live(target)[1].get("corpus_dir") or "")
    except Exception:  # no live build, or an unreadable one: only a marked or empty folder
        made = ""
    ours = bool(made) and (
        Path(made).absolute() == corpus.absolute()
        or Path(made).parent.name.startswith(_EVAL_SCRATCH)
    )
    claim_folder(target, (lambda _: True) if ours else (lambda _: False))


def write_corpus(data: BeirData, folder: Path | str) -> dict[str, str]:
    """Write each document as `<id>.md` with its title in front matter; returns file name → BEIR id.

    Files whose bytes are unchanged are not rewritten, so a reused folder keeps an incremental
    index (and its embedding cache) valid.
    """
    import yaml

    folder = Path(folder)
    names: dict[str, str] = {}
    for doc_id in data.corpus:
        stem = _UNSAFE_NAME.sub("_", doc_id)[:100] or "doc"
        if stem.startswith("."):  # a hidden file is no document to the scanner
            stem = "_" + stem
        name, n = f"{stem}.md", 1
        while name in names:
            n += 1
            name = f"{stem}-{n}.md"
        names[name] = doc_id
    claim_folder(folder, lambda path: path.name in names)
    for name, doc_id in names.items():
        title, text = data.corpus[doc_id]
        front = (
            yaml.safe_dump({"title": title}, allow_unicode=True, width=1_000_000)
            if title.strip()
            else ""
        )
        # A document with only a title (TREC-COVID has thousands) is its title: the scanner
        # skips a file that holds only front matter, so it would be left out of the index.
        # A NUL made the file "binary data" to the scanner: the document was left out of the
        # index without a word, and scored as never found. It is no letter of the text.
        text, title_text = text.replace("\x00", " "), title.replace("\x00", " ")
        words = (text if text.strip() else title_text).split()
        body = markdown_escape(" ".join(words))
        content = (f"---\n{front}---\n\n" if front else "") + body + "\n"
        path = folder / name
        raw = content.encode("utf-8")
        if not path.is_file() or path.read_bytes() != raw:
            path.write_bytes(raw)
    for stale in folder.glob("*.md"):
        if stale.name not in names:
            stale.unlink()
    return names
