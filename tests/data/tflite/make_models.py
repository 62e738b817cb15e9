"""Build the small .tflite test fixtures of this folder with the real TensorFlow Lite converter.

Run with a virtualenv that has TensorFlow (never a dependency of edgenn itself):

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow numpy
    /tmp/tfvenv/bin/python tests/data/tflite/make_models.py

Each model is a small Keras model with fixed seeds, trained for a few steps on synthetic data so
that its weights and batch-norm statistics are not the initial ones, then converted with
full-integer quantization (a representative dataset). The files are written next to this
script; README.md lists what each contains.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

keras = tf.keras
layers = keras.layers
HERE = Path(__file__).resolve().parent


def seed(s: int) -> None:
    keras.utils.set_random_seed(s)
    tf.config.experimental.enable_op_determinism()


def train(model, x, y, loss: str, steps: int = 30) -> None:
    """A few optimizer steps so weights, biases and BN statistics become non-trivial."""
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss)
    model.fit(x, y, batch_size=max(1, len(x) // steps), epochs=1, shuffle=False, verbose=0)


def representative(x: np.ndarray):
    def gen():
        for i in range(len(x)):
            yield [x[i:i + 1].astype(np.float32)]
    return gen


def convert(model, rep: np.ndarray | None, int8_io: bool = True, float_fallback: bool = False) -> bytes:
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    if rep is not None:  # full-integer; without it: dynamic-range (weights-only) quantization
        c.representative_dataset = representative(rep)
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if float_fallback:  # operators without an int8 kernel may stay in float
            c.target_spec.supported_ops.append(tf.lite.OpsSet.TFLITE_BUILTINS)
        if int8_io:
            c.inference_input_type = tf.int8
            c.inference_output_type = tf.int8
    return c.convert()


def images(rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
    """Smooth-ish synthetic images (blurred noise plus a gradient) in about [-1, 1]."""
    x = rng.normal(size=(n, h, w, c)).astype(np.float32)
    x = (x + np.roll(x, 1, 1) + np.roll(x, 1, 2)) / 2.0
    x += np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, None, :, None]
    return x


def cnn(x_shape=(20, 20, 3), classes: int = 5):
    inp = keras.Input(x_shape, batch_size=1, name="image")
    t = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inp)   # SAME, stride 2, even input
    t = layers.BatchNormalization()(t)                                         # folded into the conv
    t = layers.ReLU(6.0)(t)                                                    # fused RELU6
    t = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(t)       # depthwise, multiplier 2
    t = layers.BatchNormalization()(t)
    t = layers.ReLU()(t)                                                       # fused RELU
    t = layers.MaxPooling2D(2)(t)                                              # 10x10 -> 5x5, VALID
    t = layers.Conv2D(12, 3, strides=1, padding="valid", activation="relu")(t)  # VALID, 5x5 -> 3x3
    t = layers.AveragePooling2D(2, strides=1, padding="same")(t)               # SAME average pool (edge counts)
    t = layers.Conv2D(16, 1)(t)                                                # 1x1 conv, no activation
    t = layers.GlobalAveragePooling2D()(t)                                     # MEAN over H, W
    t = layers.Dense(classes)(t)
    out = layers.Softmax()(t)
    return keras.Model(inp, out)


def make_cnn(int8_io: bool, s: int) -> bytes:
    seed(s)
    rng = np.random.default_rng(s)
    x = images(rng, 256, 20, 20, 3)
    y = (x[..., 0].mean((1, 2)) * 10).astype(np.int64) % 5
    m = cnn()
    train(m, x, y, "sparse_categorical_crossentropy")
    return convert(m, x[:100], int8_io)


def make_branches(s: int = 3) -> bytes:
    seed(s)
    rng = np.random.default_rng(s)
    x = images(rng, 256, 12, 12, 4)
    inp = keras.Input((12, 12, 4), batch_size=1, name="x")
    a = layers.Conv2D(6, 3, padding="same", activation="relu")(inp)
    b = layers.ZeroPadding2D(((1, 0), (2, 1)))(inp)                             # PAD, asymmetric
    b = layers.Conv2D(6, (2, 4), padding="valid")(b)                            # back to 12x12
    cat = layers.Concatenate()([a, b])                                          # CONCATENATION on channels
    r = layers.Conv2D(12, 1)(cat)
    r = layers.Add()([r, cat])                                                  # ADD (residual)
    g = layers.Conv2D(12, 1, activation="sigmoid")(r)                           # LOGISTIC
    t = layers.Multiply()([r, g])                                               # MUL (gating)
    t = layers.MaxPooling2D(3, strides=3)(t)                                    # 4x4
    t = layers.Reshape((16, 12))(t)                                             # RESHAPE
    t = layers.Permute((2, 1))(t)                                               # TRANSPOSE
    t = layers.Flatten()(t)
    t = layers.Dense(8)(t)
    out = layers.Activation("sigmoid")(t)
    m = keras.Model(inp, out)
    y = (rng.random((256, 8)) < 0.5).astype(np.float32)
    y[:, 0] = (x[..., 0].mean((1, 2)) > 0).astype(np.float32)
    train(m, x, y, "binary_crossentropy")
    return convert(m, x[:100])


def make_mlp(s: int = 4) -> bytes:
    seed(s)
    rng = np.random.default_rng(s)
    x = rng.normal(size=(512, 40)).astype(np.float32) * np.linspace(0.2, 3.0, 40, dtype=np.float32)
    inp = keras.Input((40,), batch_size=1, name="features")
    t = layers.Dense(64, activation="relu")(inp)
    t = layers.Dense(32, activation="relu6")(t)
    t = layers.Dense(32)(t)
    t = layers.Dense(16, activation="relu")(t)
    out = layers.Dense(3, activation="sigmoid")(t)
    m = keras.Model(inp, out)
    y = np.stack([x[:, 0] > 0, x[:, 1] * x[:, 2] > 0, x[:, 3:8].sum(1) > 0], 1).astype(np.float32)
    train(m, x, y, "binary_crossentropy", steps=60)
    return convert(m, x[:200])


def make_misc(s: int = 9) -> bytes:
    """Two inputs, two outputs; dilated and grouped conv, a squeeze-excitation block, PADV2, ..."""
    seed(s)
    rng = np.random.default_rng(s)
    x = images(rng, 256, 16, 16, 4)
    aux = rng.normal(size=(256, 5)).astype(np.float32)
    inp = keras.Input((16, 16, 4), batch_size=1, name="image")
    inp2 = keras.Input((5,), batch_size=1, name="aux")
    t = layers.Conv2D(8, 3, dilation_rate=2, padding="same", activation="relu")(inp)  # dilation 2
    t = layers.Conv2D(8, 3, groups=2, padding="same")(t)                             # grouped conv
    t = layers.BatchNormalization()(t)
    t = layers.ReLU(6.0)(t)
    se = layers.GlobalAveragePooling2D(keepdims=True)(t)                             # MEAN, keep_dims
    se = layers.Conv2D(4, 1, activation="relu")(se)
    se = layers.Conv2D(8, 1, activation="sigmoid")(se)
    t = layers.Multiply()([t, se])                                                   # broadcast MUL
    t = layers.Lambda(lambda v: tf.pad(v, [[0, 0], [1, 1], [0, 2], [0, 0]], constant_values=0.5))(t)  # PADV2
    t = layers.AveragePooling2D(3, strides=2, padding="valid")(t)
    u = layers.DepthwiseConv2D(3, strides=2, padding="same")(t)                      # depthwise stride 2
    w = layers.Conv2D(8, 1, strides=2)(t)
    t = layers.Concatenate(axis=2)([u, w])                                            # concat on W
    c = tf.constant(rng.normal(size=(1, 4, 8, 8)).astype(np.float32))
    t = layers.Lambda(lambda v: v + c)(t)                                             # ADD of a constant
    t = layers.Flatten()(t)
    a = layers.Dense(8)(inp2)
    t = layers.Concatenate()([t, a])
    t = layers.Dense(6)(t)
    out1 = layers.Softmax()(layers.Dense(3)(t))
    out2 = layers.Dense(2, activation="sigmoid")(t)
    m = keras.Model([inp, inp2], [out1, out2])
    m.compile(optimizer=keras.optimizers.Adam(1e-2), loss=["sparse_categorical_crossentropy", "binary_crossentropy"])
    m.fit([x, aux], [rng.integers(0, 3, 256), (rng.random((256, 2)) < .5).astype(np.float32)], batch_size=8,
          verbose=0)

    def gen():
        for i in range(100):
            yield [x[i:i + 1], aux[i:i + 1]]
    cv = tf.lite.TFLiteConverter.from_keras_model(m)
    cv.optimizations = [tf.lite.Optimize.DEFAULT]
    cv.representative_dataset = gen
    cv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    cv.inference_input_type = tf.int8
    cv.inference_output_type = tf.int8
    return cv.convert()


def make_seq(s: int = 11) -> bytes:
    """A 1-D sequence model: Conv1D/MaxPooling1D become RESHAPE + CONV_2D/MAX_POOL_2D + RESHAPE."""
    seed(s)
    rng = np.random.default_rng(s)
    x = rng.normal(size=(256, 32, 6)).astype(np.float32)
    inp = keras.Input((32, 6), batch_size=1, name="seq")
    t = layers.Conv1D(8, 5, strides=2, padding="same", activation="relu")(inp)
    t = layers.MaxPooling1D(2)(t)
    t = layers.Dense(12)(t)                                                          # FC on rank 3 (keep_num_dims)
    t = layers.Softmax(axis=-1)(t)                                                   # SOFTMAX on rank 3
    t = layers.GlobalAveragePooling1D()(t)                                           # MEAN over axis 1
    out = layers.Dense(2)(t)
    m = keras.Model(inp, out)
    train(m, x, rng.normal(size=(256, 2)).astype(np.float32), "mse")
    return convert(m, x[:100])


def make_relu_requant(s: int = 10) -> bytes:
    """ReLU after a concatenation stays a standalone RELU whose output has its own scale/zero point."""
    seed(s)
    rng = np.random.default_rng(s)
    x = images(rng, 128, 8, 8, 3)
    inp = keras.Input((8, 8, 3), batch_size=1, name="x")
    a = layers.Conv2D(4, 3, padding="same")(inp)
    b = layers.Conv2D(4, 1)(inp)
    t = layers.ReLU()(layers.Concatenate()([a, b]))                                 # RELU: requantizes
    t = layers.MaxPooling2D(2)(t)
    out = layers.Dense(3)(layers.Flatten()(t))
    m = keras.Model(inp, out)
    train(m, x, rng.normal(size=(128, 3)).astype(np.float32), "mse")
    return convert(m, x[:50])


def make_unsupported(s: int = 5) -> bytes:
    seed(s)
    rng = np.random.default_rng(s)
    x = images(rng, 128, 8, 8, 3)
    inp = keras.Input((8, 8, 3), batch_size=1, name="x")
    t = layers.Conv2D(4, 3, padding="same", activation="relu")(inp)
    t = layers.Activation("hard_swish")(t)                                      # HARD_SWISH (once unsupported)
    t = layers.GlobalAveragePooling2D()(t)
    out = layers.Dense(2)(t)
    m = keras.Model(inp, out)
    train(m, x, rng.normal(size=(128, 2)).astype(np.float32), "mse")
    return convert(m, x[:50])


def make_dynamic_range(s: int = 6) -> bytes:
    seed(s)
    rng = np.random.default_rng(s)
    x = rng.normal(size=(256, 64)).astype(np.float32)
    inp = keras.Input((64,), batch_size=1, name="features")
    t = layers.Dense(128, activation="relu")(inp)  # large enough that the converter quantizes the weights
    out = layers.Dense(4)(t)
    m = keras.Model(inp, out)
    train(m, x, rng.normal(size=(256, 4)).astype(np.float32), "mse")
    return convert(m, None)


def make_unet(s: int = 12) -> bytes:
    """Encoder-decoder with skips: TRANSPOSE_CONV (SAME stride 2 with bias, VALID stride 2 without),
    RESIZE_BILINEAR (half_pixel_centers from UpSampling2D, align_corners from tf.compat.v1) and
    RESIZE_NEAREST_NEIGHBOR (half_pixel_centers; Keras' nearest UpSampling2D becomes TILE), CONCATENATION."""
    seed(s)
    rng = np.random.default_rng(s)
    x = images(rng, 256, 16, 16, 3)
    inp = keras.Input((16, 16, 3), batch_size=1, name="x")
    e1 = layers.Conv2D(8, 3, padding="same", activation="relu")(inp)                       # 16x16
    e2 = layers.Conv2D(12, 3, padding="same", activation="relu")(layers.MaxPooling2D(2)(e1))  # 8x8
    m = layers.Conv2D(16, 3, padding="same", activation="relu")(layers.MaxPooling2D(2)(e2))   # 4x4
    d2 = layers.Conv2DTranspose(12, 3, strides=2, padding="same", activation="relu")(m)     # 8x8
    d2 = layers.Conv2D(8, 3, padding="same", activation="relu")(layers.Concatenate()([d2, e2]))
    a = layers.UpSampling2D(2, interpolation="bilinear")(d2)                                # 16x16
    b = layers.Conv2DTranspose(4, 2, strides=2, padding="valid", use_bias=False)(d2)        # 16x16
    c = layers.Lambda(lambda t: tf.compat.v1.image.resize_bilinear(t, (16, 16), align_corners=True))(d2)
    d = layers.Lambda(lambda t: tf.compat.v1.image.resize_nearest_neighbor(t, (16, 16), half_pixel_centers=True))(d2)
    h = layers.Concatenate()([a, b, c, d, e1])
    out = layers.Conv2D(2, 1)(layers.Conv2D(8, 3, padding="same", activation="relu")(h))
    model = keras.Model(inp, out)
    train(model, x, np.repeat(x[..., :2], 1, axis=-1), "mse")
    return convert(model, x[:100])


def make_float_op(s: int = 12) -> bytes:
    """Full-integer quantization with int8 I/O, but float fallback allowed: ELU has no int8 kernel in
    TFLite, so the converter leaves it in float between a DEQUANTIZE and a QUANTIZE."""
    seed(s)
    rng = np.random.default_rng(s)
    x = images(rng, 128, 8, 8, 3)
    inp = keras.Input((8, 8, 3), batch_size=1, name="x")
    t = layers.Conv2D(4, 3, padding="same")(inp)
    t = layers.Activation("elu")(t)                                              # DEQUANTIZE ELU QUANTIZE
    t = layers.GlobalAveragePooling2D()(t)
    out = layers.Dense(2)(t)
    m = keras.Model(inp, out)
    train(m, x, rng.normal(size=(128, 2)).astype(np.float32), "mse")
    return convert(m, x[:50], float_fallback=True)


def make_transformer(s: int = 13) -> bytes:
    """A transformer encoder block on a 1x8x16 sequence: MultiHeadAttention (2 heads of 8: FC
    projections, RESHAPE / TRANSPOSE of the heads, BATCH_MATMUL for the scores and the weighted
    values, MUL by the scale, SOFTMAX), residual ADD, LayerNormalization (MEAN, SQUARED_DIFFERENCE,
    ADD eps, RSQRT, MULs and ADDs, and DEQUANTIZE -> NEG -> QUANTIZE for -mean), a ReLU feed-forward
    (the tflite-micro package has no GELU kernel to judge a GELU one), a second LayerNormalization,
    GlobalAveragePooling1D and a Dense head."""
    seed(s)
    rng = np.random.default_rng(s)
    x = rng.normal(size=(256, 8, 16)).astype(np.float32)
    inp = keras.Input((8, 16), batch_size=1, name="x")
    a = layers.MultiHeadAttention(num_heads=2, key_dim=8)(inp, inp)
    h = layers.LayerNormalization(epsilon=1e-5)(layers.Add()([inp, a]))
    f = layers.Dense(16)(layers.Dense(32, activation="relu")(h))
    h = layers.LayerNormalization()(layers.Add()([h, f]))
    out = layers.Dense(4)(layers.GlobalAveragePooling1D()(h))
    model = keras.Model(inp, out)
    train(model, x, rng.normal(size=(256, 4)).astype(np.float32), "mse")
    return convert(model, x[:100])


MODELS = {
    "cnn_int8.tflite": lambda: make_cnn(True, 7),
    "cnn_float_io.tflite": lambda: make_cnn(False, 2),
    "branches_int8.tflite": make_branches,
    "mlp_int8.tflite": make_mlp,
    "misc_int8.tflite": make_misc,
    "seq_int8.tflite": make_seq,
    "relu_requant_int8.tflite": make_relu_requant,
    "unsupported_op.tflite": make_unsupported,
    "dynamic_range.tflite": make_dynamic_range,
    "unet_int8.tflite": make_unet,
    "float_op_int8.tflite": make_float_op,
    "transformer_int8.tflite": make_transformer,
}


def op_list(data: bytes) -> list[str]:
    it = tf.lite.Interpreter(model_content=data)
    return [d["op_name"] for d in it._get_ops_details()]


def main(names: list[str]) -> None:
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, numpy {np.__version__}")
    for name in names or MODELS:
        data = MODELS[name]()
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} bytes: {' '.join(op_list(data))}")


if __name__ == "__main__":
    main(sys.argv[1:])
