"""Options that several verbs share: index, model, backend, engine, corpus, filters, order."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from coverage_search import BACKENDS, ENGINES, MODES, SORTS


def path_value(text: str) -> Path:
    """A path option's value. Empty text (`--index "$INDEX"` with INDEX unset) is refused:
    Path("") is the current folder, which a build then filled and a corpus scan read."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty text is not a path (an unset variable?)")
    return Path(text)


def env_path(name: str, default: str) -> Path:
    """$name as a path, or `default` when it is unset or set to nothing or blanks (not the
    current folder, nor a folder named " ")."""
    value = os.environ.get(name, "")
    return Path(value if value.strip() else default)


def env_text(name: str) -> str | None:
    """$name stripped, or None when it is unset or blank (an unset variable passed on)."""
    return os.environ.get(name, "").strip() or None


def common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        type=path_value,
        default=env_path("COVERAGE_SEARCH_INDEX", "index"),
        help="index folder (default: ./index, or $COVERAGE_SEARCH_INDEX)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON for machines instead of text"
    )


def model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default=env_text("COVERAGE_SEARCH_MODEL"),
        help="sentence-transformers model name or folder (default: $COVERAGE_SEARCH_MODEL, "
        "else the one the index was built with, else the bundled all-MiniLM-L6-v2)",
    )


def backend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=env_text("COVERAGE_SEARCH_BACKEND"),
        help="how the model runs: onnx-int8 (default for a model folder; 2.4x faster, same "
        "ranking quality), onnx or torch; queries use what the index was built with",
    )


def engine_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="where the index is stored: local (SQLite + FAISS in the index folder, the "
        "default) or milvus; later builds keep the engine of the live build",
    )


def corpus_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--corpus",
        type=path_value,
        default=env_path("COVERAGE_SEARCH_CORPUS", "corpus"),
        help="corpus folder (default: ./corpus, or $COVERAGE_SEARCH_CORPUS)",
    )


def sort_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sort", choices=SORTS, default="relevance",
        help="list the results by relevance (default) or by date, newest first (undated last)",
    )  # fmt: skip
    parser.add_argument(
        "--recency", type=float, default=0.0, metavar="W",
        help="favour newer coverage: 0 (off, the default) to 1; re-scores 4x k candidates "
        "(the app's switch uses 0.2; bench/results/recency.md)",
    )  # fmt: skip


def literal_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--literal", action="store_true",
        help="search the words as typed: do not replace descriptions such as 'the ChatGPT "
        "maker' with names",
    )  # fmt: skip


def filter_options(parser: argparse.ArgumentParser, *, results: bool = True) -> None:
    if results:
        parser.add_argument("-k", type=int, default=5, help="number of results (default: 5)")
    parser.add_argument(
        "--mode", choices=MODES, default="hybrid", help="retrieval mode (default: hybrid)"
    )
    parser.add_argument(
        "--outlet",
        action="append",
        default=[],
        metavar="NAME",
        help="only this outlet (repeat for several)",
    )
    parser.add_argument("--since", metavar="YYYY-MM-DD", help="only coverage published on or after")
    parser.add_argument(
        "--until", metavar="YYYY-MM-DD", help="only coverage published on or before"
    )
    parser.add_argument(
        "--language", metavar="CODE", help="only documents in this language (e.g. en)"
    )
