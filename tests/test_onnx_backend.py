"""The ONNX Runtime backend gives the same vectors as torch (fp32) or nearly (int8), offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coverage_search.embedding import Embedder
from coverage_search.errors import ModelError

TEXTS = [
    "Dario Amodei left OpenAI in 2020 to found Anthropic with his sister Daniela.",
    "x",
    "The Responsible Scaling Policy ties model releases to safety levels. " * 30,  # truncated
    "Tokenized pre-IPO shares are sold to retail buyers outside the company's control.",
]


@pytest.fixture()
def onnx_cache(
    pytestconfig: pytest.Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    # Exporting takes 5-50 s: keep the file in pytest's cache so only the first run pays.
    cache = getattr(pytestconfig, "cache", None)  # absent under -p no:cacheprovider
    folder = cache.mkdir("onnx-export") if cache is not None else tmp_path
    monkeypatch.setenv("COVERAGE_SEARCH_CACHE", str(folder))
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "floor"), [("onnx", 0.9999), ("onnx-int8", 0.98)])
def test_onnx_vectors_match_torch(
    embedder: Embedder, onnx_cache: Path, backend: str, floor: float
) -> None:
    pytest.importorskip("onnxruntime", reason="the optional ONNX backend is not installed")
    pytest.importorskip("onnxscript", reason="exporting to ONNX needs onnxscript")
    reference = embedder.encode(TEXTS)
    onnx = Embedder(backend=backend)
    vectors = onnx.encode(TEXTS)
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float((vectors * reference).sum(axis=1).min()) >= floor
    assert list(onnx_cache.glob("onnx/*/model*.onnx"))  # exported once, reused next time


def test_unknown_backend_is_a_model_error(tmp_path: Path) -> None:
    from coverage_search.onnx_backend import onnx_file

    with pytest.raises(ModelError, match="Unknown embedding backend 'tpu'"):
        onnx_file(tmp_path, "tpu")
