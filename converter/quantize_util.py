"""Quantization arithmetic shared by the operator rules (float -> int8/int32 constants)."""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import QParams
from edgenn.errors import EdgennError

INT32_MAX = (1 << 31) - 1


def symmetric_per_channel(w: np.ndarray, axis: int, bias: np.ndarray | None = None,
                          input_scale: float | None = None, shared_scale: bool = False) -> tuple[np.ndarray, QParams]:
    """int8 weights in -127..127 with one scale per channel along ``axis`` (zero point 0).

    When a bias and the input scale are given, channel scales are raised where needed so that
    the int32 bias (scale = input_scale * weight_scale) cannot overflow. ``shared_scale`` gives
    every channel the scale of the largest one (clustered weights: the int8 values then stay on
    the layer's palette).
    """
    w = np.asarray(w, dtype=np.float64)
    if not np.all(np.isfinite(w)):
        raise EdgennError("weights contain NaN or Inf")
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.max(np.abs(w), axis=red) if w.size else np.zeros(w.shape[axis])
    if shared_scale and amax.size:
        amax = np.full_like(amax, amax.max())
    scale = np.where(amax > 0, amax / 127.0, 1.0)
    if bias is not None and input_scale is not None:
        need = np.abs(np.asarray(bias, np.float64)) / (float(input_scale) * (INT32_MAX - 1))
        scale = np.maximum(scale, need)
    scale = scale.astype(np.float32)
    # Guard against float32 underflow to zero for absurdly small weights.
    scale = np.where(scale > 0, scale, np.float32(1e-30)).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scale.astype(np.float64).reshape(shape)), -127, 127).astype(np.int8)
    return q, QParams(scale, np.zeros(scale.shape, np.int64), axis)


def quantize_weights_and_bias(op, g, weight_axis: int) -> None:
    """Float weights (input 1) -> per-channel int8 along ``weight_axis``; float bias (input 2) -> int32.

    Shared by conv2d (axis 0), depthwise_conv2d (axis 3) and fully_connected (axis 0). Already
    quantized constants (an imported .tflite) are left as they are.
    """
    x = g.tensors[op.inputs[0]]
    w = g.tensors[op.inputs[1]]
    b = g.tensors[op.inputs[2]] if len(op.inputs) > 2 and op.inputs[2] else None
    if w.dtype == "float32":
        qw, wq = symmetric_per_channel(w.data, axis=weight_axis, bias=None if b is None else b.data,
                                       input_scale=x.quant.s,
                                       shared_scale=op.attrs.get("weight_scale") == "per_tensor")
        w.data, w.dtype, w.quant = qw, "int8", wq
    if b is not None and b.dtype == "float32":
        b.data, b.quant = bias_int32(b.data, x.quant.s, w.quant.scale)
        b.dtype = "int32"


def bias_int32(bias: np.ndarray, input_scale: float, weight_scales: np.ndarray) -> tuple[np.ndarray, QParams]:
    """int32 bias with scale input_scale * weight_scale (per channel)."""
    b = np.asarray(bias, dtype=np.float64)
    if not np.all(np.isfinite(b)):
        raise EdgennError("bias contains NaN or Inf")
    s = float(input_scale) * weight_scales.astype(np.float64)
    q = np.clip(np.round(b / s), -INT32_MAX, INT32_MAX).astype(np.int32)
    return q, QParams(s.astype(np.float32), np.zeros(s.shape, np.int64), 0)


def asymmetric_from_range(lo: float, hi: float) -> QParams:
    """Per-tensor int8 parameters covering [lo, hi] (always including 0), TFLite-style nudging."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise EdgennError(f"calibration range [{lo}, {hi}] is not finite")
    lo = min(float(lo), 0.0)
    hi = max(float(hi), 0.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    scale = np.float32((hi - lo) / 255.0)
    zp = int(np.clip(round(-128 - lo / float(scale)), -128, 127))
    return QParams.per_tensor(float(scale), zp)


# The smallest activation scale the kernels' fixed-point parameters support with margin: logistic
# and tanh need an input scale of at least 2**-28 (TFLM's input multiplier), softmax
# beta * scale > 2**-26, and a requantization multiplier in_scale * w_scale / out_scale must stay
# below 2**31. A tensor whose whole calibrated range is below 255 * 2**-24 (about 1.5e-5) is
# (nearly) constant: its scale is raised to this, which still represents its values.
MIN_ACTIVATION_SCALE = 2.0 ** -24


def activation_qparams(lo: float, hi: float) -> tuple[QParams, bool]:
    """Per-tensor int8 parameters of an activation's calibrated range [lo, hi], and whether the
    scale had to be raised to MIN_ACTIVATION_SCALE (same zero point: the range only widens)."""
    q = asymmetric_from_range(lo, hi)
    if q.s >= MIN_ACTIVATION_SCALE:
        return q, False
    return QParams.per_tensor(MIN_ACTIVATION_SCALE, q.zp), True


def quantize_array(x: np.ndarray, q: QParams) -> np.ndarray:
    """float -> int8 with the tensor's (per-tensor) parameters, round half away from zero."""
    v = np.asarray(x, dtype=np.float64) / float(q.scale[0])
    r = np.sign(v) * np.floor(np.abs(v) + 0.5)
    return np.clip(r + q.zp, -128, 127).astype(np.int8)

