"""compare: int8 comparisons with broadcasting, bool output (TFLM EQUAL, NOT_EQUAL, LESS, LESS_EQUAL,
GREATER, GREATER_EQUAL with int8 inputs).

Float attrs: ``kind`` (a name of KINDS); ``tflm_scaling`` (set by the TFLite importer). Both inputs
are rescaled before comparing, ((x - zero point) << left_shift) * multiplier. TFLM's Prepare uses
left_shift 8 and each input's scale as its multiplier (so values closer than 1/256 compare equal,
and scales must be below 1); for ONNX models edgenn uses ADD's common scale instead (left_shift 20,
multipliers s_i / (2 max(s1, s2))), which keeps distinct values distinct. The output is not
quantized (``output_quant`` "none").
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import (check_binary_shapes, common_scale_options, multiplier_smaller_than_one,
                                        onnx_operands, per_tensor)
from edgenn.errors import EdgennError
from edgenn.format.schema.fb.CompareKind import CompareKind

TRAITS = RuleTraits(output_quant="none", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
KINDS = {"equal": CompareKind.EQUAL, "not_equal": CompareKind.NOT_EQUAL, "less": CompareKind.LESS,
         "less_equal": CompareKind.LESS_EQUAL, "greater": CompareKind.GREATER,
         "greater_equal": CompareKind.GREATER_EQUAL}
FLOAT = {"equal": np.equal, "not_equal": np.not_equal, "less": np.less, "less_equal": np.less_equal,
         "greater": np.greater, "greater_equal": np.greater_equal}
TFLM_LEFT_SHIFT = 8
COMMON_LEFT_SHIFT = 20


def prepare(op: Op, g: Graph) -> None:
    check_binary_shapes(op, g)
    kind = op.attrs.get("kind")
    if kind not in KINDS:
        raise EdgennError(f"compare '{op.name}': unknown comparison {kind!r} (one of {', '.join(KINDS)})")
    if g.tensors[op.outputs[0]].dtype != "bool":
        raise EdgennError(f"compare '{op.name}': the output must be bool, got {g.tensors[op.outputs[0]].dtype}")
    q1 = per_tensor(op, g, op.inputs[0])
    q2 = per_tensor(op, g, op.inputs[1])
    if op.attrs.get("tflm_scaling"):
        m1, s1 = multiplier_smaller_than_one(op, "input 1 (its scale)", q1.s)
        m2, s2 = multiplier_smaller_than_one(op, "input 2 (its scale)", q2.s)
        op.options = {"left_shift": TFLM_LEFT_SHIFT, "input1_offset": -q1.zp, "input1_multiplier": m1,
                      "input1_shift": s1, "input2_offset": -q2.zp, "input2_multiplier": m2, "input2_shift": s2}
    else:
        op.options = common_scale_options(op, q1, q2, COMMON_LEFT_SHIFT)
    op.options["kind"] = int(KINDS[kind])


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    return fx.binary(FLOAT[op.attrs["kind"]])(op, g, xs, n)


def _onnx_compare(kind: str):
    def handler(imp, node) -> None:
        ins, lay = onnx_operands(imp, node, list(node.input[:2]))
        y = imp.new_output(node.output[0], lay)
        imp.g.tensors[y].dtype = "bool"
        imp.add("compare", ins, [y], kind=kind)
    return handler


def _tflite_compare(kind: str):
    def handler(imp, op) -> None:
        for i in op.inputs[:2]:
            if imp.tensor(i).dtype != "int8":
                imp.fail(op, f"comparing {imp.tensor(i).dtype} tensors is not supported (int8 only)")
        imp.add(op, "compare", op.inputs[:2], op.outputs[:1], kind=kind, tflm_scaling=True)
    return handler


ONNX = {"Equal": _onnx_compare("equal"), "Less": _onnx_compare("less"), "LessOrEqual": _onnx_compare("less_equal"),
        "Greater": _onnx_compare("greater"), "GreaterOrEqual": _onnx_compare("greater_equal")}
TFLITE = {name.upper(): _tflite_compare(name) for name in KINDS}
