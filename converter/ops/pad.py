"""pad: constant padding of an int8 tensor (TFLM Pad / PadV2), rank 1..5.

Float attrs: ``pads`` = [(before, after) per axis] (non-negative), ``value`` = the real pad value
(default 0.0). The pad value is quantized with the output's parameters, so real 0 pads with the
output zero point, exactly as TFLM's Pad does; the output keeps the input's parameters (the
kernel copies bytes). ``value_q`` (an int8) may be given instead of ``value`` by an importer that
already holds the quantized constant (TFLite PadV2).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops.add import _per_tensor
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.fixedpoint import round_half_away

OUTPUT_QUANT = "same_as_input"
MAX_RANK = 5


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    rank = len(x.shape)
    if not 1 <= rank <= MAX_RANK:
        raise UnsupportedOpError(f"pad '{op.name}': rank {rank} is not supported (1..{MAX_RANK})")
    pads = [tuple(int(v) for v in p) for p in op.attrs.get("pads", [(0, 0)] * rank)]
    if len(pads) != rank or any(len(p) != 2 for p in pads):
        raise EdgennError(f"pad '{op.name}': pads {pads} must hold one (before, after) pair per axis of {x.shape}")
    if any(v < 0 for p in pads for v in p):
        raise UnsupportedOpError(f"pad '{op.name}': negative pads (cropping) are not supported: {pads}")
    want = tuple(s + a + b for s, (a, b) in zip(x.shape, pads))
    if tuple(y.shape) != want:
        raise EdgennError(f"pad '{op.name}': output shape {y.shape} should be {want} for pads {pads}")
    _per_tensor(op, g, op.inputs[0])
    qy = _per_tensor(op, g, op.outputs[0])
    if "value_q" in op.attrs and op.attrs["value_q"] is not None:
        q = int(op.attrs["value_q"])
    else:
        value = float(op.attrs.get("value", 0.0) or 0.0)
        if not np.isfinite(value):
            raise EdgennError(f"pad '{op.name}': pad value {value} is not finite")
        q = qy.zp + round_half_away(value / qy.s)
    op.options = {
        "pads": np.asarray([v for p in pads for v in p], np.int32),
        "pad_value": int(min(max(q, -128), 127)),
    }
