"""User data <-> model tensors: the source model's layout and dtype <-> internal NHWC tensors.

Data files hold N samples stacked on a new leading axis, in the source model's own layout:
(N, *input_shape) or, for batch-1 models, (N, *input_shape[1:]). Arrays of the tensor's own dtype
(int8, or bool / int32 for unquantized tensors) are taken raw; float arrays are quantized with
the input's parameters (bool: nonzero is true; int32: rounded).
"""
from __future__ import annotations

import io

import numpy as np

from edgenn.errors import DataError
from edgenn.format.enn import EnnIO, EnnModel, EnnTensor


def _declared_npy_bytes(data: bytes) -> int | None:
    """Bytes of array data a .npy header declares (None: not a parsable .npy header; np.load reports it)."""
    from numpy.lib import format as npy_format

    f = io.BytesIO(data)
    try:
        version = npy_format.read_magic(f)
        read_header = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
        shape, _, dtype = read_header(f)
        n = int(dtype.itemsize)
        for d in shape:
            n *= int(d)
        return n
    except Exception:  # noqa: BLE001 - any damaged header: left to np.load's own error
        return None


def read_npy(data: bytes, what: str, source: str) -> np.ndarray:
    """The array of a .npy file's bytes (no pickles), or a one-line DataError naming ``what`` and ``source``."""
    declared = _declared_npy_bytes(data)
    if declared is not None and declared > len(data):
        # numpy allocates the declared array before reading it: refuse a header larger than the file.
        raise DataError(f"{what} {source}: the .npy header declares {declared:,} bytes of data but the file has "
                        f"{len(data):,} (truncated or damaged)")
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
    except Exception as e:  # numpy raises assorted errors on damaged headers and data
        raise DataError(f"{what} {source}: not a readable .npy array ({type(e).__name__}: "
                        f"{str(e).splitlines()[0] if str(e) else ''})") from None
    if isinstance(arr, np.lib.npyio.NpzFile):
        raise DataError(f"{what} {source}: .npz archives are not supported; give one .npy per input")
    return arr


def check_dtype(a: np.ndarray, what: str, raw: str | None = None) -> None:
    """Data must be float (real values), or of the model tensor's own dtype ``raw`` (stored values:
    int8, or an unquantized bool input; any integer type for an int32 index input, such as int64
    token ids); ``raw`` None or "float32": real values only (calibration and the float graph of a
    float input). Anything else (uint8 images, int32 labels) is refused, not taken as values."""
    raw = None if raw == "float32" else raw
    if a.dtype.kind == "f" or (raw is not None and a.dtype == np.dtype(raw)) \
            or (raw == "int32" and a.dtype.kind in "iu"):
        return
    if raw is None:
        why = " (int8 data is already quantized: it needs real values)" if a.dtype == np.int8 else ""
        raise DataError(f"{what} has dtype {a.dtype}{why}; give float data in the units the model expects "
                        "(e.g. x.astype(np.float32), scaled as in training)")
    raise DataError(f"{what} has dtype {a.dtype}; give float32 (to be quantized) or {raw} (raw) data")


def source_batches(arr: np.ndarray, shape: tuple[int, ...], what: str, name: str,
                   dtype: str | None = None) -> np.ndarray:
    """Data for one model input as (N, *shape): accepts (N, *shape) or (N, *shape[1:]); with the
    input tensor's ``dtype`` (calibration, the float graph), the data's dtype as ``check_dtype`` says."""
    a = np.asarray(arr)
    if dtype is not None:
        check_dtype(a, what, dtype)
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
    if out.dtype.kind not in "fiub":
        raise DataError(f"{what} has dtype {out.dtype}; expected float, int8 (or the input's bool / int32)")
    return out


def is_quantized(t: EnnTensor) -> bool:
    """Whether the tensor holds quantized values (int8, or int16 / int32 at a TFLite model's boundary;
    else raw booleans or integers)."""
    return t.dtype in ("int8", "int16", "int32") and t.scale.size > 0


def _round_half_away(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def quantize(x: np.ndarray, t: EnnTensor) -> np.ndarray:
    """float -> int8 with the tensor's parameters (round half away from zero, saturate); for an
    unquantized tensor float -> bool (nonzero) or int32 (rounded, saturated)."""
    if t.dtype == "bool":
        return np.asarray(x) != 0
    if not is_quantized(t):
        info = np.iinfo(np.dtype(t.dtype))
        return np.clip(_round_half_away(np.asarray(x, np.float64)), info.min, info.max).astype(t.dtype)
    v = np.asarray(x, np.float64) / float(t.scale[0])
    r = _round_half_away(v) + int(t.zero_point[0])
    info = np.iinfo(np.dtype(t.dtype))
    return np.clip(r, info.min, info.max).astype(t.dtype)


def dequantize(q: np.ndarray, t: EnnTensor) -> np.ndarray:
    """Stored values -> float32 real values (booleans as 0 / 1, integers as they are)."""
    if not is_quantized(t):
        return np.asarray(q).astype(np.float32)
    return ((q.astype(np.float64) - int(t.zero_point[0])) * float(t.scale[0])).astype(np.float32)


def _perm(d: EnnIO, rank: int) -> tuple[int, ...]:
    return tuple(d.to_internal_perm) if d.to_internal_perm else tuple(range(rank))


def to_int32(a: np.ndarray, what: str, name: str) -> np.ndarray:
    """Integer data (int64 token ids, ...) for an int32 model input: every value must fit in int32."""
    info = np.iinfo(np.int32)
    if a.size and (int(a.min()) < info.min or int(a.max()) > info.max):
        raise DataError(f"{what} for input '{name}' holds values outside int32 ({int(a.min())}..{int(a.max())}); "
                        "edgenn's index inputs are int32")
    return a.astype(np.int32)


def to_internal(model: EnnModel, data: list[np.ndarray], what: str = "input data") -> list[np.ndarray]:
    """User arrays (source layout, float or the tensor's dtype) -> (N, *internal_shape) per input."""
    if len(data) != len(model.inputs):
        raise DataError(f"the model has {len(model.inputs)} input(s), got {len(data)} array(s)")
    res = []
    n = None
    for d, arr in zip(model.inputs, data):
        t = model.tensors[d.tensor]
        src_shape = d.source_shape or t.shape
        a = source_batches(arr, tuple(src_shape), what, d.source_name, t.dtype)
        if a.dtype.kind == "f":
            q = quantize(a, t)
        elif t.dtype == "int32" and a.dtype != np.int32:
            q = to_int32(a, what, d.source_name)
        else:
            q = a
        perm = _perm(d, len(src_shape))
        q = np.ascontiguousarray(np.transpose(q, (0,) + tuple(1 + p for p in perm)))
        if tuple(q.shape[1:]) != tuple(t.shape):
            raise DataError(f"{what}: internal shape {q.shape[1:]} does not match tensor {t.shape}")
        if n is not None and q.shape[0] != n:
            raise DataError(f"{what}: all inputs need the same number of samples")
        n = q.shape[0]
        res.append(q)
    return res


def from_internal(model: EnnModel, outs: list[np.ndarray], as_float: bool, raw_unquantized: bool = False) -> list[np.ndarray]:
    """(N, *internal_shape) per output -> source layout, dequantized to float32 if asked (with
    ``raw_unquantized``, only the quantized outputs: bool and integer outputs keep their dtype)."""
    res = []
    for d, q in zip(model.outputs, outs):
        t = model.tensors[d.tensor]
        perm = _perm(d, len(t.shape))
        inv = [0] * len(perm)
        for i, p in enumerate(perm):
            inv[p] = i
        y = np.ascontiguousarray(np.transpose(q, (0,) + tuple(1 + p for p in inv)))
        res.append(dequantize(y, t) if as_float and (is_quantized(t) or not raw_unquantized) else y)
    return res


def check_inputs(model: EnnModel, inputs: list[np.ndarray]) -> int:
    """Validate raw inputs against the model (count, dtype, per-sample shape, same N); returns N."""
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


def random_values(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Random raw values of a tensor's dtype: int8 over its whole range, bool, or int32 / int64 in
    -1000..1000."""
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype in ("int32", "int64"):
        return rng.integers(-1000, 1001, size=shape).astype(dtype)
    if dtype == "int16":
        return rng.integers(-32768, 32768, size=shape).astype(np.int16)
    return rng.integers(-128, 128, size=shape, dtype=np.int16).astype(np.int8)
