"""add_n: the int8 sum of any number of same-shaped tensors (TFLM int8 ADD_N; ONNX Sum).

Float attr: ``tflm`` (set by the TFLite importer). TFLM's Prepare needs every input quantized alike
and rescales each by s / (2 s) with left_shift 20, the sum by 2 s / (2**20 s_out); its kernel also
starts the sum at the rescaled input offset (``x = input1_offset``: one extra -zero point term),
which edgenn reproduces as the option ``initial``. For ONNX Sum each input keeps its own
quantization: multipliers s_k / (2 max s), output 2 max s / (2**20 s_out), ``initial`` 0 (ADD's
arithmetic with more inputs).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import multiplier_smaller_than_one, onnx_operands, per_tensor
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
LEFT_SHIFT = 20
# Each rescaled input is below 255 * 2**20 / 2 in magnitude: with the initial term, 15 inputs fit int32.
MAX_INPUTS = 15


def prepare(op: Op, g: Graph) -> None:
    y = g.tensors[op.outputs[0]]
    if not 2 <= len(op.inputs) <= MAX_INPUTS:
        raise EdgennError(f"add_n '{op.name}': {len(op.inputs)} inputs; 2..{MAX_INPUTS} are supported")
    for t in op.inputs:
        if tuple(g.tensors[t].shape) != tuple(y.shape):
            raise EdgennError(f"add_n '{op.name}': input {t!r} has shape {g.tensors[t].shape}, the output "
                              f"{y.shape}; all must be equal")
    qs = [per_tensor(op, g, t) for t in op.inputs]
    qy = per_tensor(op, g, op.outputs[0])
    if op.attrs.get("tflm") and any(q.s != qs[0].s or q.zp != qs[0].zp for q in qs):
        raise EdgennError(f"add_n '{op.name}': TFLM's ADD_N needs every input quantized alike")
    twice_max = 2.0 * max(q.s for q in qs)
    mults = [multiplier_smaller_than_one(op, f"input {k}", q.s / twice_max) for k, q in enumerate(qs)]
    mo, so = multiplier_smaller_than_one(op, "output", twice_max / ((1 << LEFT_SHIFT) * qy.s))
    initial = 0
    if op.attrs.get("tflm"):
        initial = int(multiply_by_quantized_multiplier(-qs[0].zp * (1 << LEFT_SHIFT), *mults[0]))
    op.options = {"left_shift": LEFT_SHIFT, "input_offset": np.asarray([-q.zp for q in qs], np.int32),
                  "input_multiplier": np.asarray([m for m, _ in mults], np.int32),
                  "input_shift": np.asarray([s for _, s in mults], np.int32), "initial": initial,
                  "output_offset": qy.zp, "output_multiplier": mo, "output_shift": so, "act_min": -128,
                  "act_max": 127}


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size) * len(op.inputs)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    shape = (n,) + tuple(g.tensors[op.outputs[0]].shape)
    return [sum(np.broadcast_to(np.asarray(x, np.float64), shape) for x in xs)]


def _onnx_sum(imp, node) -> None:
    """Sum: one operand is an alias, two an add (with broadcasting), more an add_n (same shapes)."""
    names = [i for i in node.input if i]
    if len(names) == 1:
        imp.alias(node.output[0], names[0])
        return
    if len(names) == 2:
        imp.binary(node, "add")
        return
    out_shape = tuple(imp.shapes[node.output[0]])
    if any(tuple(imp.shape(n)) != out_shape for n in names):
        imp.fail("Sum of more than two operands with broadcasting is not supported")
    ins, lay = onnx_operands(imp, node, names)
    imp.add("add_n", ins, [imp.new_output(node.output[0], lay)])


ONNX = {"Sum": _onnx_sum}
TFLITE = {"ADD_N": lambda imp, op: imp.add(op, "add_n", op.inputs, op.outputs[:1], tflm=True)}
