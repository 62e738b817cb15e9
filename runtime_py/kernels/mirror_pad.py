"""mirror_pad int8 kernel (TFLM MirrorPad REFLECT / SYMMETRIC; ONNX Pad reflect / edge): every output
element is an input element, mirrored (or, mode edge, the nearest edge element) where it lies in
the padding. A byte copy."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_pads, mirror_index, take_axes

TRAITS = KernelTraits(overlap="none", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    t = model.tensors[op.inputs[0]]
    x = np.asarray(ins[0]).reshape((-1,) + tuple(t.shape))
    before = np.asarray(o["pads"]).reshape(-1, 2)[:, 0]
    idx = [mirror_index(no, b, ni, int(o["mode"])) for no, b, ni in zip(outs[0].shape[1:], before, t.shape)]
    outs[0][...] = np.broadcast_to(take_axes(x, idx), outs[0].shape)


check = check_pads  # (before, after) pads per axis grow the input to the output
