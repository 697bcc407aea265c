# SPDX-License-Identifier: MIT
"""Write the QDQ int8 .onnx models of tests/test_onnx_qdq.py with onnxruntime's static quantizer
(onnxruntime.quantization.quantize_static, QuantFormat.QDQ), as a user of onnxruntime gets them.

Generator: this script, in the project venv (onnxruntime and onnx are in requirements.txt):
           .venv/bin/python tests/onnx_fixtures/make_qdq_models.py
Versions:  onnxruntime 1.32.0, onnx 1.23.2, Python 3.11.
Input:     the float fixtures beside it (make_models.py, torch.onnx.export).
Seed:      SEED below: the calibration samples (normal, NCHW, 64 per model).
Output:    *_qdq.onnx here, rewritten on every run: int8 activations (asymmetric, MinMax
           calibration), int8 weights symmetric per output channel, int32 biases; every Conv,
           Gemm, Add and pool with QuantizeLinear / DequantizeLinear pairs around it.

  cnn_block_qdq     cnn_block.onnx quantized  [QuantizeLinear DequantizeLinear Conv Relu Clip
                    Add GlobalAveragePool Flatten Gemm]
  mlp_qdq           mlp.onnx quantized (per-tensor weights: per_channel=False)
"""

from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_static)

SEED = 20261207
HERE = Path(__file__).resolve().parent
MODELS = {"cnn_block": ((3, 12, 12), True), "mlp": ((13,), False)}


class Samples(CalibrationDataReader):
    def __init__(self, input_name, shape, n=64, seed=SEED):
        rng = np.random.default_rng(seed)
        self.items = iter([{input_name: rng.normal(size=(1, *shape)).astype(np.float32)}
                           for _ in range(n)])

    def get_next(self):
        return next(self.items, None)


def main():
    for name, (shape, per_channel) in MODELS.items():
        src = HERE / f"{name}.onnx"
        input_name = onnx.load(str(src)).graph.input[0].name
        out = HERE / f"{name}_qdq.onnx"
        quantize_static(str(src), str(out), Samples(input_name, shape),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8, per_channel=per_channel,
                        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False})
        ops = sorted({n.op_type for n in onnx.load(str(out)).graph.node})
        print(f"wrote {out.name}: {', '.join(ops)}")


if __name__ == "__main__":
    main()
