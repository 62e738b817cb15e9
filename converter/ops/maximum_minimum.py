"""maximum_minimum: the elementwise maximum or minimum of two int8 tensors with broadcasting
(TFLM MAXIMUM / MINIMUM).

Float attr: ``is_maximum`` (True: maximum). TFLM compares the raw int8 values and requantizes
nothing, so the quantizer gives both inputs the output's quantization (``same_quant_inputs``).
A TFLite model is taken as it is: TFLM's result is the raw comparison whatever the quantization.
ONNX Max / Min of any number of operands become a chain; every partial result is quantized like
the final one, which loses nothing (the final result is at least / at most each partial one).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import check_binary_shapes, onnx_operands, per_tensor

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=True,
                    channels="elementwise")


def prepare(op: Op, g: Graph) -> None:
    check_binary_shapes(op, g)
    for t in op.inputs + op.outputs:
        per_tensor(op, g, t)
    op.options = {"is_maximum": bool(op.attrs.get("is_maximum", True))}


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    return fx.binary(np.maximum if op.attrs.get("is_maximum", True) else np.minimum)(op, g, xs, n)


def _onnx_max_min(is_maximum: bool):
    def handler(imp, node) -> None:
        names = [i for i in node.input if i]
        if len(names) == 1:
            imp.alias(node.output[0], names[0])
            return
        ins, lay = onnx_operands(imp, node, names)
        out_shape = imp.shapes[node.output[0]]
        stored = tuple(out_shape[i] for i in lay)
        acc = ins[0]
        for k, x in enumerate(ins[1:]):
            if k == len(ins) - 2:
                y = imp.new_output(node.output[0], lay)
            else:
                a, b = imp.g.tensors[acc].shape, imp.g.tensors[x].shape
                if tuple(np.broadcast_shapes(a, b)) != stored:
                    imp.fail("more than two operands with broadcasting between them are not supported")
                # A partial maximum is at most the final one: the final range quantizes it losslessly.
                y = imp.g.add_tensor(imp.g.unique(f"{node.output[0]}_partial{k}"), stored, origin=node.output[0],
                                     origin_perm=lay).name
            imp.add("maximum_minimum", [acc, x], [y], is_maximum=is_maximum)
            acc = y
    return handler


def _tflite(is_maximum: bool):
    return lambda imp, op: imp.add(op, "maximum_minimum", op.inputs[:2], op.outputs[:1], is_maximum=is_maximum)


ONNX = {"Max": _onnx_max_min(True), "Min": _onnx_max_min(False)}
TFLITE = {"MAXIMUM": _tflite(True), "MINIMUM": _tflite(False)}
