"""lut: an int8 -> int8 elementwise function as a 256-entry table computed at conversion, as TFLM
builds its int8 ELU in Prepare (PopulateLookupTable) and evaluates it (EvalUsingLookupTable).

Float attrs: ``function`` (a name of FUNCTIONS) and its parameters: ``alpha`` (elu, hard_sigmoid,
selu), ``beta`` (hard_sigmoid), ``gamma`` (selu). Input and output are quantized independently
(output calibrated). The table becomes the operator's input 1 (an int8 constant) in ``prepare``:

- elu: TFLM's own, in float32 (dequantize, exp(x) - 1 for x < 0 times alpha, times 1 / output
  scale, round half away from zero, + zero point, saturate); TFLite's ELU has alpha 1;
- abs: TFLM's int8 ABS, in integers: |x - zp_in| requantized by s_in / s_out (float32 ratio) when
  the scales differ, + zp_out, saturated;
- neg, exp, hard_sigmoid (max(0, min(1, alpha x + beta))), selu (gamma (x > 0 ? x : alpha (exp(x) - 1))):
  TFLM has no int8 kernel for them; edgenn's table follows the same recipe in float64, so every
  entry is the nearest output step to the float function of the input value (saturated).

TFLite's NEG and EXP are float-only in TFLM: refused with that reason.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import per_tensor, populate_table, same_shape
from edgenn.errors import EdgennError
from edgenn.format.schema.fb.LutFunction import LutFunction
from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
FUNCTIONS = {"elu": LutFunction.ELU, "abs": LutFunction.ABS, "neg": LutFunction.NEG, "exp": LutFunction.EXP,
             "hard_sigmoid": LutFunction.HARD_SIGMOID, "selu": LutFunction.SELU}
SELU_ALPHA = 1.67326319217681884765625  # ONNX's defaults (float32 values)
SELU_GAMMA = 1.05070102214813232421875


def float_function(op: Op):
    """The real function of a lut operator (float64 arrays)."""
    a = op.attrs
    fn = a.get("function")
    if fn == "elu":
        alpha = float(a.get("alpha", 1.0))
        return lambda x: np.where(x < 0, alpha * np.expm1(np.minimum(x, 0)), x)
    if fn == "abs":
        return np.abs
    if fn == "neg":
        return np.negative
    if fn == "exp":
        return np.exp
    if fn == "hard_sigmoid":
        alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
        return lambda x: np.clip(alpha * x + beta, 0.0, 1.0)
    if fn == "selu":
        alpha, gamma = float(a.get("alpha", SELU_ALPHA)), float(a.get("gamma", SELU_GAMMA))
        return lambda x: gamma * np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    raise EdgennError(f"lut '{op.name}': unknown function {fn!r} (one of {', '.join(FUNCTIONS)})")


def _tflm_elu(alpha: float):
    """TFLM's transform, float32: value < 0 ? exp(value) - 1 : value (ONNX's alpha multiplies)."""
    f = np.float32

    def transform(x: np.ndarray) -> np.ndarray:
        # expf correctly rounded: float64 exp rounded once to float32.
        e = np.exp(np.minimum(x, 0).astype(np.float64)).astype(np.float32) - f(1)
        return np.where(x < f(0), e if alpha == 1.0 else f(alpha) * e, x).astype(np.float32)
    return transform


def _tflm_abs(qx, qy) -> np.ndarray:
    value = np.abs(np.arange(-128, 128, dtype=np.int64) - qx.zp)
    if np.float32(qx.s) != np.float32(qy.s):
        m, s = quantize_multiplier(float(np.float32(np.float32(qx.s) / np.float32(qy.s))))
        value = multiply_by_quantized_multiplier(value, m, s)
    return np.clip(value + qy.zp, -128, 127)


def prepare(op: Op, g: Graph) -> None:
    same_shape(op, g)
    qx = per_tensor(op, g, op.inputs[0])
    qy = per_tensor(op, g, op.outputs[0])
    fn = op.attrs.get("function")
    if fn == "abs":
        table = _tflm_abs(qx, qy)
    elif fn == "elu":
        table = populate_table(op, qx, qy, _tflm_elu(float(np.float32(op.attrs.get("alpha", 1.0)))))
    else:
        table = populate_table(op, qx, qy, float_function(op), float32=False)
    # The table is the operator's second input, an int8 constant (256 bytes of flash, like TFLM's
    # OpData table); prepare may run more than once on a graph, so it replaces its own table.
    t = g.add_const(f"{op.name}_table", np.asarray(table, np.int8))
    op.inputs = op.inputs[:1] + [t.name]
    op.options = {"function": int(FUNCTIONS[fn])}


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    with np.errstate(over="ignore"):
        return [float_function(op)(xs[0].astype(np.float64))]


def _onnx(function: str, **defaults):
    def handler(imp, node) -> None:
        attrs = {k: float(imp.attr(node, k, v)) for k, v in defaults.items()}
        imp.elementwise(node, "lut", function=function, **attrs)
    return handler


def _tflite_float_only(code: str):
    def handler(imp, op) -> None:
        imp.fail(op, f"TFLite Micro's {code} kernel computes float32 only (no int8 kernel), so there is no TFLM "
                     "result to match")
    return handler


ONNX = {"Elu": _onnx("elu", alpha=1.0), "Selu": _onnx("selu", alpha=SELU_ALPHA, gamma=SELU_GAMMA),
        "HardSigmoid": _onnx("hard_sigmoid", alpha=0.2, beta=0.5), "Exp": _onnx("exp"), "Abs": _onnx("abs"),
        "Neg": _onnx("neg")}
TFLITE = {"ELU": lambda imp, op: imp.unary(op, "lut", function="elu"),
          "ABS": lambda imp, op: imp.unary(op, "lut", function="abs"),
          "NEG": _tflite_float_only("NEG"), "EXP": _tflite_float_only("EXP")}
