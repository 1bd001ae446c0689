"""Fuse an exported BERT graph for ONNX Runtime's CPU kernels (fused attention) before int8.

ONNX Runtime's BERT optimizer finds each layer's attention (Q, K and V projections, scores,
mask, softmax, weighted sum) only in the shape it knows: the scores divided by √d, then the
additive mask `(1 - mask) * -10000`. The export writes the mask that way; this module turns
torch's `scores * (1/√d)` into `scores / √d`, then fuses. Skip-LayerNorm and bias-GELU are left
unfused: on the CPU their fused kernels were slower than the plain LayerNormalization, Add and
Gelu (bench/bench_onnx.py, bench/results/onnx.md).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np

# ONNX Runtime's own session fusion of Add + LayerNormalization into SkipLayerNormalization:
# its kernel took a quarter of an int8 run, 4x the plain ops' time (the sessions disable it).
SLOW_SESSION_FUSIONS = ("SkipLayerNormFusion",)


def attention_shape(location: Path) -> tuple[int, int]:
    """(attention heads, hidden size) from the model's config.json, (0, 0) when unknown."""
    try:
        config = json.loads((location / "config.json").read_text())
        return int(config["num_attention_heads"]), int(config["hidden_size"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0


def fuse_attention(source: Path, target: Path, *, heads: int, hidden: int) -> int:
    """Write `source` with fused Attention nodes to `target`; returns how many were fused.

    A graph the optimizer does not recognize is written unchanged but for the scale (0 fused),
    so the model still runs, only without the fused kernel.
    """
    onnx = importlib.import_module("onnx")
    optimizer = importlib.import_module("onnxruntime.transformers.optimizer")
    fusion_options = importlib.import_module("onnxruntime.transformers.fusion_options")

    model = onnx.load(str(source))
    _scale_as_division(model, onnx)
    options = fusion_options.FusionOptions("bert")
    options.enable_skip_layer_norm = False
    options.enable_bias_skip_layer_norm = False
    options.enable_bias_gelu = False
    fused = optimizer.optimize_model(
        model,
        model_type="bert",
        num_heads=heads,
        hidden_size=hidden,
        opt_level=0,  # graph rewrites only; the session applies its own optimizations
        optimization_options=options,
    )
    count = int(fused.get_fused_operator_statistics().get("Attention", 0))
    fused.save_model_to_file(str(target))
    return count


def _scale_as_division(model: Any, onnx: Any) -> None:
    """Rewrite `MatMul → Mul(1/√d) → Add → Softmax` as `MatMul → Div(√d) → …` in place."""
    helper = onnx.numpy_helper
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    constants = {n.output[0]: n for n in graph.node if n.op_type == "Constant"}
    initializers = {i.name: i for i in graph.initializer}
    for node in graph.node:
        if node.op_type != "Mul" or len(node.input) != 2:
            continue
        parent = producer.get(node.input[0])
        after = consumers.get(node.output[0], [])
        if parent is None or parent.op_type != "MatMul" or [n.op_type for n in after] != ["Add"]:
            continue
        if "Softmax" not in [n.op_type for n in consumers.get(after[0].output[0], [])]:
            continue
        scale = node.input[1]
        if scale in constants:
            value = helper.to_array(constants[scale].attribute[0].t)
        elif scale in initializers:
            value = helper.to_array(initializers[scale])
        else:
            continue
        if value.size != 1 or not value.item():
            continue
        divisor = f"{node.name or node.output[0]}_divisor"
        graph.initializer.append(helper.from_array(np.asarray(1.0 / value, value.dtype), divisor))
        node.op_type = "Div"
        node.input[1] = divisor
