"""pad int8 kernel (TFLM reference_ops::Pad with a constant pad value)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_pads

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x = ins[0]
    t = model.tensors[op.inputs[0]]
    pads = np.asarray(o["pads"]).reshape(-1, 2)
    out = np.full(outs[0].shape, np.int8(o["pad_value"]), dtype=np.int8)
    region = (slice(None),) + tuple(slice(int(b), int(b) + s) for (b, _), s in zip(pads, t.shape))
    out[region] = x
    outs[0][...] = out


check = check_pads  # (before, after) pads per axis grow the input to the output
