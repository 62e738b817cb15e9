"""rnn: an Elman RNN, h = f(x Wi + h Ri + b), in TFLM's integer LSTM arithmetic (edgenn's own):
the two fully connected layers to Q3.12, saturating add, int16 tanh or sigmoid (Q0.15), then
requantized to the int8 hidden state (a state tensor, in place); y holds it at every step."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import (add_sat16, check_recurrent, check_requant, check_scratch, fc_int16,
                                              recurrent_steps, sigmoid_int16, tanh_int16)

TRAITS = KernelTraits(overlap="none", inputs=("input", "input_weights", "recurrent_weights", "bias", "hidden_state"),
                      optional=("bias",), constants=("input_weights", "recurrent_weights", "bias"))


def check(op, model) -> None:
    """Weights (and an optional bias) of the input and output sizes, the int8 hidden state of batch
    x hidden, the requantization of both fully connected parts and of the activation."""
    _, hidden = check_recurrent(op, model, 1, 4, (3,))
    check_requant(op, (("input_fc_multiplier", "input_fc_shift"), ("recurrent_fc_multiplier", "recurrent_fc_shift"),
                       ("output_multiplier", "output_shift")))
    check_scratch(op, 2 * hidden * 2)


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x, wx, wh, bias, h_state = ins
    tm = bool(o["time_major"])
    n = x.shape[0]
    h = h_state.reshape(n, -1, h_state.shape[-1]).astype(np.int64)
    y = np.empty(outs[0].shape, np.int64)
    act = sigmoid_int16 if o["sigmoid"] else tanh_int16
    for t, x_t in recurrent_steps(x.astype(np.int64), tm, bool(o["reverse"])):
        pre = add_sat16(fc_int16(x_t, wx, bias, o["input_offset"], o["input_fc_multiplier"], o["input_fc_shift"]),
                        fc_int16(h, wh, None, o["hidden_offset"], o["recurrent_fc_multiplier"],
                                 o["recurrent_fc_shift"]))
        h = np.clip(o["hidden_zero_point"] + multiply_by_quantized_multiplier(act(pre), o["output_multiplier"],
                                                                              o["output_shift"]), -128, 127)
        if tm:
            y[:, t] = h
        else:
            y[:, :, t] = h
    h_state[...] = h.reshape(h_state.shape).astype(np.int8)
    outs[0][...] = y.astype(np.int8)
