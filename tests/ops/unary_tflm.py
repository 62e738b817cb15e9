"""Single-operator int8 .tflite models of an elementwise activation, judged by TFLM.

Each model is built with tflite_builder, imported with edgenn's TFLite importer, and run by TFLM
(the tflite-micro package), runtime_py and the host C build; all three must agree byte for byte.
Every case sees the extremes (all -128, all 127) and every int8 value (cycled over its shape).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from harness import random_inputs, run_c_host
from edgenn.runtime_py.interpreter import Interpreter


def unary_tflite(code: str, shape: tuple[int, ...], x_q: tuple[float, int], y_q: tuple[float, int],
                 options: str | None = None, fields: dict | None = None) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    return build([TfTensor("x", shape, "int8", *x_q), TfTensor("y", shape, "int8", *y_q)],
                 [TfOp(code, [0], [1], options, fields or {})], [0], [1])


def judge_unary(datas: list[bytes], seed: int = 0, samples: int = 4) -> int:
    """TFLM == runtime_py == host C for every .tflite in ``datas``; returns the number of cases."""
    from tflite_builder import run_tflm
    from edgenn.converter.tflite_import import convert_tflite_bytes

    rng = np.random.default_rng(seed)
    models, inputs, want = [], [], []
    for i, data in enumerate(datas):
        model = convert_tflite_bytes(data, f"t{i}")
        xs = random_inputs(model, samples, rng)
        shape = xs[0].shape[1:]
        xs[0][2] = np.resize(np.arange(-128, 128, dtype=np.int16).astype(np.int8), shape)
        y_tflm = run_tflm(data, xs)[0].reshape((samples,) + shape)
        y_py = Interpreter(model).invoke(*xs)[0]
        assert np.array_equal(y_py, y_tflm), (
            f"case {i} ({model.ops[0].type}, options {model.ops[0].options}): python != TFLM at "
            f"{np.argwhere(y_py != y_tflm)[:3].tolist()}")
        models.append(model)
        inputs.append(xs)
        want.append(y_tflm)
    work = Path(tempfile.mkdtemp(prefix="edgenn-tflm-"))
    try:
        got = run_c_host(models, inputs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for i, (g, w) in enumerate(zip(got, want)):
        assert np.array_equal(g[0], w), f"case {i}: edgenn C != TFLM"
    return len(datas)
