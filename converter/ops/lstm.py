"""lstm: TFLM's integer UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int16 gates and
cell state), one direction of a sequence; ONNX LSTM imports as one per direction.

Inputs: x, input weights i f c o (H, I), recurrent weights i f c o (H, H), biases i f c o (H, int32),
hidden state (variable int8, B x H), cell state (variable int16, B x H); output y, the hidden state of
every step. Float attrs: see converter/ops/common.py ("recurrent operators"). Options follow TFLM's
UnidirectionalSequenceLstmPrepare (lstm_eval_common.cc): each gate's two fully connected layers
requantize to Q3.12, the inter-gate products to the cell scale (a power of two) and to the hidden
state. TFLM's kernel has no peephole, projection, layer normalization or coupled input-forget gate:
those are refused.

The float graph (ONNX) has a second output, the cell state of every step: calibration measures it
and ``quantize_constants`` turns it into the int16 cell state's scale, the smallest power of two
that holds the range, then replaces it by the two state tensors.
"""
from __future__ import annotations

import math

import numpy as np

from edgenn.converter.graph import Graph, Op, QParams
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import (GATE_OUT_SCALE, add_state, gate_biases, gate_multipliers, gate_weights,
                                         hidden_state_initial, initial_state, onnx_recurrent, product_multiplier,
                                         quantize_gate_constants, recurrent_float_steps, recurrent_hidden_options,
                                         recurrent_macs, recurrent_sizes, sigmoid, state_tensor)
from edgenn.errors import EdgennError, UnsupportedOpError
from edgenn.runtime_py.fixedpoint import round_half_away

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
# Calibrate on the float graph (converter/float_exec.py): the cell state's range is not an ONNX value.
CALIBRATE_GRAPH = True
GATES = 4  # i, f, c, o


def cell_scale_power(scale: float) -> int:
    """TFLM CheckedLog2 (float32 arithmetic): the rounded log2 of the cell state's scale."""
    f = np.float32
    return round_half_away(float(f(np.log(f(scale))) * (f(1.0) / f(np.log(f(2.0))))))


def prepare(op: Op, g: Graph) -> None:
    if len(op.inputs) != 15 or len(op.outputs) != 1:
        raise EdgennError(f"lstm '{op.name}': expected 15 inputs and 1 output (after quantization), got "
                          f"{len(op.inputs)} and {len(op.outputs)}")
    steps, batch, n_in, hidden = recurrent_sizes(op, g)
    wx = gate_weights(op, g, op.inputs[1:5], hidden, n_in)
    wh = gate_weights(op, g, op.inputs[5:9], hidden, hidden)
    gate_biases(op, g, op.inputs[9:13], hidden)
    if any(not b for b in op.inputs[9:13]):
        raise EdgennError(f"lstm '{op.name}': TFLM's LSTM needs all four gate biases")
    h_q = state_tensor(op, g, op.inputs[13], "int8", batch * hidden)
    c_q = state_tensor(op, g, op.inputs[14], "int16", batch * hidden)
    if c_q.zp != 0:
        raise EdgennError(f"lstm '{op.name}': the cell state must be symmetric (zero point 0)")
    opts = recurrent_hidden_options(op, g, op.inputs[13])
    x_q = g.tensors[op.inputs[0]].quant
    im, ish = gate_multipliers(x_q, wx)
    rm, rsh = gate_multipliers(h_q, wh)
    fm, fs = product_multiplier(GATE_OUT_SCALE, c_q.s, c_q.s)
    cm, cs = product_multiplier(GATE_OUT_SCALE, GATE_OUT_SCALE, c_q.s)
    om, osh = product_multiplier(GATE_OUT_SCALE, GATE_OUT_SCALE, h_q.s)
    clip = op.attrs.get("cell_clip")
    clip = float(np.float32(clip)) if clip else 0.0
    q_clip = int(math.trunc(min(max(clip / float(np.float32(c_q.s)), -32768.0), 32767.0))) if clip > 0 else 0
    gate = op.attrs.get("cell_gate", "tanh")
    if gate not in ("tanh", "sigmoid"):
        raise UnsupportedOpError(f"lstm '{op.name}': cell gate activation {gate!r} is not supported (tanh, sigmoid)")
    op.options = {**opts, "input_fc_multiplier": im, "input_fc_shift": ish, "recurrent_fc_multiplier": rm,
                  "recurrent_fc_shift": rsh, "forget_cell_multiplier": fm, "forget_cell_shift": fs,
                  "input_cell_multiplier": cm, "input_cell_shift": cs, "output_multiplier": om, "output_shift": osh,
                  "has_cell_clip": clip > 0, "cell_clip": q_clip, "cell_scale_power": cell_scale_power(c_q.s),
                  "cell_gate_sigmoid": gate == "sigmoid"}


def scratch_bytes(op: Op, g: Graph) -> int:
    """Four int16 vectors of the hidden size (TFLM's four gate buffers; the kernel runs the batch
    rows one after the other, so one row's worth suffices)."""
    return 4 * recurrent_sizes(op, g)[3] * 2


def macs(op: Op, g: Graph) -> int:
    return recurrent_macs(op, g, GATES)


# ---------------------------------------------------------------------- float (ONNX)

def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    """ONNX LSTM semantics for one direction: i, f, o = sigmoid(.), g = cell_gate(.), c = f c + i g,
    h = o tanh(c); returns y and the cell state of every step."""
    wx = [np.asarray(v, np.float64) for v in xs[1:5]]
    wh = [np.asarray(v, np.float64) for v in xs[5:9]]
    bias = [np.asarray(v, np.float64) if v is not None else 0.0 for v in xs[9:13]]
    hidden = wx[0].shape[0]
    act_g = sigmoid if op.attrs.get("cell_gate", "tanh") == "sigmoid" else np.tanh
    clip = op.attrs.get("cell_clip")
    batch = np.asarray(xs[0]).shape[2 if op.attrs.get("time_major") else 1]
    st = {"h": initial_state(op, "h0", n, batch, hidden), "c": initial_state(op, "c0", n, batch, hidden)}

    def step(x_t, s):
        pre = [x_t @ wx[k].T + s["h"] @ wh[k].T + bias[k] for k in range(GATES)]
        c = sigmoid(pre[1]) * s["c"] + sigmoid(pre[0]) * act_g(pre[2])
        if clip:
            c = np.clip(c, -clip, clip)
        s["c"], s["h"] = c, sigmoid(pre[3]) * np.tanh(c)
        return s["h"], c

    y, cells = recurrent_float_steps(op, xs, step, n, hidden, st)
    tm = bool(op.attrs.get("time_major"))
    c_seq = np.stack(cells, axis=1 if tm else 2)
    if op.attrs.get("reverse"):
        c_seq = np.flip(c_seq, axis=1 if tm else 2)
    return [y, c_seq]


def quantize_constants(op: Op, g: Graph) -> None:
    """ONNX path: per-tensor int8 gate weights, int32 biases, and the two state tensors (the cell
    state's scale from the calibrated cell output, which then leaves the graph)."""
    if len(op.outputs) != 2:
        return  # imported from TFLite: already quantized
    x, y, cell = op.inputs[0], g.tensors[op.outputs[0]], g.tensors[op.outputs[1]]
    ws = op.inputs[1:9]
    quantize_gate_constants(op, g, ws, [(b, x, w) for b, w in zip(op.inputs[9:13], ws[:4])])
    _, batch, _, hidden = recurrent_sizes(op, g)
    q = cell.quant
    amax = max(abs(q.s * (-128 - q.zp)), abs(q.s * (127 - q.zp)), 1e-6)
    power = int(math.ceil(math.log2(amax / 32767.0)))
    c_q = QParams.per_tensor(2.0 ** power, 0)
    c0 = op.attrs.get("c0")
    c_init = None if c0 is None else np.clip(np.round(np.asarray(c0, np.float64).reshape(batch, hidden) / 2.0 ** power),
                                             -32768, 32767).astype(np.int16)
    h_q = QParams(y.quant.scale.copy(), y.quant.zero_point.copy())
    h = add_state(g, op, "hidden", "int8", (batch, hidden), h_q, hidden_state_initial(op, h_q, batch, hidden))
    c = add_state(g, op, "cell", "int16", (batch, hidden), c_q, c_init)
    op.inputs = list(op.inputs[:13]) + [h, c]
    del g.tensors[op.outputs[1]]
    op.outputs = op.outputs[:1]


# ---------------------------------------------------------------------- import

def _onnx_attrs(acts: list[str], b: np.ndarray, hidden: int, order: list[int]) -> dict:
    if acts[0] != "Sigmoid" or acts[2] != "Tanh" or acts[1] not in ("Tanh", "Sigmoid"):
        raise UnsupportedOpError(f"LSTM activations {acts} are not supported (TFLM's LSTM: Sigmoid gates, a Tanh "
                                 "or Sigmoid cell gate, Tanh output)")
    bias = [b[k * hidden:(k + 1) * hidden] + b[(GATES + k) * hidden:(GATES + k + 1) * hidden] for k in order]
    return {"#bias": bias, "cell_gate": acts[1].lower(), "cell_clip": None}


def _onnx_lstm(imp, node) -> None:
    if int(imp.attr(node, "input_forget", 0)):
        imp.fail("input_forget=1 (coupled input and forget gates) is not supported (TFLM's LSTM has no CIFG)")
    onnx_recurrent(imp, node, "lstm", GATES, [0, 2, 3, 1], _onnx_attrs)  # ONNX i o f c -> i f c o


def _tflite_lstm(imp, op) -> None:
    ins = list(op.inputs) + [-1] * (24 - len(op.inputs))
    if len(op.inputs) != 24:
        imp.fail(op, f"expected 24 inputs, got {len(op.inputs)}")
    variants = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection", 17: "projection",
                20: "layer normalization", 21: "layer normalization", 22: "layer normalization",
                23: "layer normalization"}
    present = sorted({v for k, v in variants.items() if ins[k] >= 0})
    if present:
        imp.fail(op, f"{' and '.join(present)} weights are not supported (TFLM's integer LSTM has none)")
    missing = [k for k in list(range(1, 9)) + list(range(12, 16)) + [18, 19] if ins[k] < 0]
    if missing:
        imp.fail(op, f"inputs {missing} are missing (TFLM needs every gate's weights and bias: no coupled "
                     "input-forget gate)")
    o = op.options
    act, clip, time_major = 4, 0.0, False
    if o is not None:
        act, clip, time_major = o.FusedActivationFunction(), float(o.CellClip()), bool(o.TimeMajor())
        if o.ProjClip():
            imp.fail(op, "a projection clip is set but TFLM's LSTM has no projection")
    if act != 4:
        imp.fail(op, f"cell gate activation {act} is not supported (TFLM's LSTM: TANH)")
    for k in (18, 19):
        if not imp.tensor(ins[k]).variable:
            imp.fail(op, f"input {k} (the {'hidden' if k == 18 else 'cell'} state) must be a variable tensor")
    imp.add(op, "lstm", [ins[0]] + ins[1:9] + ins[12:16] + [ins[18], ins[19]], op.outputs[:1],
            time_major=time_major, reverse=False, cell_clip=clip if clip > 0 else None, cell_gate="tanh")


ONNX = {"LSTM": _onnx_lstm}
TFLITE = {"UNIDIRECTIONAL_SEQUENCE_LSTM": _tflite_lstm}
