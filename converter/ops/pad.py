"""pad: constant padding of an int8 tensor (TFLM Pad / PadV2), rank 1..5. (ONNX Pad in modes
reflect and edge becomes a mirror_pad.)

Float attrs: ``pads`` = [(before, after) per axis] (non-negative), ``value`` = the real pad value
(default 0.0). The pad value is quantized with the output's parameters, so real 0 pads with the
output zero point, exactly as TFLM's Pad does; the output keeps the input's parameters (the
kernel copies bytes). ``value_q`` (an int8) may be given instead of ``value`` by an importer that
already holds the quantized constant (TFLite PadV2).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import per_tensor
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.fixedpoint import round_half_away

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
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
    per_tensor(op, g, op.inputs[0])
    qy = per_tensor(op, g, op.outputs[0])
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


def keeps_channels(op: Op, g: Graph) -> bool:
    """Channels pass through unless the last axis is padded."""
    pads = [tuple(int(v) for v in p) for p in op.attrs.get("pads", [])]
    return bool(pads) and pads[-1] == (0, 0)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = xs[0]
    rank = x.ndim - 1
    pads = [tuple(int(v) for v in p) for p in op.attrs.get("pads", [(0, 0)] * rank)]
    if "value_q" in op.attrs and op.attrs["value_q"] is not None:
        raise EdgennError(f"pad '{op.name}': a quantized pad value cannot be executed in float")
    value = float(op.attrs.get("value", 0.0) or 0.0)
    return [np.pad(x, [(0, 0)] + pads, mode="constant", constant_values=value)]


# ---------------------------------------------------------------------- import

def _onnx_pad(imp, node) -> None:
    mode = imp.attr_str(node, "mode", "constant")
    if mode not in ("constant", "reflect", "edge"):
        imp.fail(f"Pad mode '{mode}' is not supported (constant, reflect and edge are)")
    rank = len(imp.shape(node.input[0]))
    if imp.opset < 11:
        pads = list(imp.attr(node, "pads"))
        value = float(imp.attr(node, "value", 0.0))
    else:
        pads = imp.const(node.input[1]).reshape(-1).tolist()
        cv = imp.optional_const(node, 2)
        value = 0.0 if cv is None else float(np.asarray(cv).reshape(-1)[0])
        if len(node.input) > 3 and node.input[3]:
            axes = [int(a) % rank for a in imp.const(node.input[3]).reshape(-1)]
            full = [0] * (2 * rank)
            for k, a in enumerate(axes):
                full[a], full[a + rank] = pads[k], pads[k + len(axes)]
            pads = full
    if any(p < 0 for p in pads):
        imp.fail("negative pads (cropping) are not supported")
    lay = imp.layout(node.input[0])
    x = imp.get(node.input[0], lay)
    y = imp.new_output(node.output[0], lay)
    internal = [(int(pads[a]), int(pads[a + rank])) for a in lay]
    if mode == "constant":
        imp.add("pad", [x], [y], pads=internal, value=value)
    else:  # every output element is an input element: the mirror_pad operator
        imp.add("mirror_pad", [x], [y], pads=internal, mode=mode)


def _tflite_pad(imp, op) -> None:
    """PAD / PADV2 (with a constant int8 pad value)."""
    p = imp.const(op.inputs[1])
    if p is None:
        imp.fail(op, "paddings must be constant")
    pads = [tuple(int(v) for v in row) for row in np.asarray(p).reshape(-1, 2)]
    if any(v < 0 for row in pads for v in row):
        imp.fail(op, "negative paddings are not supported")
    attrs: dict = {"pads": pads}
    if op.code == "PADV2" and len(op.inputs) > 2 and op.inputs[2] >= 0:
        cv = imp.const(op.inputs[2])
        if cv is None:
            imp.fail(op, "the pad value must be constant")
        x = imp.tensor(op.inputs[0])
        attrs["value"] = (float(np.asarray(cv).reshape(-1)[0]) - x.quant.zp) * x.quant.s
        attrs["value_q"] = int(np.asarray(cv).reshape(-1)[0])
    imp.unary(op, "pad", **attrs)


ONNX = {"Pad": _onnx_pad}
TFLITE = {"PAD": _tflite_pad, "PADV2": _tflite_pad}
