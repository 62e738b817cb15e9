"""Record LiteRT's int8 GELU outputs as the judge of edgenn's GELU tables (gelu_litert.npz).

The tflite-micro package registers no GELU kernel, so TFLM cannot judge TFLite's GELU. TFLM's source
(and LiteRT's) build the same table in Prepare (LUTPopulate of the float32 GeluTransform /
GeluTransformApproximate); this script runs LiteRT's reference kernels (BUILTIN_REF) on every int8
input of 32 random quantizations, exact and tanh-approximate, and stores the quantizations and the
outputs. Run with a virtualenv that has TensorFlow and the `tflite` package:

    /work/tfenv/bin/python tests/data/tflite/make_gelu_tables.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # tests/: tflite_builder

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tflite_builder import TfOp, TfTensor, build  # noqa: E402

N = 32


def gelu_model(sx: float, zx: int, sy: float, zy: int, approximate: bool) -> bytes:
    """A (1, 256) int8 GELU model."""
    return build([TfTensor("x", (1, 256), "int8", sx, zx), TfTensor("y", (1, 256), "int8", sy, zy)],
                 [TfOp("GELU", [0], [1], "GeluOptions", {"Approximate": approximate})], [0], [1])


def quantizations(n: int = N) -> list[tuple[float, int, float, int, bool]]:
    rng = np.random.default_rng(2640)
    res = []
    for i in range(n):
        sx = float(np.exp(rng.uniform(np.log(1e-3), np.log(0.5))))
        sy = sx * float(rng.choice([1.0, np.exp(rng.uniform(np.log(0.2), np.log(5.0)))]))
        zx, zy = (int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))])) for _ in range(2))
        res.append((sx, zx, sy, zy, bool(i % 2)))
    return res


def main() -> None:
    x = np.arange(-128, 128, dtype=np.int16).astype(np.int8).reshape(1, 256)
    qs = quantizations()
    outs = []
    for q in qs:
        it = tf.lite.Interpreter(model_content=gelu_model(*q),
                                 experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        outs.append(it.get_tensor(it.get_output_details()[0]["index"]).reshape(256))
    np.savez_compressed(HERE / "gelu_litert.npz", quant=np.asarray([q[:4] for q in qs], np.float64),
                        approximate=np.asarray([q[4] for q in qs]), outputs=np.asarray(outs, np.int8))
    print(f"wrote {HERE / 'gelu_litert.npz'}: {len(qs)} quantizations")


if __name__ == "__main__":
    main()
