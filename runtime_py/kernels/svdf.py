"""svdf: TFLM's integer SVDF (svdf_common.cc EvalIntegerSvdfReference), a streaming layer.

Every invoke shifts each filter's memory (the activation state, a state tensor of int16 or int8) by
one step and writes the new feature activation, FC(x) requantized, into its last column; the output
is the sum over each unit's rank filters of (time weights . memory), plus the bias, requantized.
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, wrap_int32
from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import (check_bias, check_requant, check_scratch, check_tensor, elements,
                                              io_shapes, require)

TRAITS = KernelTraits(overlap="none", inputs=("input", "weights_feature", "weights_time", "bias", "activation_state"),
                      optional=("bias",), constants=("weights_feature", "weights_time", "bias"))


def check(op, model) -> None:
    """x (B, I), feature weights (F, I), time weights (F, M) of the state's type, F a multiple of the
    rank, an optional int32 bias per unit, the state of B x F x M (int8 or int16), the output (B, F / rank)."""
    (x, wf, wt, *_), (y,) = io_shapes(op, model)
    rank = int(op.options["rank"])
    require(len(x) == 2 and len(wf) == 2 and len(wt) == 2 and rank >= 1, f"input {x}, weights {wf} and {wt}, "
            f"rank {rank}: needs 2-D operands and a rank of at least 1")
    batch, filters = x[0], wf[0]
    require(wf[1] == x[1] and wt[0] == filters and wt[1] >= 1 and filters % rank == 0 and y == (batch, filters // rank),
            f"weights {wf} and {wt} with rank {rank} do not fit input {x} and output {y}")
    check_tensor(model, op.inputs[1], "feature weights", "int8", elements(wf))
    # The C kernel reads the time weights in the state's type.
    state = model.tensors[op.inputs[4]].dtype
    check_tensor(model, op.inputs[4], "activation state", ("int8", "int16"), batch * filters * wt[1])
    check_tensor(model, op.inputs[2], "time weights", state, elements(wt))
    check_bias(op, model, 3, filters // rank)
    check_requant(op, (("scale1_multiplier", "scale1_shift"), ("scale2_multiplier", "scale2_shift")))
    check_scratch(op, 4 * filters)


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x, wf, wt, bias, state = ins
    n, batch = x.shape[0], x.shape[1]
    filters, memory = wt.shape
    rank = int(o["rank"])
    lo, hi = (-128, 127) if state.dtype == np.int8 else (-32768, 32767)
    s = state.reshape(n, batch, filters, memory).astype(np.int64)
    s[..., :-1] = s[..., 1:].copy()
    xf = x.astype(np.float64) - o["input_zero_point"]
    act = (xf.reshape(-1, x.shape[-1]) @ wf.astype(np.float64).T).astype(np.int64).reshape(n, batch, filters)
    act = np.clip(multiply_by_quantized_multiplier(wrap_int32(act), o["scale1_multiplier"], o["scale1_shift"]), lo, hi)
    new = act + o["state_zero_point"]
    s[..., -1] = (new - lo) % (hi - lo + 1) + lo  # C's conversion to the state's type wraps
    t = wrap_int32(np.einsum("nbfm,fm->nbf", s - o["state_zero_point"], wt.astype(np.int64)))
    acc = t.reshape(n, batch, -1, rank).sum(axis=-1)
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    y = multiply_by_quantized_multiplier(wrap_int32(acc), o["scale2_multiplier"], o["scale2_shift"])
    state[...] = s.reshape(state.shape).astype(state.dtype)
    outs[0][...] = np.clip(y + o["output_zero_point"], -128, 127).astype(np.int8)
