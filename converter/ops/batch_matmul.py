"""batch_matmul: int8 matrix product of two tensors with broadcast batch axes (TFLM's BATCH_MATMUL).

Float attrs: ``adj_x`` (lhs holds its last two axes transposed), ``adj_y`` (rhs likewise). Either
input may be an activation or a constant; both are per-tensor int8. Options follow TFLM's
BatchMatMulPrepare: offsets -zp_lhs and -zp_rhs, one multiplier s_lhs * s_rhs / s_out (float32
scales multiplied in double), no fused activation. The int32 sums are exact (no wrap-around for
any depth below 33,000), so the order of the products does not matter.

ONNX MatMul between two activations (numpy matmul: batched, broadcasting batch axes; a 1-D operand
is refused) imports as batch_matmul with a calibrated output; a MatMul with a constant 2-D right
operand stays a fully_connected (converter/ops/fully_connected.py).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import onnx_fully_connected, per_tensor
from edgenn.errors import UnsupportedOpError
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="blocks")
MAX_BATCH_AXES = 3  # TFLM: ranks 2..5


def geometry(lhs: tuple[int, ...], rhs: tuple[int, ...], adj_x: bool, adj_y: bool) -> dict:
    """Output shape, M, N, K, the output batch extents and the operands' batch strides; raises
    ValueError naming what does not fit."""
    if len(lhs) < 2 or len(rhs) < 2:
        raise ValueError("both operands need at least 2 axes")
    rank = max(len(lhs), len(rhs))
    if rank - 2 > MAX_BATCH_AXES:
        raise ValueError(f"at most {MAX_BATCH_AXES} batch axes are supported (rank {rank})")
    ls = (1,) * (rank - len(lhs)) + tuple(lhs)
    rs = (1,) * (rank - len(rhs)) + tuple(rhs)
    m, k = (ls[-1], ls[-2]) if adj_x else (ls[-2], ls[-1])
    k2, n = (rs[-1], rs[-2]) if adj_y else (rs[-2], rs[-1])
    if k != k2:
        raise ValueError(f"inner dimensions differ: {list(lhs)} x {list(rhs)} (adj_x={adj_x}, adj_y={adj_y})")
    batch = []
    for a, b in zip(ls[:-2], rs[:-2]):
        if a != b and a != 1 and b != 1:
            raise ValueError(f"batch axes {list(lhs)} and {list(rhs)} do not broadcast")
        batch.append(max(a, b))

    def strides(shape):
        out, step = [], shape[-1] * shape[-2]
        for d in reversed(shape[:-2]):
            out.append(0 if d == 1 else step)
            step *= d
        return list(reversed(out))
    pad = MAX_BATCH_AXES - len(batch)
    return {"shape": tuple(batch) + (m, n), "rows": m, "cols": n, "depth": k, "batch": [1] * pad + batch,
            "lhs_stride": [0] * pad + strides(ls), "rhs_stride": [0] * pad + strides(rs)}


def prepare(op: Op, g: Graph) -> None:
    a, b, y = (g.tensors[n] for n in (op.inputs[0], op.inputs[1], op.outputs[0]))
    adj_x, adj_y = bool(op.attrs.get("adj_x", False)), bool(op.attrs.get("adj_y", False))
    try:
        geo = geometry(a.shape, b.shape, adj_x, adj_y)
    except ValueError as e:
        raise UnsupportedOpError(f"batch_matmul '{op.name}': {e}") from None
    if int(np.prod(geo["shape"])) != y.size or tuple(y.shape[-2:]) != geo["shape"][-2:]:
        raise UnsupportedOpError(f"batch_matmul '{op.name}': output shape {list(y.shape)} is not the product's "
                                 f"{list(geo['shape'])}")
    qa, qb, qy = per_tensor(op, g, op.inputs[0]), per_tensor(op, g, op.inputs[1]), per_tensor(op, g, op.outputs[0])
    mult, shift = quantize_multiplier(float(np.float32(qa.s)) * float(np.float32(qb.s)) / float(np.float32(qy.s)))
    op.options = {"lhs_offset": -qa.zp, "rhs_offset": -qb.zp, "output_offset": qy.zp, "multiplier": mult,
                  "shift": shift, "adj_x": adj_x, "adj_y": adj_y, "rows": geo["rows"], "cols": geo["cols"],
                  "depth": geo["depth"], "batch": np.asarray(geo["batch"], np.int32),
                  "lhs_stride": np.asarray(geo["lhs_stride"], np.int32),
                  "rhs_stride": np.asarray(geo["rhs_stride"], np.int32)}


def macs(op: Op, g: Graph) -> int:
    a = g.tensors[op.inputs[0]]
    k = a.shape[-2] if op.attrs.get("adj_x") else a.shape[-1]
    return int(g.tensors[op.outputs[0]].size * k)


def scratch_bytes(op: Op, g: Graph) -> int:
    """The transposed operands of the C kernel: rhs (N, K) unless adj_y, lhs (M, K) if adj_x."""
    o = op.options
    return int((0 if o["adj_y"] else o["depth"] * o["cols"]) + (o["depth"] * o["rows"] if o["adj_x"] else 0))


def matmul(a: np.ndarray, b: np.ndarray, adj_x: bool, adj_y: bool) -> np.ndarray:
    """numpy matmul with TFLite's adjoint flags (the last two axes of an operand swapped)."""
    if adj_x:
        a = np.swapaxes(a, -1, -2)
    if adj_y:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    rank = len(g.tensors[op.outputs[0]].shape)
    a, b = (x.reshape(((x.shape[0],) if not g.tensors[name].is_const else (1,))
                      + (1,) * (rank - len(g.tensors[name].shape)) + tuple(g.tensors[name].shape))
            for x, name in zip(xs, op.inputs))
    y = matmul(a.astype(np.float64), b.astype(np.float64), bool(op.attrs.get("adj_x")), bool(op.attrs.get("adj_y")))
    return [np.broadcast_to(y, (n,) + y.shape[1:])]


# ---------------------------------------------------------------------- import

def _onnx_matmul(imp, node) -> None:
    """MatMul: with a 2-D constant right operand a fully_connected (weights per channel); otherwise
    numpy's batched matmul of two tensors (activations, or one constant) as batch_matmul."""
    a, b = node.input[0], node.input[1]
    if imp.is_const(b) and np.asarray(imp.const(b)).ndim == 2:
        onnx_fully_connected(imp, a, imp.const(b).astype(np.float64).T, None, node.output[0])
        return
    sa, sb = imp.shape(a), imp.shape(b)
    if len(sa) < 2 or len(sb) < 2:
        imp.fail("MatMul with a 1-D operand between activations is not supported")
    try:
        geometry(sa, sb, False, False)
    except ValueError as e:
        imp.fail(f"MatMul {e}")
    y = imp.new_output(node.output[0])
    imp.add("batch_matmul", [imp.get(a), imp.get(b)], [y], adj_x=False, adj_y=False)


def _tflite_batch_matmul(imp, op) -> None:
    o = op.options
    adj_x, adj_y = (bool(o.AdjX()), bool(o.AdjY())) if o is not None else (False, False)
    for i in op.inputs[:2]:
        if imp.tensor(i).dtype != "int8":
            imp.fail(op, f"input {imp.tensor(i).name!r} is {imp.tensor(i).dtype}; only int8 BATCH_MATMUL is supported")
    imp.add(op, "batch_matmul", op.inputs[:2], op.outputs[:1], adj_x=adj_x, adj_y=adj_y)


ONNX = {"MatMul": _onnx_matmul}
TFLITE = {"BATCH_MATMUL": _tflite_batch_matmul}
