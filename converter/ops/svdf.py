"""svdf: TFLM's integer SVDF (a rank-decomposed 1-D convolution over time that keeps its memory in
a state tensor: a streaming layer, one frame per invoke). TFLite only (ONNX has no SVDF).

Inputs: x (B, I) int8, feature weights (F, I) int8, time weights (F, M) int16 or int8, bias (F / rank,
int32) or absent, activation state (variable, int16 or int8, (B, M * F)); output (B, F / rank) int8.
Options follow TFLM's PrepareSvdf: its two rescalings are products of float32 scales. TFLM's integer
kernel applies no fused activation (it ignores the option): neither does edgenn's.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import per_tensor
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")


def _sizes(op: Op, g: Graph) -> tuple[int, int, int, int, int]:
    """(batch, input size, filters, memory, units), checked as TFLM's PrepareSvdf does."""
    if len(op.inputs) != 5:
        raise EdgennError(f"svdf '{op.name}': expected 5 inputs (input, feature and time weights, bias, state)")
    x, wf, wt = (g.tensors[op.inputs[k]] for k in (0, 1, 2))
    y = g.tensors[op.outputs[0]]
    rank = int(op.attrs.get("rank", 1))
    if len(x.shape) != 2 or len(wf.shape) != 2 or len(wt.shape) != 2 or len(y.shape) != 2:
        raise EdgennError(f"svdf '{op.name}': input, weights and output must be 2-D")
    batch, n_in = x.shape
    filters, memory = wt.shape
    if rank < 1 or filters % rank or wf.shape != (filters, n_in) or y.shape != (batch, filters // rank):
        raise EdgennError(f"svdf '{op.name}': shapes input {list(x.shape)}, feature weights {list(wf.shape)}, time "
                          f"weights {list(wt.shape)}, output {list(y.shape)} do not fit rank {rank}")
    return int(batch), int(n_in), int(filters), int(memory), int(filters // rank)


def prepare(op: Op, g: Graph) -> None:
    batch, _, filters, memory, units = _sizes(op, g)
    xq, yq = per_tensor(op, g, op.inputs[0]), per_tensor(op, g, op.outputs[0])
    wf, wt, st = g.tensors[op.inputs[1]], g.tensors[op.inputs[2]], g.tensors[op.inputs[4]]
    if wf.dtype != "int8" or not wf.is_const or wt.dtype not in ("int16", "int8") or not wt.is_const:
        raise EdgennError(f"svdf '{op.name}': feature weights must be int8 and time weights int16 or int8 constants")
    if not st.variable or st.dtype not in ("int16", "int8") or st.size != batch * memory * filters:
        raise EdgennError(f"svdf '{op.name}': the activation state must be a variable int16 or int8 tensor of "
                          f"{batch} x {memory * filters} values")
    if wt.dtype != st.dtype:
        raise EdgennError(f"svdf '{op.name}': time weights {wt.dtype} with an {st.dtype} activation state is not "
                          "supported (TFLM's kernels take int16 with int16 or int8 with int8)")
    b = g.tensors[op.inputs[3]] if op.inputs[3] else None
    if b is not None and (b.dtype != "int32" or b.size != units or not b.is_const):
        raise EdgennError(f"svdf '{op.name}': the bias must be an int32 constant of {units} values")
    f = np.float32
    s1 = float(f(f(xq.s) * f(wf.quant.s)) / f(st.quant.s))
    s2 = float(f(f(st.quant.s) * f(wt.quant.s)) / f(yq.s))
    if b is not None and abs(float(b.quant.s) - float(f(st.quant.s) * f(wt.quant.s))) >= 1e-5:
        raise EdgennError(f"svdf '{op.name}': the bias scale must be the state scale times the time weights' scale "
                          "(TFLM's Prepare checks it)")
    m1, sh1 = quantize_multiplier(s1)
    m2, sh2 = quantize_multiplier(s2)
    op.options = {"rank": int(op.attrs.get("rank", 1)), "input_zero_point": xq.zp, "state_zero_point": st.quant.zp,
                  "output_zero_point": yq.zp, "scale1_multiplier": m1, "scale1_shift": sh1,
                  "scale2_multiplier": m2, "scale2_shift": sh2}


def scratch_bytes(op: Op, g: Graph) -> int:
    """One int32 per filter (the time products of one batch row at a time)."""
    return 4 * _sizes(op, g)[2]


def macs(op: Op, g: Graph) -> int:
    batch, n_in, filters, memory, _ = _sizes(op, g)
    return batch * filters * (n_in + memory)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    raise EdgennError(f"svdf '{op.name}': float execution is not supported (SVDF comes from int8 TFLite models only)")


def _tflite_svdf(imp, op) -> None:
    if len(op.inputs) != 5 or op.inputs[4] < 0:
        imp.fail(op, "expected 5 inputs with the activation state")
    if not imp.tensor(op.inputs[4]).variable:
        imp.fail(op, "the activation state (input 4) must be a variable tensor")
    rank = op.options.Rank() if op.options is not None else 1
    imp.add(op, "svdf", op.inputs[:3] + [op.inputs[3] if op.inputs[3] >= 0 else -1, op.inputs[4]], op.outputs[:1],
            rank=int(rank))


ONNX: dict = {}
TFLITE = {"SVDF": _tflite_svdf}
