"""fully_connected: y = x @ W.T + b, W int8 (out, in) per-tensor or per-channel, b int32.

Float attrs: ``act`` = (lo, hi) fused activation bounds in real units (None = unbounded).
Options follow TFLM's FullyConnected / FullyConnectedPerChannel Prepare.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.quantize_util import quantize_weights_and_bias
from edgenn.runtime_py.fixedpoint import activation_range, quantize_multiplier


def quantize_constants(op: Op, g: Graph) -> None:
    quantize_weights_and_bias(op, g, 0)


def prepare(op: Op, g: Graph) -> None:
    x, w, y = g.tensors[op.inputs[0]], g.tensors[op.inputs[1]], g.tensors[op.outputs[0]]
    mults, shifts = zip(*(quantize_multiplier(float(x.quant.scale[0]) * float(s) / float(y.quant.scale[0]))
                          for s in w.quant.scale))
    lo, hi = op.attrs.get("act", (None, None))
    act_min, act_max = activation_range(lo, hi, y.quant.s, y.quant.zp)
    op.options = {
        "input_offset": -x.quant.zp,
        "filter_offset": -int(w.quant.zero_point[0]),
        "output_offset": y.quant.zp,
        "act_min": act_min,
        "act_max": act_max,
        "out_multiplier": np.asarray(mults, np.int32),
        "out_shift": np.asarray(shifts, np.int32),
    }


def macs(op: Op, g: Graph) -> int:
    w = g.tensors[op.inputs[1]]
    y = g.tensors[op.outputs[0]]
    return int(y.size * w.shape[-1])
