"""The ONNX Runtime backend gives the same vectors as torch (fp32) or nearly (int8), offline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from coverage_search.embed.embedder import DEFAULT_MODEL, Embedder, get_embedder
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


@pytest.fixture(scope="module")
def torch_vectors() -> np.ndarray:
    return get_embedder(backend="torch").encode(TEXTS)


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "floor"), [("onnx", 0.9999), ("onnx-int8", 0.98)])
def test_onnx_vectors_match_torch(
    torch_vectors: np.ndarray, onnx_cache: Path, backend: str, floor: float
) -> None:
    reference = torch_vectors
    onnx = Embedder(backend=backend)
    vectors = onnx.encode(TEXTS)
    assert vectors.shape == reference.shape and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float((vectors * reference).sum(axis=1).min()) >= floor
    assert list(onnx_cache.glob("onnx/*/model*.onnx"))  # exported once, reused next time


def test_unknown_backend_is_a_model_error(tmp_path: Path) -> None:
    from coverage_search.embed.onnx import onnx_file

    with pytest.raises(ModelError, match="Unknown embedding backend 'tpu'"):
        onnx_file(tmp_path, "tpu")


def test_the_bundled_model_runs_int8_by_default(embedder: Embedder) -> None:
    assert embedder.backend == "onnx-int8"
    assert embedder.vectors_key.startswith(f"{DEFAULT_MODEL}|onnx-int8|")  # never torch's
    assert get_embedder(backend="torch").vectors_key == DEFAULT_MODEL


def test_a_model_that_is_not_a_folder_runs_on_torch(tmp_path: Path) -> None:
    assert Embedder("some-hub-model-name").backend == "torch"
    with pytest.raises(ModelError, match="needs a local model folder"):
        Embedder("some-hub-model-name", backend="onnx-int8")
    with pytest.raises(ModelError, match="Unknown embedding backend 'gpu'"):
        Embedder(backend="gpu")


@pytest.mark.slow
def test_a_damaged_cached_export_is_made_again(onnx_cache: Path, torch_vectors: np.ndarray) -> None:
    Embedder(backend="onnx-int8").encode(["make sure the export exists"])
    [int8] = onnx_cache.glob("onnx/*/model-int8.onnx")
    int8.write_bytes(b"not an onnx file")
    vectors = Embedder(backend="onnx-int8").encode(TEXTS)
    assert float((vectors * torch_vectors).sum(axis=1).min()) >= 0.98
    assert int8.stat().st_size > 1_000_000


@pytest.mark.slow
def test_an_int8_vector_does_not_depend_on_the_other_texts_in_its_call(
    embedder: Embedder,
) -> None:
    alone = embedder.encode([TEXTS[0]])
    among = embedder.encode([*TEXTS, *TEXTS])
    assert np.array_equal(alone[0], among[0]) and np.array_equal(among[0], among[len(TEXTS)])


@pytest.mark.slow
def test_the_int8_model_runs_each_attention_as_one_fused_int8_node(onnx_cache: Path) -> None:
    import onnx

    from coverage_search.embed.fusion import attention_shape

    embedder = Embedder(backend="onnx-int8")
    embedder.encode(["fused once, at export"])
    [int8] = onnx_cache.glob("onnx/*/model-int8.onnx")
    ops = [node.op_type for node in onnx.load(str(int8)).graph.node]
    assert ops.count("QAttention") == 6  # all-MiniLM-L6-v2's six layers
    assert "SkipLayerNormalization" not in ops  # slower than LayerNormalization on the CPU
    assert attention_shape(Path(embedder.location)) == (12, 384)


@pytest.mark.slow
def test_int8_texts_run_side_by_side_with_the_vectors_of_one_at_a_time(embedder: Embedder) -> None:
    from coverage_search.embed.onnx import OnnxEncoder

    encoder = OnnxEncoder(Path(embedder.location), backend="onnx-int8", threads=2)
    together = encoder.encode([*TEXTS, *TEXTS])
    assert len(encoder._sessions) == 2  # one one-thread session per core
    alone = np.stack([encoder.encode([text])[0] for text in TEXTS])
    assert np.array_equal(together[: len(TEXTS)], alone)
    assert np.array_equal(together[len(TEXTS) :], alone)
    assert np.array_equal(alone, embedder.encode(TEXTS))  # the shared embedder's vectors too
