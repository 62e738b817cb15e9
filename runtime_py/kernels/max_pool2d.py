"""max_pool2d int8 kernel (TFLM reference_integer_ops::MaxPool). Also the pooling helpers of avg_pool2d."""
from __future__ import annotations

import numpy as np


def windows(x: np.ndarray, o: dict, out_hw: tuple[int, int], fill: int):
    """Yield, per filter tap (ky, kx), the (N, OH, OW, C) input values under that tap of every
    output window, with out-of-bounds positions set to ``fill``."""
    n, h, w, c = x.shape
    oh, ow = out_hw
    fh, fw, sh, sw = o["filter_h"], o["filter_w"], o["stride_h"], o["stride_w"]
    pt, pl = o["pad_top"], o["pad_left"]
    ph = max((oh - 1) * sh + fh, pt + h)
    pw = max((ow - 1) * sw + fw, pl + w)
    xp = np.full((n, ph, pw, c), fill, dtype=x.dtype)
    xp[:, pt:pt + h, pl:pl + w, :] = x
    for ky in range(fh):
        for kx in range(fw):
            yield xp[:, ky:ky + (oh - 1) * sh + 1:sh, kx:kx + (ow - 1) * sw + 1:sw, :]


def single_window(x: np.ndarray, o: dict, out_hw: tuple[int, int]) -> np.ndarray | None:
    """The in-bounds part of the only window when the output is 1x1 (global pooling), else None."""
    if tuple(out_hw) != (1, 1):
        return None
    h, w = x.shape[1], x.shape[2]
    y0, x0 = -o["pad_top"], -o["pad_left"]
    return x[:, max(0, y0):min(h, y0 + o["filter_h"]), max(0, x0):min(w, x0 + o["filter_w"]), :]


def valid_counts(o: dict, in_hw: tuple[int, int], out_hw: tuple[int, int]) -> np.ndarray:
    """(OH, OW) number of in-bounds elements of each window (TFLM's filter_count)."""
    def one(out: int, size: int, f: int, s: int, p: int) -> np.ndarray:
        origin = np.arange(out) * s - p
        return np.minimum(f, size - origin) - np.maximum(0, -origin)
    ch = one(out_hw[0], in_hw[0], o["filter_h"], o["stride_h"], o["pad_top"])
    cw = one(out_hw[1], in_hw[1], o["filter_w"], o["stride_w"], o["pad_left"])
    return np.outer(ch, cw)


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
