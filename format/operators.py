"""The operators a .enn file can hold: the one list of operator names, with their OpType numbers.

This is the registry. An operator ``name`` is known to every layer by that name alone:

- the format:    ``format/schema/ops/<name>.fbs`` (its options table; OpType and the options union
                 are generated from this list by ``make schema``),
- the runtime:   ``runtime_py/kernels/<name>.py`` (numpy kernel, traits) and
                 ``templates/kernels/<name>.c|.h`` + ``templates/ops/<name>.c.j2`` (C kernel and its call),
- the converter: ``converter/ops/<name>.py`` (quantization rule, float execution, import handlers, traits),
- the tests:     ``tests/ops/test_<name>.py`` (+ ``test_<name>_qemu.py``).

Adding an operator: create those files (``scripts/new_operator.py NAME`` stamps them from
docs/operator_template/), add one line below with the next free number, and run ``make schema``.
Numbers are stored in .enn files: never renumber or reuse one.
"""
from __future__ import annotations

OPERATORS: dict[str, int] = {
    "conv2d": 0,
    "depthwise_conv2d": 1,
    "fully_connected": 2,
    "add": 3,
    "mul": 4,
    "max_pool2d": 5,
    "avg_pool2d": 6,
    "mean": 7,
    "softmax": 8,
    "logistic": 9,
    "pad": 10,
    "concat": 11,
    "reshape": 12,
    "transpose": 13,
    "clip": 14,
    "quantize": 15,
    "tanh": 16,
    "leaky_relu": 17,
    "hard_swish": 18,
    "resize_bilinear": 19,
    "resize_nearest": 20,
    "transpose_conv": 21,
    "slice": 22,
    "split": 23,
    "gather": 24,
    "tile": 25,
    "mirror_pad": 26,
    "sub": 27,
    "squared_difference": 28,
    "maximum_minimum": 29,
    "compare": 30,
    "select": 31,
    "prelu": 32,
    "add_n": 33,
    "lut": 34,
    "log_softmax": 35,
    "lstm": 36,
    "gru": 37,
    "rnn": 38,
    "svdf": 39,
    "batch_matmul": 40,
    "arg_min_max": 41,
    "reduce_max_min": 42,
    "l2_normalization": 43,
    "cumsum": 44,
    "lrn": 45,
    "div": 46,
}


def check_name(name: str) -> str:
    """``name`` if it is a known operator, else KeyError."""
    if name not in OPERATORS:
        raise KeyError(f"unknown operator {name!r}")
    return name
