"""concat int8 kernel (TFLM reference_ops::Concatenation: a copy, no requantization)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits

TRAITS = KernelTraits(overlap="concat", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    n = outs[0].shape[0]
    parts = []
    for ti, x in zip(op.inputs, ins):
        t = model.tensors[ti]
        parts.append(np.broadcast_to(x, (n,) + tuple(t.shape)) if t.is_const else x)
    outs[0][...] = np.concatenate(parts, axis=int(op.options["axis"]) + 1)
