"""Make the Keras half of the zoo (issue 11): the zoo's architectures' characteristic blocks
written in Keras, trained briefly on the zoo's natural images and converted by TensorFlow's
converter to full int8 (int8 input and output), written to tests/zoo/tflite/.

    /work/tfenv/bin/python tests/zoo/make_keras.py [NAME ...]     # any environment with TensorFlow

- mobilenet_v3: inverted residuals with hard-swish, squeeze-excitation with hard-sigmoid,
  5x5 depthwise, residual adds (MobileNetV3-Small's first stages and head);
- shufflenet_v2: channel split, branch concatenation and channel shuffle (reshape / transpose),
  strided blocks with two branches (ShuffleNetV2 x0.5's stages);
- efficientnet: MBConv blocks with swish and sigmoid squeeze-excitation, stride 2 and residual
  (EfficientNet-B0's first stages);
- resnet: basic blocks with BatchNorm, strided 1x1 projection shortcuts (ResNet-18's layout, 16..64 channels);
- unet: a two-level UNet with a Conv2DTranspose decoder level and a bilinear UpSampling2D level.

Inputs are the zoo's calibration images (tests/zoo/data.py) at 48x48 NHWC (32x32 for the UNet),
ImageNet-normalized. The short training (mean squared error) regresses ten fixed random projections
of the 4x4-pooled image (the UNet: colour masks of the image), a task whose answers vary with the
content, so weights and BatchNorm statistics move away from their initial values and the int8
outputs differ from image to image.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import data  # noqa: E402

keras = tf.keras
layers = keras.layers
OUT = HERE / "tflite"
CLASSES = 10


def hard_sigmoid(x):
    return layers.ReLU(6.0)(layers.Rescaling(1.0, offset=3.0)(x)) * (1.0 / 6.0)


def hard_swish(x):
    return layers.Multiply()([x, hard_sigmoid(x)])


def act(x, kind: str):
    if kind == "hswish":
        return hard_swish(x)
    if kind == "swish":
        return layers.Activation("swish")(x)
    return layers.ReLU()(x)


def conv_bn(x, filters: int, k: int = 1, s: int = 1, kind: str | None = "relu", depthwise: bool = False):
    if depthwise:
        x = layers.DepthwiseConv2D(k, s, padding="same", use_bias=False)(x)
    else:
        x = layers.Conv2D(filters, k, s, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return act(x, kind) if kind else x


def squeeze_excite(x, ratio: int, gate: str):
    c = x.shape[-1]
    s = layers.GlobalAveragePooling2D(keepdims=True)(x)
    s = layers.Conv2D(max(8, c // ratio), 1, activation="relu" if gate == "hard" else "swish")(s)
    s = layers.Conv2D(c, 1)(s)
    s = hard_sigmoid(s) if gate == "hard" else layers.Activation("sigmoid")(s)
    return layers.Multiply()([x, s])


def inverted_residual(x, expand: int, out: int, k: int, s: int, kind: str, se: str | None, se_ratio: int = 4):
    inp = x
    if expand != x.shape[-1]:
        x = conv_bn(x, expand, 1, 1, kind)
    x = conv_bn(x, expand, k, s, kind, depthwise=True)
    if se:
        x = squeeze_excite(x, se_ratio, se)
    x = conv_bn(x, out, 1, 1, None)
    return layers.Add()([inp, x]) if s == 1 and inp.shape[-1] == out else x


def mobilenet_v3(size: int = 48):
    inp = keras.Input((size, size, 3), batch_size=1, name="image")
    x = conv_bn(inp, 16, 3, 2, "hswish")
    for e, o, k, s, kind, se in ((16, 16, 3, 2, "relu", "hard"), (72, 24, 3, 2, "relu", None),
                                 (88, 24, 3, 1, "relu", None), (96, 40, 5, 2, "hswish", "hard"),
                                 (240, 40, 5, 1, "hswish", "hard"), (120, 48, 5, 1, "hswish", "hard")):
        x = inverted_residual(x, e, o, k, s, kind, se)
    x = conv_bn(x, 288, 1, 1, "hswish")
    x = layers.GlobalAveragePooling2D()(x)
    x = hard_swish(layers.Dense(128)(x))
    return keras.Model(inp, layers.Dense(CLASSES)(x))


def channel_shuffle(x, groups: int = 2):
    h, w, c = x.shape[1:]
    x = layers.Reshape((h, w, groups, c // groups))(x)
    x = layers.Permute((1, 2, 4, 3))(x)
    return layers.Reshape((h, w, c))(x)


def shuffle_block(x, out: int, s: int):
    if s == 1:
        a, b = layers.Lambda(lambda t: tf.split(t, 2, axis=-1))(x)
    else:
        a = conv_bn(conv_bn(x, 0, 3, 2, None, depthwise=True), out // 2, 1, 1, "relu")
        b = x
    c = out // 2
    b = conv_bn(b, c, 1, 1, "relu")
    b = conv_bn(b, c, 3, s, None, depthwise=True)
    b = conv_bn(b, c, 1, 1, "relu")
    return channel_shuffle(layers.Concatenate()([a, b]))


def shufflenet_v2(size: int = 48):
    inp = keras.Input((size, size, 3), batch_size=1, name="image")
    x = conv_bn(inp, 24, 3, 2, "relu")
    x = layers.MaxPooling2D(3, 2, padding="same")(x)
    for out, repeat in ((48, 3), (96, 4)):
        x = shuffle_block(x, out, 2)
        for _ in range(repeat):
            x = shuffle_block(x, out, 1)
    x = conv_bn(x, 256, 1, 1, "relu")
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(CLASSES)(x))


def efficientnet(size: int = 48):
    inp = keras.Input((size, size, 3), batch_size=1, name="image")
    x = conv_bn(inp, 24, 3, 2, "swish")
    for e, o, k, s in ((24, 16, 3, 1), (96, 24, 3, 2), (144, 24, 3, 1), (144, 32, 5, 2), (192, 32, 5, 1)):
        x = inverted_residual(x, e, o, k, s, "swish", "sigmoid", se_ratio=16)
    x = conv_bn(x, 320, 1, 1, "swish")
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(CLASSES)(x))


def basic_block(x, out: int, s: int):
    short = x if s == 1 and x.shape[-1] == out else conv_bn(x, out, 1, s, None)
    y = conv_bn(x, out, 3, s, "relu")
    y = conv_bn(y, out, 3, 1, None)
    return layers.ReLU()(layers.Add()([short, y]))


def resnet(size: int = 48):
    inp = keras.Input((size, size, 3), batch_size=1, name="image")
    x = conv_bn(inp, 16, 7, 2, "relu")
    x = layers.MaxPooling2D(3, 2, padding="same")(x)
    for out, s in ((16, 1), (16, 1), (24, 2), (24, 1), (32, 2), (32, 1), (64, 2), (64, 1)):
        x = basic_block(x, out, s)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(CLASSES)(x))


def unet(size: int = 32):
    inp = keras.Input((size, size, 3), batch_size=1, name="image")
    e1 = conv_bn(conv_bn(inp, 16, 3), 16, 3)
    e2 = conv_bn(conv_bn(layers.MaxPooling2D()(e1), 32, 3), 32, 3)
    m = conv_bn(conv_bn(layers.MaxPooling2D()(e2), 64, 3), 64, 3)
    u2 = layers.Conv2DTranspose(32, 2, 2)(m)
    d2 = conv_bn(conv_bn(layers.Concatenate()([u2, e2]), 32, 3), 32, 3)
    u1 = layers.Conv2D(16, 1)(layers.UpSampling2D(interpolation="bilinear")(d2))
    d1 = conv_bn(conv_bn(layers.Concatenate()([u1, e1]), 16, 3), 16, 3)
    return keras.Model(inp, layers.Conv2D(4, 1)(d1))


#: name -> (builder, input size)
MODELS = {"mobilenet_v3": (mobilenet_v3, 48), "shufflenet_v2": (shufflenet_v2, 48), "efficientnet": (efficientnet, 48),
          "resnet": (resnet, 48), "unet": (unet, 32)}


def nhwc(images: np.ndarray, size: int) -> np.ndarray:
    """The zoo's images as a Keras model's input: (N, size, size, 3) float32, ImageNet-normalized."""
    return np.ascontiguousarray(data.model_input(images, size).transpose(0, 2, 3, 1))


def make(name: str) -> bytes:
    build, size = MODELS[name]
    keras.utils.set_random_seed(sorted(MODELS).index(name))
    calib, _ = data.load()
    x = nhwc(calib, size)
    model = build(size)
    if name == "unet":  # dense target: a colour segmentation of the image itself
        y = np.stack([x[..., 0] > 0, x[..., 1] > 0, x[..., 2] > 0, x.mean(-1) > 0.5], -1).astype(np.float32)
    else:  # ten continuous targets: fixed random projections of the 4x4-pooled image, standardized
        pooled = data.model_input(calib, 4).reshape(len(x), -1)
        y = pooled @ np.random.default_rng(0).standard_normal((pooled.shape[1], CLASSES))
        y = ((y - y.mean(0)) / y.std(0)).astype(np.float32)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(x, y, batch_size=8, epochs=8, shuffle=False, verbose=0)
    # 40 steps leave BatchNorm's moving statistics near their initial (0, 1): set them to the
    # statistics of the calibration images, as a long training would have.
    bns = [la for la in model.layers if isinstance(la, layers.BatchNormalization)]
    for bn in bns:
        bn.momentum = 0.0
    model(x, training=True)

    def representative():
        for i in range(len(x)):
            yield [x[i:i + 1]]

    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = representative
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = tf.int8
    c.inference_output_type = tf.int8
    return c.convert()


def op_list(blob: bytes) -> list[str]:
    it = tf.lite.Interpreter(model_content=blob)
    return [d["op_name"] for d in it._get_ops_details()]


def main(names: list[str]) -> None:
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}")
    OUT.mkdir(exist_ok=True)
    for name in names or MODELS:
        blob = make(name)
        (OUT / f"{name}_int8.tflite").write_bytes(blob)
        ops = op_list(blob)
        print(f"{name}_int8.tflite: {len(blob):,} bytes, {len(ops)} ops: {' '.join(sorted(set(ops)))}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
