"""lut: an int8 -> int8 elementwise function as a 256-entry table computed at conversion, as TFLM
builds its int8 ELU in Prepare (PopulateLookupTable) and evaluates it (EvalUsingLookupTable).

Float attrs: ``function`` (a name of FUNCTIONS) and its parameters: ``alpha`` (elu, hard_sigmoid,
selu), ``beta`` (hard_sigmoid), ``gamma`` (selu). Input and output are quantized independently
(output calibrated). The table becomes the operator's input 1 (an int8 constant) in ``prepare``:

- elu: TFLM's own, in float32 (dequantize, exp(x) - 1 for x < 0 times alpha, times 1 / output
  scale, round half away from zero, + zero point, saturate); TFLite's ELU has alpha 1;
- abs: TFLM's int8 ABS, in integers: |x - zp_in| requantized by s_in / s_out (float32 ratio) when
  the scales differ, + zp_out, saturated;
- gelu (0.5 x (1 + erf(x / sqrt 2))) and gelu_tanh (0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))):
  TFLM's int8 GELU (LUTPopulate of its float32 GeluTransform / GeluTransformApproximate), for TFLite's
  GELU, ONNX Gelu (opset 20) and the Erf pattern x * 0.5 * (1 + Erf(x / sqrt 2)) alike;
- rsqrt: TFLite's RSQRT with TFLM's integer arithmetic (attr ``tflm``: GetInvSqrtQuantizedMultiplierExp
  of x - zp_in, then two MultiplyByQuantizedMultiplier with a 2**20 intermediate); TFLM refuses inputs
  below the zero point (negative reals) at run time, the table gives them the output maximum as it does
  0. Without ``tflm`` (ONNX layer normalization): 1 / sqrt(x + ``eps``) in float64 (the output maximum
  where x + eps <= 0);
- neg with ``tflm``: TFLite's DEQUANTIZE -> NEG (float32) -> QUANTIZE chain, which the TF converter
  emits inside layer normalizations: dequantized in double, negated, divided by the output scale in
  double, rounded half away from zero;
- neg, exp, erf, hard_sigmoid (max(0, min(1, alpha x + beta))), selu (gamma (x > 0 ? x : alpha (exp(x) - 1))):
  TFLM has no int8 kernel for them; edgenn's table follows the same recipe in float64, so every
  entry is the nearest output step to the float function of the input value (saturated).

TFLite's NEG and EXP on their own are float-only in TFLM: refused with that reason.
"""
from __future__ import annotations

import math

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import per_tensor, populate_table, same_shape
from edgenn.errors import EdgennError
from edgenn.format.schema.fb.LutFunction import LutFunction
from edgenn.runtime_py.fixedpoint import (get_inv_sqrt_quantized_multiplier_exp, multiply_by_quantized_multiplier,
                                          quantize_multiplier)

TRAITS = RuleTraits(output_quant="calibrated", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
FUNCTIONS = {"elu": LutFunction.ELU, "abs": LutFunction.ABS, "neg": LutFunction.NEG, "exp": LutFunction.EXP,
             "hard_sigmoid": LutFunction.HARD_SIGMOID, "selu": LutFunction.SELU, "gelu": LutFunction.GELU,
             "gelu_tanh": LutFunction.GELU_TANH, "rsqrt": LutFunction.RSQRT, "erf": LutFunction.ERF}
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
    if fn == "erf":
        return _erf
    if fn in ("gelu", "gelu_tanh"):
        return lambda x: x.astype(np.float64) * 0.5 * (1.0 + (_erf(x / np.sqrt(2.0)) if fn == "gelu" else np.tanh(
            np.sqrt(2.0 / np.pi) * (x + 0.044715 * x ** 3))))
    if fn == "rsqrt":
        eps = float(a.get("eps", 0.0))
        return lambda x: 1.0 / np.sqrt(np.maximum(x + eps, 1e-30))
    raise EdgennError(f"lut '{op.name}': unknown function {fn!r} (one of {', '.join(FUNCTIONS)})")


def _erf(x: np.ndarray) -> np.ndarray:
    """erf in float64 (math.erf elementwise: numpy has none)."""
    return np.vectorize(math.erf, otypes=[np.float64])(np.asarray(x, np.float64))


def _tflm_gelu(approximate: bool):
    """TFLM's GeluTransform / GeluTransformApproximate, float32 step by step (erff / tanhf taken as the
    float64 function rounded once to float32)."""
    f = np.float32

    def transform(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float32)
        if approximate:
            inner = f(np.sqrt(2.0 / np.pi)) * (x + f(0.044715) * x * x * x)
            g = np.tanh(inner.astype(np.float64)).astype(np.float32)
        else:
            g = _erf(x * f(np.sqrt(0.5))).astype(np.float32)
        return (f(0.5) * x * (f(1) + g)).astype(np.float32)
    return transform


def _tflm_rsqrt(qx, qy) -> np.ndarray:
    """TFLM's RsqrtEvalQuantized for every int8 input (below the zero point: TFLM fails; here the maximum)."""
    m, s = quantize_multiplier(1.0 / (np.sqrt(float(np.float32(qx.s))) * float(np.float32(qy.s))))
    out = []
    for v in range(-128, 128):
        value = v - qx.zp
        if value <= 0:
            out.append(127)
            continue
        im, ishift = get_inv_sqrt_quantized_multiplier_exp(value, -1)
        data = int(multiply_by_quantized_multiplier(1, im, ishift + 20))
        out.append(int(multiply_by_quantized_multiplier(data, m, s - 20)) + qy.zp)
    return np.clip(np.asarray(out, np.int64), -128, 127)


def _tflm_float_neg(qx, qy) -> np.ndarray:
    """DEQUANTIZE (double scale, to float32), NEG, QUANTIZE (float32 / double scale, round half away)."""
    real = (float(np.float32(qx.s)) * (np.arange(-128, 128, dtype=np.float64) - qx.zp)).astype(np.float32)
    y = -real.astype(np.float64) / float(np.float32(qy.s))
    return np.clip(np.sign(y) * np.floor(np.abs(y) + 0.5) + qy.zp, -128, 127).astype(np.int64)


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
    elif fn in ("gelu", "gelu_tanh"):
        table = populate_table(op, qx, qy, _tflm_gelu(fn == "gelu_tanh"))
    elif fn == "rsqrt" and op.attrs.get("tflm"):
        table = _tflm_rsqrt(qx, qy)
    elif fn == "neg" and op.attrs.get("tflm"):
        table = _tflm_float_neg(qx, qy)
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
        if code == "NEG" and op.through_float:
            imp.unary(op, "lut", function="neg", tflm=True)  # DEQUANTIZE -> NEG -> QUANTIZE: int8 -> int8
            return
        imp.fail(op, f"TFLite Micro's {code} kernel computes float32 only (no int8 kernel), so there is no TFLM "
                     "result to match")
    return handler


ONNX = {"Elu": _onnx("elu", alpha=1.0), "Selu": _onnx("selu", alpha=SELU_ALPHA, gamma=SELU_GAMMA),
        "HardSigmoid": _onnx("hard_sigmoid", alpha=0.2, beta=0.5), "Exp": _onnx("exp"), "Abs": _onnx("abs"),
        "Neg": _onnx("neg"), "Erf": _onnx("erf")}


def _onnx_gelu(imp, node) -> None:
    approx = imp.attr_str(node, "approximate", "none")
    if approx not in ("none", "tanh"):
        imp.fail(f"Gelu approximate={approx!r} is not one of 'none', 'tanh'")
    imp.elementwise(node, "lut", function="gelu" if approx == "none" else "gelu_tanh")


def _tflite_gelu(imp, op) -> None:
    approx = bool(op.options.Approximate()) if op.options is not None else False
    imp.unary(op, "lut", function="gelu_tanh" if approx else "gelu")


ONNX["Gelu"] = _onnx_gelu
TFLITE = {"ELU": lambda imp, op: imp.unary(op, "lut", function="elu"),
          "ABS": lambda imp, op: imp.unary(op, "lut", function="abs"),
          "NEG": _tflite_float_only("NEG"), "EXP": _tflite_float_only("EXP"), "GELU": _tflite_gelu,
          "RSQRT": lambda imp, op: imp.unary(op, "lut", function="rsqrt", tflm=True)}
