"""ONNX Runtime encoder: the local model exported once to ONNX (fp32 or dynamic int8), then cached.

Same pipeline as the sentence-transformers model it replaces (word pieces → transformer → mean
pooling over real tokens → L2 normalization), without importing torch at query time. The export
needs torch, onnx and onnxscript once; running needs only onnxruntime. sentence-transformers'
own `backend="onnx"` needs optimum, which pins transformers below 5, so it is not used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import io
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from coverage_search.errors import ModelError

BACKENDS = ("onnx", "onnx-int8")
EXPORT_VERSION = 3  # bump when export or quantization changes, so stale cached files are not used
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_EXPORT_LOCK = threading.Lock()
# Word pieces per ONNX Runtime call (padding included). On 2 CPU cores big batches buy no speed
# (one 200-piece text already fills the matrices) but grow ORT's memory arena: 320 TIME
# articles cut to 800 characters ran at 21 texts/s with 885 MB peak at 16,384 pieces per call,
# and at 24-28/s with 184-258 MB at 256-1,024; short sentences were as fast at 256 as at 4,096.
TOKENS_PER_RUN = 512
# Bump when the vectors an encoder returns change (export, quantization or batching), so the
# embedding cache never mixes old and new vectors (Embedder.vectors_key carries it).
VECTORS_VERSION = 3  # 3: fused attention before int8 (fusion.py)
# int8 texts run one per call, so on several cores they run side by side, each on a one-thread
# session of its own: 109 passages/s on 2 cores against 76 for one two-thread session, whose
# threads wait for each other at every small operator (bench/results/onnx_levers.md, load 2).
MAX_LANES = 4


def cache_root() -> Path:
    """Where exported models live: $COVERAGE_SEARCH_CACHE or ~/.cache/coverage-search."""
    base = os.environ.get("COVERAGE_SEARCH_CACHE")
    if not base or not base.strip():  # set to blanks is unset: no folder "  " in the current one
        try:
            base = str(Path.home() / ".cache" / "coverage-search")
        except (RuntimeError, KeyError):  # no HOME and no passwd entry (a container's bare uid)
            base = str(Path(tempfile.gettempdir()) / f"coverage-search-{os.getuid()}")
    return Path(base) / "onnx"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's and quantizer's advice: the user asked for neither."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.disable(logging.WARNING)
        try:
            yield
        finally:
            logging.disable(logging.NOTSET)


def model_fingerprint(location: Path) -> str:
    """A key that changes when the model's weights or configuration change."""
    digest = hashlib.sha256(f"export-{EXPORT_VERSION}".encode())
    for name in ("config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin"):
        path = location / name
        if path.is_file():
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}".encode())
            with path.open("rb") as f:
                digest.update(f.read(1 << 20))  # size + first MiB: cheap, and weights differ early
    return digest.hexdigest()[:16]


def onnx_file(location: Path, backend: str) -> Path:
    """The ONNX file of `location`'s model for `backend`, exported (and quantized) on first use."""
    if backend not in BACKENDS:
        raise ModelError(
            f"Unknown embedding backend {backend!r}: use torch, {', '.join(BACKENDS)}."
        )
    name = "model.onnx" if backend == "onnx" else "model-int8.onnx"
    shared = cache_root() / model_fingerprint(location)
    if (shared / name).is_file():  # already there: a read-only cache is fine
        return shared / name
    folder = _writable(shared)
    fp32 = folder / "model.onnx"
    target = folder / name
    if target.is_file():
        return target
    with _EXPORT_LOCK:
        if not fp32.is_file():
            _atomic(fp32, lambda tmp: export(location, tmp))
        if backend == "onnx-int8" and not target.is_file():
            _atomic(target, lambda tmp: quantize(fp32, tmp, location=location))
    return target


def _writable(folder: Path) -> Path:
    """`folder`, or a per-user temporary one when the cache cannot be written (read-only home)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    fallback = Path(tempfile.gettempdir()) / f"coverage-search-{os.getuid()}" / "onnx" / folder.name
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _atomic(target: Path, write: Any) -> None:
    """Write through a temporary file beside `target`: a killed export leaves nothing half-done."""
    fd, name = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def export(location: Path, target: Path) -> None:
    """Export the transformer of a local sentence-transformers folder to one ONNX file (fp32)."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:  # pragma: no cover - install problem
        raise ModelError("Exporting to ONNX needs torch and transformers installed.") from exc

    class LastHiddenState(torch.nn.Module):
        """The model with positional inputs and one output, as the exporter wants it.

        The padding mask is made here, BERT's classic `(1 - mask) * -10000` added to the
        scores, so ONNX Runtime's optimizer recognizes each attention and fuses it (`fusion`).
        """

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
            additive = (1.0 - attention_mask.unsqueeze(1).unsqueeze(2).to(hidden.dtype)) * -10000.0
            return self.model.encoder(hidden, attention_mask=additive).last_hidden_state

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = AutoModel.from_pretrained(str(location), attn_implementation="eager").eval()
    # A padded sample: with an all-ones mask the traced graph would drop masking altogether.
    sample = torch.tensor([[101, 7592, 2088, 2003, 2307, 102], [101, 7592, 102, 0, 0, 0]])
    mask = (sample != 0).long()
    try:
        # The TorchScript exporter keeps the attention in the shape ONNX Runtime's optimizer
        # fuses (dynamo's graph it does not); the mask is ours, not transformers' own.
        with _quiet(), torch.no_grad():
            torch.onnx.export(
                LastHiddenState(model).eval(),
                (sample, mask, torch.zeros_like(sample)),
                str(target),
                input_names=list(_INPUTS),
                output_names=["last_hidden_state"],
                dynamic_axes={name: {0: "batch", 1: "sequence"} for name in _INPUTS},
                dynamo=False,
                opset_version=17,
            )
    except ImportError as exc:
        raise ModelError("Exporting to ONNX needs onnx: pip install onnx onnxscript") from exc


def quantize(source: Path, target: Path, *, location: Path) -> None:
    """Fuse each attention, then dynamic int8 weights of MatMul, Gemm and Attention.

    Activations stay float, quantized per call. Per-channel scales keep cosine to fp32 at
    ~0.99 (per-tensor: ~0.92 on this model).
    """
    try:
        quantization = importlib.import_module("onnxruntime.quantization")  # optional dependency
    except ImportError as exc:  # pragma: no cover - install problem
        raise ModelError("The ONNX backend needs onnxruntime: pip install onnxruntime") from exc
    import onnx

    from coverage_search.embed.fusion import attention_shape, fuse_attention

    heads, hidden = attention_shape(location)
    with _quiet(), tempfile.TemporaryDirectory(dir=target.parent) as work:
        fused = Path(work) / "fused.onnx"
        if heads and hidden:
            fuse_attention(source, fused, heads=heads, hidden=hidden)
        else:
            fused = source
        quantization.quantize_dynamic(
            str(fused),
            str(target),
            weight_type=quantization.QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Gemm", "Attention"],
            # Fused nodes come from ONNX Runtime's own domain, which shape inference cannot
            # type: their outputs are float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


class OnnxEncoder:
    """Texts → unit float32 vectors with ONNX Runtime, as the sentence-transformers pipeline."""

    def __init__(
        self,
        location: Path,
        *,
        backend: str,
        max_seq_length: int | None = None,
        threads: int | None = None,
    ) -> None:
        try:
            ort = importlib.import_module("onnxruntime")  # optional dependency
        except ImportError as exc:
            raise ModelError("The ONNX backend needs onnxruntime: pip install onnxruntime") from exc
        from tokenizers import Tokenizer

        self.quantized = backend == "onnx-int8"
        cores = threads or (os.cpu_count() or 1)
        self._lanes = min(cores, MAX_LANES) if self.quantized else 1
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1 if self.quantized else cores
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning threads starve everything else on a shared 2-core machine (and ORT itself).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.path = onnx_file(location, backend)
        try:
            self._session = _session(ort, self.path, options)
        except Exception:  # a damaged cached export: make it (and what it came from) again, once
            self.path.unlink(missing_ok=True)
            (self.path.parent / "model.onnx").unlink(missing_ok=True)
            self.path = onnx_file(location, backend)
            self._session = _session(ort, self.path, options)
        self._wanted = [i.name for i in self._session.get_inputs()]
        self._sessions = [self._session]  # the others are made on the first call with many texts
        self._make = functools.partial(_session, ort, self.path, options)
        tokenizer = Tokenizer.from_file(str(location / "tokenizer.json"))
        pad_id = _pad_id(location)
        self.max_seq_length = max_seq_length or _config_int(
            location / "sentence_bert_config.json", "max_seq_length", 512
        )
        self._dimension = _config_int(
            location / "1_Pooling" / "config.json", "word_embedding_dimension", 0
        )
        tokenizer.enable_truncation(max_length=self.max_seq_length)
        tokenizer.no_padding()  # groups are padded by `_run`, each to its own longest text
        self._pad = pad_id
        self._tokenizer = tokenizer

    def get_embedding_dimension(self) -> int:
        """Vector size (as SentenceTransformer names it)."""
        return self._dimension or int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, **_: Any) -> np.ndarray:
        """Unit-length float32 vectors, one row per text.

        Texts run longest first in groups of at most `TOKENS_PER_RUN` word pieces (padding
        included) and `batch_size` texts; with int8 weights one text per run, because dynamic
        quantization scales activations over the whole batch, so a text's vector would depend
        on its neighbours; several such runs go side by side (`_side_by_side`). Accepts and ignores
        SentenceTransformer.encode's other options (vectors are always normalized numpy).
        """
        if not texts:
            return np.zeros((0, self.get_embedding_dimension()), dtype=np.float32)
        encs = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        order = sorted(range(len(texts)), key=lambda i: -len(encs[i].ids))
        if self.quantized and self._lanes > 1 and len(texts) > 1:
            return self._side_by_side([encs[i].ids for i in range(len(texts))], order)
        result = np.empty((len(texts), 0), dtype=np.float32)
        lo = 0
        while lo < len(order):
            longest = len(encs[order[lo]].ids)
            size = max(1, min(batch_size, TOKENS_PER_RUN // max(longest, 1)))
            if self.quantized:
                size = 1
            group = order[lo : lo + size]
            vectors = self._run([encs[i].ids for i in group], longest)
            if result.shape[1] == 0:
                result = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            result[np.asarray(group)] = vectors
            lo += size
        return result

    def _side_by_side(self, ids: list[list[int]], order: list[int]) -> np.ndarray:
        """One text per run, on `_lanes` one-thread sessions at once (ONNX Runtime frees the GIL).

        Every session is made alike, so a text's vector is the same whichever one runs it.
        """
        while len(self._sessions) < min(self._lanes, len(ids)):
            self._sessions.append(self._make())
        result = np.empty((len(ids), self.get_embedding_dimension()), dtype=np.float32)
        queue = iter(order)  # longest first; each lane takes the next text when it is free
        lock = threading.Lock()
        failures: list[BaseException] = []

        def lane(session: Any) -> None:
            try:
                while True:
                    with lock:
                        i = next(queue, None)
                    if i is None or failures:
                        return
                    result[i] = self._run([ids[i]], len(ids[i]), session=session)[0]
            except BaseException as exc:  # re-raised in the caller's thread
                failures.append(exc)

        workers = [
            threading.Thread(target=lane, args=(s,), daemon=True)
            for s in self._sessions[: len(ids)]
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        if failures:
            raise failures[0]
        return result

    def _run(self, ids_list: list[list[int]], width: int, *, session: Any = None) -> np.ndarray:
        """Mean-pooled, normalized vectors of one padded group of token id lists."""
        ids = np.full((len(ids_list), width), self._pad, dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, ids_row in enumerate(ids_list):
            ids[row, : len(ids_row)] = ids_row
            mask[row, : len(ids_row)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        run = (session or self._session).run
        hidden = run(None, {k: feeds[k] for k in self._wanted})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return np.asarray(pooled / norms, dtype=np.float32)


def _session(ort: Any, path: Path, options: Any) -> Any:
    from coverage_search.embed.fusion import SLOW_SESSION_FUSIONS

    return ort.InferenceSession(
        str(path),
        options,
        providers=["CPUExecutionProvider"],
        disabled_optimizers=list(SLOW_SESSION_FUSIONS),
    )


def _pad_id(location: Path) -> int:
    config = location / "tokenizer_config.json"
    try:
        pad = json.loads(config.read_text()).get("pad_token", "[PAD]")
    except (OSError, ValueError):
        return 0
    vocab = location / "vocab.txt"
    if isinstance(pad, str) and vocab.is_file():
        for i, token in enumerate(vocab.read_text(encoding="utf-8").splitlines()):
            if token == pad:
                return i
    return 0


def _config_int(path: Path, key: str, default: int) -> int:
    try:
        return int(json.loads(path.read_text())[key])
    except (OSError, ValueError, KeyError, TypeError):
        return default
