"""Texts → L2-normalized vectors with the configured model and backend (ONNX int8 by default)."""
