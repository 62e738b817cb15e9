"""The operator registry: one name per operator, the same in every layer.

For an operator ``name`` the pieces are:

- ``edgenn.converter.ops.<name>``      quantization rule (+ ONNX / TFLite import helpers)
- ``edgenn.runtime_py.kernels.<name>``  numpy int8 kernel (the bit-exact reference)
- ``templates/kernels/<name>.c|.h``     hand-written C kernel
- ``templates/ops/<name>.c.j2``         the call of that kernel from model.c
- ``tests/ops/test_<name>.py``          Python kernel == C kernel, byte for byte

Adding an operator: add those files, one line below, and the OpType / options table in
``runtime_py/schema/edgenn.fbs`` (names: OpType ``FOO_BAR``, table ``FooBarOptions``).
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from types import ModuleType

# name -> schema options table name. Order is irrelevant; the schema enum fixes the numbers.
OPS: dict[str, str] = {
    "conv2d": "Conv2DOptions",
    "depthwise_conv2d": "DepthwiseConv2DOptions",
    "fully_connected": "FullyConnectedOptions",
    "add": "AddOptions",
    "mul": "MulOptions",
    "max_pool2d": "MaxPool2DOptions",
    "avg_pool2d": "AvgPool2DOptions",
    "mean": "MeanOptions",
    "softmax": "SoftmaxOptions",
    "logistic": "LogisticOptions",
    "pad": "PadOptions",
    "concat": "ConcatOptions",
    "reshape": "ReshapeOptions",
    "transpose": "TransposeOptions",
    "clip": "ClipOptions",
    "quantize": "QuantizeOptions",
    "tanh": "TanhOptions",
    "leaky_relu": "LeakyReluOptions",
    "hard_swish": "HardSwishOptions",
}


def check_name(name: str) -> str:
    if name not in OPS:
        raise KeyError(f"unknown operator {name!r}")
    return name


@lru_cache(maxsize=None)
def kernel(name: str) -> ModuleType:
    """The runtime_py kernel module of an operator."""
    return importlib.import_module(f"edgenn.runtime_py.kernels.{check_name(name)}")


@lru_cache(maxsize=None)
def rule(name: str) -> ModuleType:
    """The converter module (quantization rule) of an operator."""
    return importlib.import_module(f"edgenn.converter.ops.{check_name(name)}")
