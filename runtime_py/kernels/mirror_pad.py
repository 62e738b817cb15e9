"""mirror_pad int8 kernel (TFLM MirrorPad REFLECT / SYMMETRIC; ONNX Pad reflect / edge): every output
element is an input element, mirrored (or, mode edge, the nearest edge element) where it lies in
the padding. A byte copy."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import io_shapes, require
from edgenn.runtime_py.kernels.common import mirror_index, take_axes

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0]).reshape((-1,) + tuple(t.shape))
    before = np.asarray(o["pads"]).reshape(-1, 2)[:, 0]
    idx = [mirror_index(no, b, ni, int(o["mode"])) for no, b, ni in zip(outs[0].shape[1:], before, t.shape)]
    outs[0][...] = np.broadcast_to(take_axes(x, idx), outs[0].shape)


def check(op, model) -> None:
    """pads: (before, after) per axis, not negative, growing the input to the output's shape."""
    (x,), (y,) = io_shapes(op, model)
    pads = np.asarray(op.options["pads"], np.int64).reshape(-1)
    require(pads.size == 2 * len(x) and len(y) == len(x) and bool(np.all(pads >= 0))
            and all(a + int(b) + int(c) == o for a, (b, c), o in zip(x, pads.reshape(-1, 2), y)),
            f"pads {pads.tolist()} do not grow {x} to {y}")
