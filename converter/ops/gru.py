"""gru: a GRU in TFLM's integer LSTM arithmetic (edgenn's own formulation: TFLM has no GRU; see
runtime_py/kernels/gru.py); ONNX GRU imports as one per direction, linear_before_reset either way.

Inputs: x, input weights z r h (H, I), recurrent weights z r h (H, H), input biases z r h (H, int32,
scale input x weight; z and r hold the input and recurrent biases summed, h without
linear_before_reset too), the recurrent bias of h (H, int32, scale hidden x weight; with
linear_before_reset), hidden state (variable int8, B x H); output y, the hidden state of every step.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op, QParams
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import (GATE_OUT_SCALE, GATE_PRE_SCALE, add_state, gate_biases, gate_multipliers,
                                         gate_weights, hidden_state_initial, initial_state, onnx_recurrent,
                                         product_multiplier, quantize_gate_constants, recurrent_float_steps,
                                         recurrent_hidden_options, recurrent_macs, recurrent_sizes, sigmoid,
                                         state_tensor)
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
CALIBRATE_GRAPH = True  # as lstm: the recurrent layers calibrate on the float graph
GATES = 3  # z, r, h


def prepare(op: Op, g: Graph) -> None:
    if len(op.inputs) != 12 or len(op.outputs) != 1:
        raise EdgennError(f"gru '{op.name}': expected 12 inputs and 1 output (after quantization), got "
                          f"{len(op.inputs)} and {len(op.outputs)}")
    _, batch, n_in, hidden = recurrent_sizes(op, g)
    wx = gate_weights(op, g, op.inputs[1:4], hidden, n_in)
    wh = gate_weights(op, g, op.inputs[4:7], hidden, hidden)
    gate_biases(op, g, op.inputs[7:11], hidden)
    h_q = state_tensor(op, g, op.inputs[11], "int8", batch * hidden)
    lbr = bool(op.attrs.get("linear_before_reset", False))
    if h_q.s < GATE_OUT_SCALE:
        raise EdgennError(f"gru '{op.name}': the hidden state's scale {h_q.s:g} is below 2^-15 (a range too small "
                          "for the update's fixed-point arithmetic)")
    opts = recurrent_hidden_options(op, g, op.inputs[11])
    im, ish = gate_multipliers(g.tensors[op.inputs[0]].quant, wx)
    rm, rsh = gate_multipliers(h_q, wh)
    # r (Q0.15) x (h Rh + Rbh) (Q3.12) -> Q3.12, or r x (h - zp) -> the hidden state's scale: 2^-15 both
    reset = product_multiplier(GATE_OUT_SCALE, GATE_PRE_SCALE, GATE_PRE_SCALE) if lbr else \
        product_multiplier(GATE_OUT_SCALE, h_q.s, h_q.s)
    upd = quantize_multiplier(GATE_OUT_SCALE / float(np.float32(h_q.s)))
    op.options = {**opts, "linear_before_reset": lbr, "input_fc_multiplier": im, "input_fc_shift": ish,
                  "recurrent_fc_multiplier": rm, "recurrent_fc_shift": rsh, "reset_multiplier": reset[0],
                  "reset_shift": reset[1], "update_multiplier": upd[0], "update_shift": upd[1]}


def scratch_bytes(op: Op, g: Graph) -> int:
    """Four int16 vectors of the hidden size (z, r, the candidate and a product), plus one int8 (r * h)."""
    h = recurrent_sizes(op, g)[3]
    return 4 * h * 2 + (h + 3) // 4 * 4


def macs(op: Op, g: Graph) -> int:
    return recurrent_macs(op, g, GATES)


# ---------------------------------------------------------------------- float (ONNX)

def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    """ONNX GRU semantics for one direction (gates z, r, h; biases as the importer folded them)."""
    wx = [np.asarray(v, np.float64) for v in xs[1:4]]
    wh = [np.asarray(v, np.float64) for v in xs[4:7]]
    bx = [np.asarray(v, np.float64) if v is not None else 0.0 for v in xs[7:10]]
    bh = np.asarray(xs[10], np.float64) if xs[10] is not None else 0.0
    hidden = wx[0].shape[0]
    lbr = bool(op.attrs.get("linear_before_reset", False))
    batch = np.asarray(xs[0]).shape[2 if op.attrs.get("time_major") else 1]
    st = {"h": initial_state(op, "h0", n, batch, hidden)}

    def step(x_t, s):
        h = s["h"]
        z = sigmoid(x_t @ wx[0].T + h @ wh[0].T + bx[0])
        r = sigmoid(x_t @ wx[1].T + h @ wh[1].T + bx[1])
        rec = r * (h @ wh[2].T + bh) if lbr else (r * h) @ wh[2].T
        s["h"] = (1 - z) * np.tanh(x_t @ wx[2].T + rec + bx[2]) + z * h
        return s["h"], None

    return [recurrent_float_steps(op, xs, step, n, hidden, st)[0]]


def quantize_constants(op: Op, g: Graph) -> None:
    """ONNX path: per-tensor int8 gate weights, int32 biases, the hidden state tensor."""
    if len(op.inputs) != 11:
        return  # already quantized
    x, y = op.inputs[0], g.tensors[op.outputs[0]]
    h_q = QParams(y.quant.scale.copy(), y.quant.zero_point.copy())
    _, batch, _, hidden = recurrent_sizes(op, g)
    h = add_state(g, op, "hidden", "int8", (batch, hidden), h_q, hidden_state_initial(op, h_q, batch, hidden))
    op.inputs = list(op.inputs) + [h]
    quantize_gate_constants(op, g, op.inputs[1:7], [(op.inputs[7], x, op.inputs[1]), (op.inputs[8], x, op.inputs[2]),
                                                    (op.inputs[9], x, op.inputs[3]), (op.inputs[10], h, op.inputs[6])])


# ---------------------------------------------------------------------- import

def _onnx_attrs_for(lbr: bool):
    def attrs(acts: list[str], b: np.ndarray, hidden: int, order: list[int]) -> dict:
        if acts != ["Sigmoid", "Tanh"]:
            raise UnsupportedOpError(f"GRU activations {acts} are not supported (Sigmoid, Tanh)")
        wb = [b[k * hidden:(k + 1) * hidden] for k in range(GATES)]
        rb = [b[(GATES + k) * hidden:(GATES + k + 1) * hidden] for k in range(GATES)]
        bias = [wb[0] + rb[0], wb[1] + rb[1], wb[2] if lbr else wb[2] + rb[2], rb[2] if lbr else None]
        return {"#bias": bias, "linear_before_reset": lbr}
    return attrs


def _onnx_gru(imp, node) -> None:
    lbr = bool(int(imp.attr(node, "linear_before_reset", 0)))
    onnx_recurrent(imp, node, "gru", GATES, [0, 1, 2], _onnx_attrs_for(lbr))


ONNX = {"GRU": _onnx_gru}
TFLITE: dict = {}
