"""gather int8 kernel (TFLM Gather with constant indices): for every batch and outer position, the
rows of the input's ``axis`` named by ``indices`` (``batch_dims`` leading axes shared by the input
and the indices). A byte copy: no requantization."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import gather_rows

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0]).reshape((-1,) + tuple(t.shape))
    y = gather_rows(x, t.shape, int(o["axis"]), int(o["batch_dims"]), o["indices"])
    outs[0][...] = np.broadcast_to(y.reshape((y.shape[0],) + tuple(outs[0].shape[1:])), outs[0].shape)
