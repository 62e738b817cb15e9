"""select kernel (TFLM SELECT_V2, reference_ops::BroadcastSelect5DSlow): output = condition ? x : y,
the three inputs broadcast against each other; bytes are copied as they are."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_broadcast
from edgenn.runtime_py.kernels.common import operand

TRAITS = KernelTraits(overlap="elementwise", inputs=("condition", "x", "y"))


def run(op, model, ins, outs, scratch) -> None:
    rank = len(model.tensors[op.outputs[0]].shape)
    c, x, y = (operand(model, op, ins, k, rank) for k in range(3))
    outs[0][...] = np.where(c.view(np.uint8) != 0, x, y)


check = check_broadcast  # every input broadcasts to the output's shape
