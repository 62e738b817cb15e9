"""gru: a GRU in TFLM's integer LSTM arithmetic (edgenn's own formulation; TFLM has no GRU).

Per step, with the LSTM's primitives (Q3.12 pre-activations, Q0.15 gate outputs):
  z = sigmoid(FC(x) + FC(h)),  r = sigmoid(FC(x) + FC(h))          (biases: input and recurrent, summed)
  linear_before_reset: h~ = tanh(FC(x) + r * FC_b(h))              (r * (.) requantized to Q3.12)
  else:                h~ = tanh(FC(x) + FC(r * (h - zp)))         (r * h requantized to the hidden scale)
  h = zp + RoundingDivideByPOT(z (h - zp) + requant((2^15 - z) h~), 15): the update in units of
      hidden scale / 2^15, the second term's multiplier 2^-15 / hidden scale.
The hidden state is a state tensor, read and written in place; y holds it at every step.
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, rounding_divide_by_pot, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import (add_sat16, check_recurrent, check_requant, check_scratch, fc_int16,
                                              mul_int16, recurrent_steps, sigmoid_int16, tanh_int16)

TRAITS = KernelTraits(overlap="none", inputs=(
    "input", "input_to_update_weights", "input_to_reset_weights", "input_to_hidden_weights",
    "recurrent_to_update_weights", "recurrent_to_reset_weights", "recurrent_to_hidden_weights",
    "update_bias", "reset_bias", "hidden_bias", "recurrent_hidden_bias", "hidden_state"),
    optional=("update_bias", "reset_bias", "hidden_bias", "recurrent_hidden_bias"),
    constants=("input_to_update_weights", "input_to_reset_weights", "input_to_hidden_weights",
               "recurrent_to_update_weights", "recurrent_to_reset_weights", "recurrent_to_hidden_weights",
               "update_bias", "reset_bias", "hidden_bias", "recurrent_hidden_bias"))


def check(op, model) -> None:
    """Three gates' weights (and optional biases) of the input and output sizes, the int8 hidden
    state of batch x hidden, per-gate requantization of the fully connected parts."""
    _, hidden = check_recurrent(op, model, 3, 11, (7, 8, 9, 10))
    check_requant(op, (("input_fc_multiplier", "input_fc_shift"), ("recurrent_fc_multiplier", "recurrent_fc_shift")), 3)
    check_requant(op, (("reset_multiplier", "reset_shift"), ("update_multiplier", "update_shift")))
    check_scratch(op, 4 * hidden * 2 + (hidden + 3) // 4 * 4)


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x, wx, wh, bx, bh, h_state = ins[0], ins[1:4], ins[4:7], ins[7:10], ins[10], ins[11]
    tm = bool(o["time_major"])
    n = x.shape[0]
    zp = int(o["hidden_zero_point"])
    h = h_state.reshape(n, -1, h_state.shape[-1]).astype(np.int64)
    y = np.empty(outs[0].shape, np.int64)
    im, ish = o["input_fc_multiplier"], o["input_fc_shift"]
    rm, rsh = o["recurrent_fc_multiplier"], o["recurrent_fc_shift"]

    def fc_x(k, x_t):
        return fc_int16(x_t, wx[k], bx[k], o["input_offset"], int(im[k]), int(ish[k]))

    def fc_h(k, v, bias=None):
        return fc_int16(v, wh[k], bias, o["hidden_offset"], int(rm[k]), int(rsh[k]))

    for t, x_t in recurrent_steps(x.astype(np.int64), tm, bool(o["reverse"])):
        z = sigmoid_int16(add_sat16(fc_x(0, x_t), fc_h(0, h)))
        r = sigmoid_int16(add_sat16(fc_x(1, x_t), fc_h(1, h)))
        if o["linear_before_reset"]:
            rb = mul_int16(r, fc_h(2, h, bh), o["reset_multiplier"], o["reset_shift"])
        else:
            rh = mul_int16(r, h - zp, o["reset_multiplier"], o["reset_shift"], zp, -128, 127)
            rb = fc_h(2, rh)
        ht = tanh_int16(add_sat16(fc_x(2, x_t), rb))
        upd = multiply_by_quantized_multiplier(wrap_int32((32768 - z) * ht), o["update_multiplier"],
                                               o["update_shift"])
        h = np.clip(zp + rounding_divide_by_pot(wrap_int32(z * (h - zp) + upd), 15), -128, 127)
        if tm:
            y[:, t] = h
        else:
            y[:, :, t] = h
    h_state[...] = h.reshape(h_state.shape).astype(np.int8)
    outs[0][...] = y.astype(np.int8)
