"""max_pool2d int8 kernel (TFLM reference_integer_ops::MaxPool)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_pool, single_window, windows

TRAITS = KernelTraits(overlap="windowed", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    x = np.asarray(ins[0])
    x = x.reshape((-1,) + x.shape[-3:])  # samples x model batch
    o = op.options
    y = outs[0]
    out_hw = (y.shape[-3], y.shape[-2])
    win = single_window(x, o, out_hw)
    if win is not None:
        m = win.max(axis=(1, 2), keepdims=True)
        outs[0][...] = np.clip(m, o["act_min"], o["act_max"]).astype(np.int8).reshape(y.shape)
        return
    m = None
    # -128 is TFLM's starting value of the running max, so padding with it changes nothing.
    for v in windows(x, o, out_hw, -128):
        m = v.copy() if m is None else np.maximum(m, v, out=m)
    outs[0][...] = np.clip(m, o["act_min"], o["act_max"]).astype(np.int8).reshape(y.shape)


check = check_pool  # 4-D, batch and channels kept, a stated window of at least one tap
