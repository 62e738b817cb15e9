"""transpose int8 kernel (TFLM reference_ops::Transpose)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0])
    if t.is_const:
        x = x.reshape((1,) + tuple(t.shape))
    perm = [int(p) + 1 for p in op.options["perm"]]
    outs[0][...] = np.transpose(x, [0] + perm).copy()
