"""User data <-> model tensors: the source model's layout and dtype <-> internal int8 NHWC.

Data files hold N samples stacked on a new leading axis, in the source model's own layout:
(N, *input_shape) or, for batch-1 models, (N, *input_shape[1:]). int8 arrays are taken as
already quantized; float arrays are quantized with the input's parameters.
"""
from __future__ import annotations

import numpy as np

from edgenn.errors import DataError
from edgenn.format.enn import EnnIO, EnnModel, EnnTensor


def check_dtype(a: np.ndarray, what: str, floats_only: bool = False) -> None:
    """Data must be float, or int8 (raw quantized values) unless ``floats_only`` (calibration and
    the float graph need real values); anything else (uint8 images, int32 labels) is refused
    rather than silently taken as real values."""
    if a.dtype.kind == "f" or (a.dtype == np.int8 and not floats_only):
        return
    if floats_only:
        why = " (int8 data is already quantized: it needs real values)" if a.dtype == np.int8 else ""
        raise DataError(f"{what} has dtype {a.dtype}{why}; give float data in the units the model expects "
                        "(e.g. x.astype(np.float32), scaled as in training)")
    raise DataError(f"{what} has dtype {a.dtype}; give float32 (to be quantized) or int8 (raw) data")


def source_batches(arr: np.ndarray, shape: tuple[int, ...], what: str, name: str,
                   floats_only: bool = False) -> np.ndarray:
    """Data for one model input as (N, *shape): accepts (N, *shape) or (N, *shape[1:]); the dtype
    as ``check_dtype`` says."""
    a = np.asarray(arr)
    check_dtype(a, what, floats_only)
    if a.ndim == len(shape) + 1 and tuple(a.shape[1:]) == tuple(shape):
        out = a
    elif len(shape) >= 1 and shape[0] == 1 and a.ndim == len(shape) and tuple(a.shape[1:]) == tuple(shape[1:]):
        out = a.reshape((a.shape[0],) + tuple(shape))
    else:
        want = f"(N, {', '.join(map(str, shape))})"
        if len(shape) >= 1 and shape[0] == 1:
            want += f" or (N, {', '.join(map(str, shape[1:]))})"
        raise DataError(f"{what} has shape {tuple(a.shape)}, but model input '{name}' needs {want}")
    if out.shape[0] == 0:
        raise DataError(f"{what} is empty")
    if out.dtype.kind == "f" and not np.all(np.isfinite(out)):
        bad = int(np.argwhere(~np.isfinite(out.reshape(out.shape[0], -1)))[0][0])
        raise DataError(f"{what} contains NaN or Inf (first in sample {bad})")
    return out


def quantize(x: np.ndarray, t: EnnTensor) -> np.ndarray:
    """float -> int8 with the tensor's parameters (round half away from zero, saturate)."""
    v = np.asarray(x, np.float64) / float(t.scale[0])
    r = np.sign(v) * np.floor(np.abs(v) + 0.5) + int(t.zero_point[0])
    return np.clip(r, -128, 127).astype(np.int8)


def dequantize(q: np.ndarray, t: EnnTensor) -> np.ndarray:
    return ((q.astype(np.float64) - int(t.zero_point[0])) * float(t.scale[0])).astype(np.float32)


def _perm(d: EnnIO, rank: int) -> tuple[int, ...]:
    return tuple(d.to_internal_perm) if d.to_internal_perm else tuple(range(rank))


def to_internal(model: EnnModel, data: list[np.ndarray], what: str = "input data") -> list[np.ndarray]:
    """User arrays (source layout, float or int8) -> int8 (N, *internal_shape) per input."""
    if len(data) != len(model.inputs):
        raise DataError(f"the model has {len(model.inputs)} input(s), got {len(data)} array(s)")
    res = []
    n = None
    for d, arr in zip(model.inputs, data):
        t = model.tensors[d.tensor]
        src_shape = d.source_shape or t.shape
        a = source_batches(arr, tuple(src_shape), what, d.source_name)
        if a.dtype.kind == "f":
            q = quantize(a, t)
        elif a.dtype == np.int8:
            q = a
        else:
            raise DataError(f"{what} has dtype {a.dtype}; give float32 (to be quantized) or int8 (raw) data")
        perm = _perm(d, len(src_shape))
        q = np.ascontiguousarray(np.transpose(q, (0,) + tuple(1 + p for p in perm)))
        if tuple(q.shape[1:]) != tuple(t.shape):
            raise DataError(f"{what}: internal shape {q.shape[1:]} does not match tensor {t.shape}")
        if n is not None and q.shape[0] != n:
            raise DataError(f"{what}: all inputs need the same number of samples")
        n = q.shape[0]
        res.append(q)
    return res


def from_internal(model: EnnModel, outs: list[np.ndarray], as_float: bool) -> list[np.ndarray]:
    """int8 (N, *internal_shape) per output -> source layout, dequantized to float32 if asked."""
    res = []
    for d, q in zip(model.outputs, outs):
        t = model.tensors[d.tensor]
        perm = _perm(d, len(t.shape))
        inv = [0] * len(perm)
        for i, p in enumerate(perm):
            inv[p] = i
        y = np.ascontiguousarray(np.transpose(q, (0,) + tuple(1 + p for p in inv)))
        res.append(dequantize(y, t) if as_float else y)
    return res


def check_inputs(model: EnnModel, inputs: list[np.ndarray]) -> int:
    """Validate int8 inputs against the model (count, dtype, per-sample shape, same N); returns N."""
    ts = [model.tensors[d.tensor] for d in model.inputs]
    if len(inputs) != len(ts):
        raise DataError(f"model takes {len(ts)} input(s), got {len(inputs)}")
    n = None
    for x, t in zip(inputs, ts):
        x = np.asarray(x)
        if x.dtype != np.dtype(t.dtype) or tuple(x.shape[1:]) != tuple(t.shape):
            raise DataError(f"input {t.name!r} must be {t.dtype} of shape (N, {', '.join(map(str, t.shape))}), "
                            f"got {x.dtype} {x.shape}")
        if n is not None and x.shape[0] != n:
            raise DataError("all inputs must have the same number of samples")
        n = x.shape[0]
    return int(n or 0)
