"""transpose int8 kernel (TFLM reference_ops::Transpose)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import io_shapes, require

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0])
    if t.is_const:
        x = x.reshape((1,) + tuple(t.shape))
    perm = [int(p) + 1 for p in op.options["perm"]]
    outs[0][...] = np.transpose(x, [0] + perm).copy()


def check(op, model) -> None:
    """perm is a permutation of the input's axes and the output is the input permuted."""
    (x,), (y,) = io_shapes(op, model)
    perm = [int(p) for p in np.asarray(op.options["perm"]).reshape(-1)]
    require(sorted(perm) == list(range(len(x))) and tuple(x[p] for p in perm) == y,
            f"perm {perm} does not map {x} to {y}")
