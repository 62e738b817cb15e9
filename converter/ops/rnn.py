"""rnn: an Elman RNN, h = f(x Wi + h Ri + b) with f tanh or sigmoid, in TFLM's integer LSTM
arithmetic (edgenn's own; see runtime_py/kernels/rnn.py); ONNX RNN imports as one per direction.

Inputs: x, input weights (H, I), recurrent weights (H, H), bias (H, int32: input and recurrent
biases summed, scale input x weight), hidden state (variable int8, B x H); output y.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op, QParams
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import (GATE_OUT_SCALE, add_state, gate_biases, gate_multipliers, gate_weights,
                                         hidden_state_initial, initial_state, onnx_recurrent, quantize_gate_constants,
                                         recurrent_float_steps, recurrent_hidden_options, recurrent_macs,
                                         recurrent_sizes, sigmoid, state_tensor)
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
CALIBRATE_GRAPH = True  # as lstm: the recurrent layers calibrate on the float graph


def prepare(op: Op, g: Graph) -> None:
    if len(op.inputs) != 5 or len(op.outputs) != 1:
        raise EdgennError(f"rnn '{op.name}': expected 5 inputs and 1 output (after quantization)")
    _, batch, n_in, hidden = recurrent_sizes(op, g)
    (wx,) = gate_weights(op, g, op.inputs[1:2], hidden, n_in)
    (wh,) = gate_weights(op, g, op.inputs[2:3], hidden, hidden)
    gate_biases(op, g, op.inputs[3:4], hidden)
    h_q = state_tensor(op, g, op.inputs[4], "int8", batch * hidden)
    act = op.attrs.get("activation", "tanh")
    if act not in ("tanh", "sigmoid"):
        raise UnsupportedOpError(f"rnn '{op.name}': activation {act!r} is not supported (tanh, sigmoid)")
    opts = recurrent_hidden_options(op, g, op.inputs[4])
    im, ish = gate_multipliers(g.tensors[op.inputs[0]].quant, [wx])
    rm, rsh = gate_multipliers(h_q, [wh])
    om, osh = quantize_multiplier(GATE_OUT_SCALE / float(np.float32(h_q.s)))
    op.options = {**opts, "input_fc_multiplier": int(im[0]), "input_fc_shift": int(ish[0]),
                  "recurrent_fc_multiplier": int(rm[0]), "recurrent_fc_shift": int(rsh[0]), "output_multiplier": om,
                  "output_shift": osh, "sigmoid": act == "sigmoid"}


def scratch_bytes(op: Op, g: Graph) -> int:
    """Two int16 vectors of the hidden size (the two products, then the activation)."""
    return 2 * recurrent_sizes(op, g)[3] * 2


def macs(op: Op, g: Graph) -> int:
    return recurrent_macs(op, g, 1)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    """ONNX RNN semantics for one direction: h = f(x Wi + h Ri + Wbi + Rbi)."""
    wx, wh = np.asarray(xs[1], np.float64), np.asarray(xs[2], np.float64)
    b = np.asarray(xs[3], np.float64) if xs[3] is not None else 0.0
    f = sigmoid if op.attrs.get("activation", "tanh") == "sigmoid" else np.tanh
    batch = np.asarray(xs[0]).shape[2 if op.attrs.get("time_major") else 1]
    st = {"h": initial_state(op, "h0", n, batch, wx.shape[0])}

    def step(x_t, s):
        s["h"] = f(x_t @ wx.T + s["h"] @ wh.T + b)
        return s["h"], None

    return [recurrent_float_steps(op, xs, step, n, wx.shape[0], st)[0]]


def quantize_constants(op: Op, g: Graph) -> None:
    """ONNX path: per-tensor int8 weights, an int32 bias, the hidden state tensor."""
    if len(op.inputs) != 4:
        return
    y = g.tensors[op.outputs[0]]
    h_q = QParams(y.quant.scale.copy(), y.quant.zero_point.copy())
    _, batch, _, hidden = recurrent_sizes(op, g)
    quantize_gate_constants(op, g, op.inputs[1:3], [(op.inputs[3], op.inputs[0], op.inputs[1])])
    op.inputs = list(op.inputs) + [add_state(g, op, "hidden", "int8", (batch, hidden), h_q,
                                             hidden_state_initial(op, h_q, batch, hidden))]


def _onnx_attrs(acts: list[str], b: np.ndarray, hidden: int, order: list[int]) -> dict:
    if acts[0] not in ("Tanh", "Sigmoid"):
        raise UnsupportedOpError(f"RNN activation {acts[0]} is not supported (Tanh, Sigmoid)")
    return {"#bias": [b[:hidden] + b[hidden:2 * hidden]], "activation": acts[0].lower()}


def _onnx_rnn(imp, node) -> None:
    onnx_recurrent(imp, node, "rnn", 1, [0], _onnx_attrs)


ONNX = {"RNN": _onnx_rnn}
TFLITE: dict = {}
