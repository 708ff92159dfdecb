"""The meaning layer's model: an ONNX sentence-embedding model run on the CPU (an adapter for ``core.risk_meaning``)."""
