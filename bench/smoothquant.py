"""SmoothQuant static int8 of the fp32 export, for bench_encoder_batching.py (not the product).

Static int8 fixes every activation scale once, so texts can be batched; plain static int8 of
all-MiniLM-L6-v2 falls to cosine ~0.78 to fp32 (~0.96-0.98 once the MatMuls' outputs, which
feed the residual stream, stay float). SmoothQuant moves per-channel activation ranges into
the weights first: X·W = (X / s)·(s W), s = max|X|^alpha / max|W|^(1 - alpha) per input
channel. Calibration: bench/data/calibration.txt (news-like paragraphs written for this; no
eval data). The attempt to make it the build encoder is on branch encoder-static-int8.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION = Path(__file__).resolve().parent / "data" / "calibration.txt"


def calibration_texts() -> list[str]:
    """Title + paragraph, and two paragraphs together (longer texts reach later positions)."""
    blocks = [b.strip() for b in CALIBRATION.read_text(encoding="utf-8").split("\n\n")]
    pairs = list(zip(blocks[::2], blocks[1::2], strict=False))
    texts = [f"{t}\n{p}" for t, p in pairs]
    texts += [f"{a[0]}\n{a[1]} {b[1]}" for a, b in zip(pairs[::2], pairs[1::2], strict=False)]
    return texts


def calibration_ids(location: Path) -> list[list[int]]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(location / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=256)
    return [e.ids for e in tokenizer.encode_batch(calibration_texts())]


def one(ids: list[int]) -> dict[str, np.ndarray]:
    batch = np.asarray([ids], dtype=np.int64)
    return {
        "input_ids": batch,
        "attention_mask": np.ones_like(batch),
        "token_type_ids": np.zeros_like(batch),
    }


def smooth(source: Path, target: Path, samples: list[list[int]], *, alpha: float) -> None:
    """Each weight MatMul's input gets a Mul by 1/s (shared by Q, K and V), its weights s W."""
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    readers: dict[str, list[Any]] = collections.defaultdict(list)
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights:
            readers[node.input[0]].append(node)
    probe = onnx.load(str(source))
    for name in readers:
        probe.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    peak: dict[str, np.ndarray] = {}
    for ids in samples:
        for name, value in zip(outputs, session.run(None, one(ids)), strict=True):
            if name in readers:
                channel = np.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
                peak[name] = np.maximum(peak.get(name, channel), channel)
    for name, nodes in readers.items():
        mats = [numpy_helper.to_array(weights[n.input[1]]) for n in nodes]
        wmax = np.max([np.abs(m).max(axis=1) for m in mats], axis=0)
        scale = np.maximum(peak[name], 1e-5) ** alpha / np.maximum(wmax, 1e-5) ** (1 - alpha)
        scale = scale.astype(np.float32)
        for node, mat in zip(nodes, mats, strict=True):
            weights[node.input[1]].CopyFrom(
                numpy_helper.from_array((mat * scale[:, None]).astype(np.float32), node.input[1])
            )
        inverse = numpy_helper.from_array((1.0 / scale).astype(np.float32), f"{name}_smooth")
        graph.initializer.append(inverse)
        graph.node.append(helper.make_node("Mul", [name, inverse.name], [f"{name}_smoothed"]))
        for node in nodes:
            node.input[0] = f"{name}_smoothed"
    known = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:  # topological order: the Muls were appended at the end
        ready = [n for n in pending if all(i in known for i in n.input)]
        if not ready:
            raise RuntimeError("cannot order the smoothed graph")
        for node in ready:
            known.update(node.output)
        ordered += ready
        pending = [n for n in pending if all(n is not r for r in ready)]
    del graph.node[:]
    graph.node.extend(ordered)
    onnx.save(model, str(target))


def quantize(source: Path, target: Path, samples: list[list[int]], *, symmetric: bool) -> Path:
    """QDQ static int8: per-channel weights, activations on the weight MatMuls' inputs only."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.items = iter(samples)

        def get_next(self) -> dict[str, np.ndarray] | None:
            ids = next(self.items, None)
            return None if ids is None else one(ids)

    model = onnx.load(str(source))
    weights = {i.name for i in model.graph.initializer}
    nodes = [n.name for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in weights]
    quantize_static(
        str(source),
        str(target),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QInt8 if symmetric else QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_quantize=nodes,
        extra_options={
            "ActivationSymmetric": symmetric,
            # The outputs feed the residual stream, whose outliers no per-tensor scale survives.
            "OpTypesToExcludeOutputQuantization": ["MatMul"],
        },
    )
    return target
