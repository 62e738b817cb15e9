"""Single-operator int8 .tflite models of an elementwise activation, judged by TFLM.

Each model is built with tflite_builder, imported with edgenn's TFLite importer, and run by TFLM
(the tflite-micro package), runtime_py and the host C build; all three must agree byte for byte.
Every case sees the extremes (all -128, all 127) and every int8 value (cycled over its shape).
"""
from __future__ import annotations

import numpy as np

from harness import judge_tflite, random_inputs


def unary_tflite(code: str, shape: tuple[int, ...], x_q: tuple[float, int], y_q: tuple[float, int],
                 options: str | None = None, fields: dict | None = None) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    return build([TfTensor("x", shape, "int8", *x_q), TfTensor("y", shape, "int8", *y_q)],
                 [TfOp(code, [0], [1], options, fields or {})], [0], [1])


def judge_unary(datas: list[bytes], seed: int = 0, samples: int = 4) -> int:
    """TFLM == runtime_py == host C for every .tflite in ``datas``; returns the number of cases."""
    from edgenn.converter.tflite_import import convert_tflite_bytes

    rng = np.random.default_rng(seed)
    cases = []
    for i, data in enumerate(datas):
        xs = random_inputs(convert_tflite_bytes(data, f"t{i}"), samples, rng)
        xs[0][2] = np.resize(np.arange(-128, 128, dtype=np.int16).astype(np.int8), xs[0].shape[1:])
        cases.append((data, xs))
    return judge_tflite(cases)
