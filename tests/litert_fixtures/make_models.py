# SPDX-License-Identifier: MIT
"""Write the multi-layer int8 .tflite models of tests/test_tflite_import.py with TensorFlow's
own TFLite converter (full-integer post-training quantization, per-channel weights).

Generator: this script; TensorFlow is not a dependency of microtrain, so it runs in a venv of
           its own:  python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install
           tensorflow-cpu==2.21.0 && /tmp/tfvenv/bin/python tests/litert_fixtures/make_models.py
Versions:  tensorflow-cpu 2.21.0 (Keras 3), Python 3.11.
Seed:      SEED below: Keras' weight initializers and the calibration samples.
Output:    model_*.tflite here (a few kB each), rewritten on every run.

The models (what the converter makes of them is listed by `microtrain import`):
  model_block       int8 in/out: ZeroPadding2D -> conv 3x3 s2 (valid) relu -> depthwise 3x3
                    relu6 -> pointwise -> add (residual) -> AveragePooling2D over the whole map ->
                    Flatten (SHAPE, STRIDED_SLICE, PACK, RESHAPE) -> Dense -> softmax
  model_float_io    the same kind of net with float input and output: QUANTIZE / DEQUANTIZE at
                    the ends; conv 'same' with stride 2 (TFLite's uneven padding), an
                    AveragePooling2D over the whole map, Dense(relu) -> Dense
  model_mean        GlobalAveragePooling2D: a MEAN that changes the scale (our mean kernel,
                    mt_mean_s8_fwd, rounds as TFLite's MEAN does)
  model_maxpool     a conv and a MaxPool2D: an op our int8 graph does not have (a refusal test)
"""

from pathlib import Path

import numpy as np
import tensorflow as tf
from tensorflow import keras

SEED = 20261124
HERE = Path(__file__).resolve().parent
L = keras.layers


def model_block():
    x = inp = keras.Input((12, 12, 3))
    x = L.ZeroPadding2D(1)(x)
    x = L.Conv2D(8, 3, strides=2, padding="valid", activation="relu")(x)
    y = L.DepthwiseConv2D(3, padding="same")(x)
    y = L.ReLU(6.0)(y)
    y = L.Conv2D(8, 1)(y)
    x = L.Add()([x, y])
    x = L.AveragePooling2D(pool_size=(6, 6))(x)
    x = L.Flatten()(x)
    x = L.Dense(5)(x)
    return keras.Model(inp, L.Softmax()(x)), True


def model_mean():
    x = inp = keras.Input((6, 6, 3))
    x = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = L.GlobalAveragePooling2D(keepdims=True)(x)
    x = L.Flatten()(x)
    return keras.Model(inp, L.Dense(4)(x)), True


def model_float_io():
    x = inp = keras.Input((9, 10, 2))
    x = L.Conv2D(6, 3, strides=2, padding="same", activation="relu6")(x)
    x = L.DepthwiseConv2D(5, padding="same", activation="relu")(x)
    x = L.Conv2D(12, 1, activation="relu")(x)
    x = L.AveragePooling2D(pool_size=(5, 5))(x)
    x = L.Flatten()(x)
    x = L.Dense(7, activation="relu")(x)
    return keras.Model(inp, L.Dense(4)(x)), False


def model_maxpool():
    x = inp = keras.Input((8, 8, 2))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = L.MaxPooling2D(2)(x)
    x = L.Flatten()(x)
    return keras.Model(inp, L.Dense(3)(x)), True


def convert(model, int8_io, rng):
    shape = (1, *model.input_shape[1:])

    def calibration():
        for _ in range(64):
            yield [rng.normal(0.0, 1.0, shape).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = calibration
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if int8_io:
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def main():
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    for make in (model_block, model_float_io, model_mean, model_maxpool):
        model, int8_io = make()
        # Random biases too: Keras starts them at zero, which would test nothing.
        for layer in model.layers:
            if getattr(layer, "bias", None) is not None:
                layer.bias.assign(rng.normal(0.0, 0.2, layer.bias.shape).astype(np.float32))
        data = convert(model, int8_io, rng)
        name = make.__name__
        (HERE / f"{name}.tflite").write_bytes(data)
        print(f"{name}.tflite  {len(data)} bytes")


if __name__ == "__main__":
    main()
