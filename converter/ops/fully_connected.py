"""fully_connected: y = x @ W.T + b, W int8 (out, in) per-tensor or per-channel, b int32.

Float attrs: ``act`` = (lo, hi) fused activation bounds in real units (None = unbounded).
Options follow TFLM's FullyConnected / FullyConnectedPerChannel Prepare.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import onnx_fully_connected
from edgenn.converter.quantize_util import quantize_weights_and_bias
from edgenn.runtime_py.fixedpoint import activation_range, quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=0, fused_activation=True, same_quant_inputs=False,
                    channels="dense")


def quantize_constants(op: Op, g: Graph) -> None:
    quantize_weights_and_bias(op, g, TRAITS.weight_axis)


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


# ---------------------------------------------------------------------- float

def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x, w, b = xs[0], xs[1], xs[2] if len(xs) > 2 else None
    units, depth = w.shape[0], w.shape[-1]
    y = x.reshape(-1, depth).astype(np.float64) @ w.reshape(units, depth).T
    if b is not None:
        y += b.reshape(-1)
    return [y]


def mean_output(op: Op, dw: np.ndarray, mean_in: np.ndarray) -> np.ndarray:
    """Expected output change per unit of weights changed by ``dw`` on inputs of mean ``mean_in``."""
    return dw @ mean_in


def design_rows(op: Op, g: Graph, x: np.ndarray) -> np.ndarray:
    """The input as least-squares rows: output = rows @ W.T."""
    return x.reshape(-1, x.shape[-1])


# ---------------------------------------------------------------------- import

def _onnx_gemm(imp, node) -> None:
    if len(imp.shape(node.input[0])) != 2:
        imp.fail("Gemm input must be 2-D")
    x = node.input[0]
    if imp.attr(node, "transA", 0):
        # A transposed: a transpose op, then the ordinary fully connected layer
        t = imp.get(x)
        m, k = imp.shape(x)
        xt = imp.g.add_tensor(imp.g.unique(x + "_T"), (k, m), origin=None)
        imp.add("transpose", [t], [xt.name], perm=(1, 0))
        x = x + "#T"
        imp.relabel(x, xt.name, (0, 1), (k, m))
    b = imp.const(node.input[1], "B").astype(np.float64)
    w = b if imp.attr(node, "transB", 0) else b.T  # (units, K)
    w = w * float(imp.attr(node, "alpha", 1.0))
    c = imp.optional_const(node, 2)
    units = w.shape[0]
    bias = None
    extra = None
    if c is not None:
        c = np.asarray(c, np.float64) * float(imp.attr(node, "beta", 1.0))
        if c.size == 1:
            bias = np.full(units, float(c.reshape(-1)[0]))
        elif c.size == units:
            bias = c.reshape(-1)
        else:
            extra = c  # a full matrix: added after the product
    if extra is None:
        onnx_fully_connected(imp, x, w, bias, node.output[0])
        return
    mid = node.output[0] + "#product"
    imp.shapes[mid] = imp.shape(node.output[0])
    onnx_fully_connected(imp, x, w, None, mid)
    imp.g.tensors[imp.values[mid].tensor].origin = None  # no ONNX value: range derived from the add
    y = imp.new_output(node.output[0])
    cc = imp.g.add_const(f"{node.output[0]}_bias", imp.channel_const(extra, mid).astype(np.float32)).name
    imp.add("add", [imp.get(mid), cc], [y], act=(None, None))


def _tflite_fully_connected(imp, op) -> None:
    o = op.options
    act = (None, None)
    if o is not None:
        if o.WeightsFormat() != 0:
            imp.fail(op, "shuffled weights format is not supported")
        act = imp.act(op, o.FusedActivationFunction())
    if imp.tensor(op.inputs[1]).data is None:
        imp.fail(op, "weights must be constant")
    imp.add(op, "fully_connected", op.inputs[:2] + imp.optional(op, 2), op.outputs[:1], act=act)


ONNX = {"Gemm": _onnx_gemm}  # MatMul: converter/ops/batch_matmul.py (a 2-D constant right operand comes here)
TFLITE = {"FULLY_CONNECTED": _tflite_fully_connected}
