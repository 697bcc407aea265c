# SPDX-License-Identifier: MIT
"""Model files in: our .npz/.json, TFLite, ONNX and the paper's .pkl, to a float model or an int8 graph."""
