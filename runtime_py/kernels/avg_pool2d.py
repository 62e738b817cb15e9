"""avg_pool2d int8 kernel (TFLM reference_integer_ops::AveragePool)."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_pool, single_window, valid_counts, windows

TRAITS = KernelTraits(overlap="windowed", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    x = np.asarray(ins[0])
    x = x.reshape((-1,) + x.shape[-3:])  # samples x model batch
    o = op.options
    y = outs[0]
    out_hw = (y.shape[-3], y.shape[-2])
    win = single_window(x, o, out_hw)
    if win is not None:  # global pooling
        acc = win.sum(axis=(1, 2), dtype=np.int32, keepdims=True)
    else:
        # int16 sums are exact up to 255 taps (|sum| <= 255 * 128) and add faster than int32.
        acc_t = np.int16 if o["filter_h"] * o["filter_w"] <= 255 else np.int32
        acc = np.zeros((x.shape[0],) + out_hw + (x.shape[3],), dtype=acc_t)
        for v in windows(x, o, out_hw, 0):  # padding adds 0 and is not counted
            acc += v
        acc = acc.astype(np.int32)
    count = valid_counts(o, (x.shape[1], x.shape[2]), out_hw)[None, :, :, None].astype(np.int32)
    # TFLM: acc > 0 ? (acc + count/2) / count : (acc - count/2) / count, C division (toward zero).
    q = (np.abs(acc) + count // 2) // count
    q = np.where(acc > 0, q, -q)
    outs[0][...] = np.clip(q, o["act_min"], o["act_max"]).astype(np.int8).reshape(y.shape)


check = check_pool  # 4-D, batch and channels kept, a stated window of at least one tap
