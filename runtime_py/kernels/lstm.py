"""lstm: TFLM's integer UNIDIRECTIONAL_SEQUENCE_LSTM (lstm_eval.h LstmStep), int8x8 -> int16 gates.

Per step: each gate = activation(FC(x_t) + FC(h)) in Q3.12 -> Q0.15 (forget, input, cell, then,
after the cell update, output), c = f * c + i * g (int16, saturated, optionally clipped),
h = o * tanh(c) (int8 hidden state), y_t = h. The hidden and cell state are state tensors, read
and written in place.
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import (add_sat16, cell_tanh_params, check_recurrent, check_requant,
                                              check_scratch, check_tensor, fc_int16, mul_int16, recurrent_steps,
                                              require, sigmoid_int16, tanh_int16)

TRAITS = KernelTraits(overlap="none", inputs=(
    "input", "input_to_input_weights", "input_to_forget_weights", "input_to_cell_weights",
    "input_to_output_weights", "recurrent_to_input_weights", "recurrent_to_forget_weights",
    "recurrent_to_cell_weights", "recurrent_to_output_weights", "input_gate_bias", "forget_gate_bias",
    "cell_gate_bias", "output_gate_bias", "hidden_state", "cell_state"),
    constants=("input_to_input_weights", "input_to_forget_weights", "input_to_cell_weights",
               "input_to_output_weights", "recurrent_to_input_weights", "recurrent_to_forget_weights",
               "recurrent_to_cell_weights", "recurrent_to_output_weights", "input_gate_bias", "forget_gate_bias",
               "cell_gate_bias", "output_gate_bias"))

GATES = ("input", "forget", "cell", "output")  # the order of weights, biases and multipliers


def check(op, model) -> None:
    """Four gates' weights and biases of the input and output sizes, the int8 hidden and int16 cell
    state of batch x hidden, per-gate requantization, a cell tanh shift the C kernel can apply."""
    batch, hidden = check_recurrent(op, model, 4, 13, (9, 10, 11, 12))
    check_tensor(model, op.inputs[14], "cell state", "int16", batch * hidden)
    check_requant(op, (("input_fc_multiplier", "input_fc_shift"), ("recurrent_fc_multiplier", "recurrent_fc_shift")), 4)
    check_requant(op, (("forget_cell_multiplier", "forget_cell_shift"), ("input_cell_multiplier", "input_cell_shift"),
                       ("output_multiplier", "output_shift")))
    # tanh of the cell state: 3 << (12 + power) times an int16 must stay in int32.
    require(-43 <= int(op.options["cell_scale_power"]) <= 2, f"has cell scale 2^{int(op.options['cell_scale_power'])}")
    require(0 <= int(op.options["cell_clip"]) <= 32767, f"has cell clip {int(op.options['cell_clip'])}")
    check_scratch(op, 4 * hidden * 2)


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x, wx, wh, bias, h_state, c_state = ins[0], ins[1:5], ins[5:9], ins[9:13], ins[13], ins[14]
    tm = bool(o["time_major"])
    n = x.shape[0]
    xs = x.reshape(x.shape).astype(np.int64)
    h = h_state.reshape(n, -1, h_state.shape[-1]).astype(np.int64)  # (N, B, H)
    c = c_state.reshape(h.shape).astype(np.int64)
    y = np.empty(outs[0].shape, np.int64)
    im, ish = o["input_fc_multiplier"], o["input_fc_shift"]
    rm, rsh = o["recurrent_fc_multiplier"], o["recurrent_fc_shift"]
    tanh_m, tanh_s = cell_tanh_params(o["cell_scale_power"])

    def gate(k: int, x_t: np.ndarray, act) -> np.ndarray:
        a = fc_int16(x_t, wx[k], bias[k], o["input_offset"], int(im[k]), int(ish[k]))
        b = fc_int16(h, wh[k], None, o["hidden_offset"], int(rm[k]), int(rsh[k]))
        return act(add_sat16(a, b))

    for t, x_t in recurrent_steps(xs, tm, bool(o["reverse"])):
        f = gate(1, x_t, sigmoid_int16)
        i = gate(0, x_t, sigmoid_int16)
        g = gate(2, x_t, sigmoid_int16 if o["cell_gate_sigmoid"] else tanh_int16)
        c = mul_int16(f, c, o["forget_cell_multiplier"], o["forget_cell_shift"])
        c = add_sat16(c, mul_int16(i, g, o["input_cell_multiplier"], o["input_cell_shift"]))
        if o["has_cell_clip"]:
            c = np.clip(c, -o["cell_clip"], o["cell_clip"])
        og = gate(3, x_t, sigmoid_int16)
        h = mul_int16(tanh_int16(c, tanh_m, tanh_s), og, o["output_multiplier"], o["output_shift"],
                      o["hidden_zero_point"], -128, 127)
        if tm:
            y[:, t] = h
        else:
            y[:, :, t] = h
    h_state[...] = h.reshape(h_state.shape).astype(np.int8)
    c_state[...] = c.reshape(c_state.shape).astype(np.int16)
    outs[0][...] = y.astype(np.int8)
