"""transpose int8 kernel (TFLM reference_ops::Transpose)."""
from __future__ import annotations

import numpy as np


def run(op, model, ins, outs, scratch) -> None:
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0])
    if t.is_const:
        x = x.reshape((1,) + tuple(t.shape))
    perm = [int(p) + 1 for p in op.options["perm"]]
    outs[0][...] = np.transpose(x, [0] + perm).copy()
