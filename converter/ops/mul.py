"""mul: int8 elementwise multiplication with numpy-style broadcasting (TFLM int8 Mul).

Float attrs: ``act`` = (lo, hi). Either input may be a constant int8 tensor with its own
quantization parameters. Options follow TFLM's CalculateOpDataMul: one real multiplier
s1 * s2 / s_out applied to (x1 - z1) * (x2 - z2).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter import float_exec as fx
from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import act_range, binary_quant
from edgenn.runtime_py.fixedpoint import quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=True, same_quant_inputs=False,
                    channels="elementwise")


def prepare(op: Op, g: Graph) -> None:
    q1, q2, qy = binary_quant(op, g)
    mult, shift = quantize_multiplier(q1.s * q2.s / qy.s)
    act_min, act_max = act_range(op, qy)
    op.options = {
        "input1_offset": -q1.zp,
        "input2_offset": -q2.zp,
        "output_offset": qy.zp,
        "output_multiplier": mult,
        "output_shift": shift,
        "act_min": act_min,
        "act_max": act_max,
    }


def macs(op: Op, g: Graph) -> int:
    return int(g.tensors[op.outputs[0]].size)


float_run = fx.binary(np.multiply)


def _onnx_batchnorm(imp, node) -> None:
    """BatchNormalization (inference): x * a + c per channel, as a mul and an add (the passes fold
    them into a preceding convolution or fully connected layer)."""
    if imp.attr(node, "training_mode", 0) or len([o for o in node.output if o]) > 1:
        imp.fail("BatchNormalization in training mode is not supported (export the model in inference mode)")
    scale, bias, mean, var = (imp.const(node.input[i]).astype(np.float64) for i in range(1, 5))
    eps = float(imp.attr(node, "epsilon", 1e-5))
    x_shape = imp.shape(node.input[0])
    channels = x_shape[1] if len(x_shape) > 1 else 0
    if any(v.size != channels for v in (scale, bias, mean, var)):
        imp.fail(f"scale, B, mean and var must hold one value per channel ({channels}), they hold "
                 f"{[int(v.size) for v in (scale, bias, mean, var)]}")
    if np.any(var + eps <= 0):
        imp.fail("variance + epsilon must be positive")
    a = scale / np.sqrt(var + eps)
    c = bias - mean * a
    shape = [1] * len(x_shape)
    shape[1] = -1
    perm = imp.NHWC if len(x_shape) == 4 else imp.NLC if len(x_shape) == 3 else None
    x = imp.get(node.input[0], perm)
    store = perm or tuple(range(len(x_shape)))
    a_c = np.ascontiguousarray(np.transpose(a.reshape(shape), store)).astype(np.float32)
    c_c = np.ascontiguousarray(np.transpose(c.reshape(shape), store)).astype(np.float32)
    mid = imp.g.add_tensor(imp.g.unique(node.output[0] + "_scaled"), imp.g.tensors[x].shape)
    imp.add("mul", [x, imp.g.add_const(f"{node.output[0]}_a", a_c).name], [mid.name], act=(None, None))
    y = imp.new_output(node.output[0], store)
    imp.add("add", [mid.name, imp.g.add_const(f"{node.output[0]}_c", c_c).name], [y], act=(None, None))


ONNX = {"Mul": lambda imp, node: imp.binary(node, "mul"), "BatchNormalization": _onnx_batchnorm}
TFLITE = {"MUL": lambda imp, op: imp.binary(op, "mul")}
