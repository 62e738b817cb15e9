"""pad int8 kernel (TFLM reference_ops::Pad with a constant pad value)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import io_shapes, require

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


def check(op, model) -> None:
    """pads: (before, after) per axis, not negative, growing the input to the output's shape."""
    (x,), (y,) = io_shapes(op, model)
    pads = np.asarray(op.options["pads"], np.int64).reshape(-1)
    require(pads.size == 2 * len(x) and len(y) == len(x) and bool(np.all(pads >= 0))
            and all(a + int(b) + int(c) == o for a, (b, c), o in zip(x, pads.reshape(-1, 2), y)),
            f"pads {pads.tolist()} do not grow {x} to {y}")
