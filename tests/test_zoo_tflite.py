"""The Keras half of the zoo (issue 11): the zoo's architectures' blocks written in Keras and
converted by TensorFlow's converter to full int8 (tests/zoo/make_keras.py; fixtures in
tests/zoo/tflite). On the zoo's natural test images (plus an all-minimum and an all-maximum
input), TFLM == runtime_py == host C == the Cortex-M4 firmware in QEMU (mps2-an386, 4 MB flash),
byte for byte.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from edgenn.converter.tflite_import import convert_tflite_bytes
from edgenn.emulation import backends as be
from edgenn.emulation.tflm import run_tflm_file
from tflite_builder import assert_same_as_tflm
from edgenn.runtime_py import dataio

from zoo import data, models as zoo

BOARD = "mps2-an386"
QEMU_SAMPLES = 3

#: fixture -> the edgenn operators its import must contain (guards what each fixture covers).
MODELS = {
    "mobilenet_v3": {"conv2d", "depthwise_conv2d", "add", "mul", "mean", "fully_connected"},
    "shufflenet_v2": {"conv2d", "depthwise_conv2d", "max_pool2d", "split", "concat", "reshape", "transpose",
                      "mean", "fully_connected"},
    "efficientnet": {"conv2d", "depthwise_conv2d", "logistic", "mul", "add", "mean", "fully_connected"},
    "resnet": {"conv2d", "max_pool2d", "add", "mean", "fully_connected"},
    "unet": {"conv2d", "max_pool2d", "transpose_conv", "resize_bilinear", "concat"},
}


def test_every_fixture_is_listed():
    assert {p.stem.removesuffix("_int8") for p in zoo.TFLITE_DIR.glob("*.tflite")} == set(MODELS)


@lru_cache(maxsize=None)
def loaded(name: str):
    """(model, int8 inputs, TFLM outputs) of a fixture."""
    p = zoo.TFLITE_DIR / f"{name}_int8.tflite"
    model = convert_tflite_bytes(p.read_bytes(), name, str(p))
    t = model.tensors[model.inputs[0].tensor]
    _, test = data.load()
    x = data.model_input(test, int(t.shape[-2])).transpose(0, 2, 3, 1).reshape((-1,) + tuple(t.shape))
    q = np.concatenate([np.full((1,) + x.shape[1:], -128, np.int8), np.full((1,) + x.shape[1:], 127, np.int8),
                        dataio.quantize(x, t)])
    return model, [q], run_tflm_file(p, model, [q])


@pytest.mark.parametrize("name", sorted(MODELS))
def test_python_and_host_c_match_tflm(name):
    model, xs, tflm = loaded(name)
    assert MODELS[name] <= {op.type for op in model.ops}, sorted({op.type for op in model.ops})
    assert len({o.tobytes() for o in tflm[0][2:]}) == len(tflm[0]) - 2  # the images give distinct outputs
    assert_same_as_tflm(name, "python", be.run(model, xs, "python"), tflm)
    assert_same_as_tflm(name, "host", be.run(model, xs, "host"), tflm)


@pytest.mark.qemu
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
def test_cortex_m4_matches_tflm(name):
    model, xs, tflm = loaded(name)
    assert_same_as_tflm(name, BOARD, be.run(model, [x[:QEMU_SAMPLES] for x in xs], "qemu", BOARD),
                [o[:QEMU_SAMPLES] for o in tflm])
