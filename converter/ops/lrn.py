"""lrn: local response normalization across channels (ONNX LRN, AlexNet / GoogLeNet era), in edgenn's
own integer formulation: TFLM has no int8 kernel for TFLite's LOCAL_RESPONSE_NORMALIZATION.

Float attrs: ``size``, ``alpha``, ``beta``, ``bias`` (ONNX's); channels are the last stored axis.
y = x / (bias + alpha / size * sum of x^2 over channels [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta.

Integer form, in the spirit of TFLM's fixed-point kernels: with v = q - zero point, the window's
sum of squares S = sum v^2 is an exact int32; the real denominator is d(S) = bias + alpha/size *
s^2 * S. The factor T(S) = d(S)^(-beta) / d(0)^(-beta), in (0, 1], is tabulated once per layer in
Q31 (a constant int32 input): exact entries for S < 64, then 64 entries per octave of S (at
S = m * 2^o, m in [64, 128)) between which the kernel interpolates linearly (relative error below
2e-4 of the factor for beta <= 1, i.e. < 0.03 output steps). Then
y = output zero point + MBQM(SRDHM(v << 22, T(S)), M, shift) with M = d(0)^(-beta) s_in / s_out / 2^22.
The table covers every S the input's zero point allows (at most min(size, C) * 255^2: about 4 KB of
int32 entries for size 5).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import layout_with_axis_last, per_tensor, same_shape
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
EXACT_BITS = 6  # entries for S < 64 are exact; then 64 entries per octave
INPUT_SHIFT = 22  # v << 22 before the table's Q31 factor (|v| <= 255: below 2^30)


def window(size: int) -> tuple[int, int]:
    """(channels before c, channels after c) of ONNX's window."""
    return (size - 1) // 2, size - 1 - (size - 1) // 2


def sample_points(octaves: int) -> np.ndarray:
    """The S of every table entry: 0..63, then m << o for o = 1..octaves, m = 64..127, and 64 << (octaves + 1)."""
    pts = [np.arange(1 << EXACT_BITS, 2 << EXACT_BITS, dtype=np.int64) << o for o in range(octaves + 1)]
    return np.concatenate([np.arange(1 << EXACT_BITS, dtype=np.int64)] + pts + [np.asarray([128 << octaves])])


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    x = g.tensors[op.inputs[0]]
    qx, qy = per_tensor(op, g, op.inputs[0]), per_tensor(op, g, op.outputs[0])
    size = int(op.attrs.get("size", 0))
    alpha, beta, bias = (float(op.attrs.get(k, d)) for k, d in (("alpha", 1e-4), ("beta", 0.75), ("bias", 1.0)))
    if size < 1:
        raise EdgennError(f"lrn '{op.name}': size {size} must be at least 1")
    if not (bias > 0 and beta >= 0 and alpha >= 0) or not np.isfinite([alpha, beta, bias]).all():
        raise EdgennError(f"lrn '{op.name}': bias {bias} must be positive, alpha {alpha} and beta {beta} not "
                          "negative (the integer form needs a decreasing factor)")
    before, after = window(size)
    channels = int(x.shape[-1])
    vmax = max(qx.zp + 128, 127 - qx.zp)
    s_max = min(size, channels) * vmax * vmax
    octaves = max(0, s_max.bit_length() - 1 - EXACT_BITS)
    s_in = float(np.float32(qx.s))
    pts = sample_points(octaves).astype(np.float64)
    ratio = (1.0 + alpha / size * s_in * s_in / bias * pts) ** (-beta)  # d(S)^-beta / d(0)^-beta
    table = np.minimum(np.floor(ratio * (1 << 31) + 0.5), (1 << 31) - 1).astype(np.int32)
    real = bias ** (-beta) * s_in / float(np.float32(qy.s)) / (1 << INPUT_SHIFT)
    mult, shift = quantize_multiplier(real)
    if shift > 0:
        raise EdgennError(f"lrn '{op.name}': the output scale {qy.s} is too small for the input scale {qx.s}")
    t = g.add_const(f"{op.name}_table", table)
    op.inputs = op.inputs[:1] + [t.name]
    op.options = {"before": before, "after": after, "input_offset": -qx.zp, "output_offset": qy.zp,
                  "multiplier": mult, "shift": shift, "octaves": octaves}


def macs(op: Op, g: Graph) -> int:
    return 4 * int(g.tensors[op.inputs[0]].size)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    x = np.asarray(xs[0], np.float64)
    size = int(op.attrs["size"])
    alpha, beta, bias = (float(op.attrs.get(k, d)) for k, d in (("alpha", 1e-4), ("beta", 0.75), ("bias", 1.0)))
    before, after = window(size)
    c = x.shape[-1]
    sq = np.concatenate([np.zeros(x.shape[:-1] + (1,)), np.cumsum(x * x, axis=-1)], axis=-1)
    hi = np.minimum(np.arange(c) + after + 1, c)
    lo = np.maximum(np.arange(c) - before, 0)
    s = sq[..., hi] - sq[..., lo]
    return [x / (bias + alpha / size * s) ** beta]


# ---------------------------------------------------------------------- import

def _onnx_lrn(imp, node) -> None:
    if len(imp.shape(node.input[0])) < 3:
        imp.fail("the input must have a batch, a channel and at least one spatial axis")
    lay = layout_with_axis_last(imp, node.input[0], 1)
    x = imp.get(node.input[0], lay)
    imp.add("lrn", [x], [imp.new_output(node.output[0], lay)], size=int(imp.attr(node, "size")),
            alpha=float(imp.attr(node, "alpha", 1e-4)), beta=float(imp.attr(node, "beta", 0.75)),
            bias=float(imp.attr(node, "bias", 1.0)))


ONNX = {"LRN": _onnx_lrn}
TFLITE: dict = {}
