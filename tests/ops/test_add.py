"""add: Python kernel == C kernel byte for byte, == a naive TFLM model, == TFLM itself."""
from __future__ import annotations

import math

import numpy as np
import pytest

from harness import Case, T, build_model, check_cases, run_c_host
from edgenn.runtime_py.interpreter import Interpreter

ACTS = [(None, None), (0.0, None), (0.0, 6.0), (-1.0, 1.0)]
TFL_ACT = {(None, None): 0, (0.0, None): 1, (-1.0, 1.0): 2, (0.0, 6.0): 3}  # FusedActivationFunction


# ----------------------------------------------------------------- TFLM's formulas with Python ints
def tflm_quantize_multiplier(real: float) -> tuple[int, int]:
    """quantization_util.cc QuantizeMultiplier (double rounding build)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    t = q * (1 << 31)
    q_fixed = int(math.floor(t + 0.5)) if t >= 0 else -int(math.floor(-t + 0.5))  # TfLiteRound
    if q_fixed == 1 << 31:
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return q_fixed, shift


def _wrap(x: int) -> int:
    return (x + (1 << 31)) % (1 << 32) - (1 << 31)


def tflm_srdhm(a: int, b: int) -> int:
    if a == b == -(1 << 31):
        return (1 << 31) - 1
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    s = ab + nudge
    return s // (1 << 31) if s >= 0 else -((-s) // (1 << 31))  # C division truncates


def tflm_rdbp(x: int, exponent: int) -> int:
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def tflm_mbqm(x: int, multiplier: int, shift: int) -> int:
    """common.cc MultiplyByQuantizedMultiplier (int32 x)."""
    left, right = max(shift, 0), max(-shift, 0)
    return tflm_rdbp(tflm_srdhm(_wrap(x * (1 << left)), multiplier), right)


def tflm_activation_range(act, scale: float, zp: int) -> tuple[int, int]:
    """kernel_util.cc CalculateActivationRangeQuantized for the four fused activations."""
    def q(f):
        v = float(np.float32(f) / np.float32(scale))
        return zp + (int(math.floor(v + 0.5)) if v >= 0 else -int(math.floor(-v + 0.5)))
    lo, hi = act
    act_min = -128 if lo is None else max(-128, q(lo))
    act_max = 127 if hi is None else min(127, q(hi))
    return act_min, act_max


def naive_add(x1: int, x2: int, s1: float, z1: int, s2: float, z2: int, so: float, zo: int, act) -> int:
    """reference_integer_ops::AddFunc after CalculateOpDataAdd, one element."""
    s1, s2, so = float(np.float32(s1)), float(np.float32(s2)), float(np.float32(so))
    twice_max = 2 * max(s1, s2)
    m1, sh1 = tflm_quantize_multiplier(s1 / twice_max)
    m2, sh2 = tflm_quantize_multiplier(s2 / twice_max)
    mo, sho = tflm_quantize_multiplier(twice_max / ((1 << 20) * so))
    a = tflm_rdbp(tflm_srdhm((x1 - z1) * (1 << 20), m1), -sh1)
    b = tflm_rdbp(tflm_srdhm((x2 - z2) * (1 << 20), m2), -sh2)
    y = tflm_rdbp(tflm_srdhm(a + b, mo), -sho) + zo
    lo, hi = tflm_activation_range(act, so, zo)
    return min(hi, max(lo, y))


# ----------------------------------------------------------------- random cases
def rand_zp(rng) -> int:
    return int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))


def rand_scale(rng, lo=1e-3, hi=1.0) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def rand_broadcast_shapes(rng, max_rank: int = 5, max_dim: int = 6):
    """(shape1, shape2, out_shape): numpy broadcasting, ranks 1..max_rank, either side broadcast."""
    r = int(rng.integers(1, max_rank + 1))
    out = [int(rng.integers(1, max_dim + 1)) for _ in range(r)]
    kind = int(rng.integers(0, 5))
    if kind == 0:  # equal shapes
        return tuple(out), tuple(out), tuple(out)
    if kind == 1:  # per-channel: (1,..,1,C) or (C,) against the full tensor
        c = (out[-1],)
        other = c if rng.integers(0, 2) else (1,) * int(rng.integers(0, r)) + c
        return (tuple(out), other, tuple(out)) if rng.integers(0, 2) else (other, tuple(out), tuple(out))
    if kind == 2:  # a scalar
        sc = (1,) * int(rng.integers(1, r + 1))
        return (tuple(out), sc, tuple(out)) if rng.integers(0, 2) else (sc, tuple(out), tuple(out))
    # general: each axis of each input is the output's or 1; inputs may have lower rank
    r1, r2 = int(rng.integers(1, r + 1)), int(rng.integers(1, r + 1))
    if rng.integers(0, 2):
        r1 = r
    else:
        r2 = r
    a = [d if rng.random() < 0.6 else 1 for d in out[r - r1:]]
    b = [d if rng.random() < 0.6 else 1 for d in out[r - r2:]]
    for i in range(r):  # every axis of the output must come from one input
        ia, ib = i - (r - r1), i - (r - r2)
        ha = ia >= 0 and a[ia] == out[i]
        hb = ib >= 0 and b[ib] == out[i]
        if not (ha or hb):
            if ia >= 0 and (ib < 0 or rng.integers(0, 2)):
                a[ia] = out[i]
            else:
                b[ib] = out[i]
    return tuple(a), tuple(b), tuple(out)


def random_case(rng, op_type: str = "add") -> Case:
    sa, sb, so = rand_broadcast_shapes(rng)
    s1 = rand_scale(rng)
    s2 = s1 * float(rng.choice([1.0, rand_scale(rng, 0.5, 2.0), rand_scale(rng, 1e-3, 1e3)]))
    if op_type == "add":
        ys = max(s1, s2) * float(rng.choice([0.05, 0.3, 1.0, 2.0, 5.0]))
    else:
        ys = s1 * s2 * float(rng.choice([0.5, 10.0, 100.0, 1000.0, 20000.0]))
    ta, tb = T(sa, s1, rand_zp(rng)), T(sb, s2, rand_zp(rng))
    const = int(rng.integers(0, 4))  # 0: input 1 constant, 1: input 2 constant, else both activations
    if const < 2:
        t = (ta, tb)[const]
        t.data = rng.integers(-128, 128, size=t.shape).astype(np.int8)
    act = ACTS[int(rng.integers(0, 4))]
    return Case(op_type, [ta, tb], [T(so, ys, rand_zp(rng))], {"act": act})


FIXED_SHAPES = [  # (input 1, input 2): the broadcasts that occur in real models
    ((1, 5, 4, 8), (1, 1, 1, 8)), ((1, 1, 1, 8), (1, 5, 4, 8)), ((1, 5, 4, 8), (8,)), ((8,), (2, 3, 8)),
    ((1, 5, 4, 8), (1, 5, 4, 1)), ((1, 5, 1, 8), (1, 1, 4, 1)), ((3, 1, 5), (1, 4, 1)), ((7,), (1,)),
    ((1,), (7,)), ((2, 3, 4, 5, 6), (2, 1, 4, 1, 6)), ((1, 3, 1, 5, 1), (2, 1, 4, 1, 6)), ((5,), (5,)),
    ((1, 1, 1, 1), (1, 1, 1, 1)), ((6, 1), (1, 6)), ((2, 3, 4, 5, 6), ()), ((4, 4), (4, 1)),
    ((2, 1, 3, 1, 2, 2), (1, 2, 1, 2, 1, 2)), ((1, 2, 3, 2, 2, 3), (3,)),  # rank 6
]


def fixed_cases(rng, op_type: str) -> list[Case]:
    cases = []
    for sa, sb in FIXED_SHAPES:
        so = tuple(np.broadcast_shapes(sa, sb))
        for const in (None, 0, 1):
            if const is not None and (sa, sb)[1 - const] == ():
                continue
            c = random_case(rng, op_type)
            ta, tb = T(sa, c.inputs[0].scale, c.inputs[0].zero_point), T(sb, c.inputs[1].scale, c.inputs[1].zero_point)
            if const is not None or sb == ():
                t = (ta, tb)[1 if const is None else const]
                t.data = rng.integers(-128, 128, size=t.shape).astype(np.int8)
            cases.append(Case(op_type, [ta, tb], [T(so, c.outputs[0].scale, c.outputs[0].zero_point)], c.attrs))
    return cases


def test_add_random_cases():
    rng = np.random.default_rng(2024)
    cases = fixed_cases(rng, "add") + [random_case(rng) for _ in range(165)]
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


# ----------------------------------------------------------------- against the naive formulas
def naive_run(case: Case, xs: list[np.ndarray], fn) -> np.ndarray:
    """Element by element with Python ints; xs are the activations (N, *shape) in input order."""
    it = iter(xs)
    vals = [np.broadcast_to(t.data, (xs[0].shape[0],) + t.shape) if t.data is not None else next(it)
            for t in case.inputs]
    so = case.outputs[0].shape
    n = xs[0].shape[0]
    a = np.broadcast_to(vals[0].reshape((n,) + (1,) * (len(so) - len(case.inputs[0].shape)) + case.inputs[0].shape),
                        (n,) + so)
    b = np.broadcast_to(vals[1].reshape((n,) + (1,) * (len(so) - len(case.inputs[1].shape)) + case.inputs[1].shape),
                        (n,) + so)
    out = np.empty((n,) + so, np.int8)
    for idx in np.ndindex(*out.shape):
        out[idx] = fn(int(a[idx]), int(b[idx]))
    return out


def test_add_python_kernel_matches_naive_tflm_formulas():
    rng = np.random.default_rng(7)
    for k in range(40):
        c = random_case(rng)
        ta, tb, ty = c.inputs[0], c.inputs[1], c.outputs[0]
        model = build_model(c, f"n{k}")
        xs = [rng.integers(-128, 128, size=(2,) + model.tensors[d.tensor].shape).astype(np.int8) for d in model.inputs]
        got = Interpreter(model).invoke(*xs)[0]
        want = naive_run(c, xs, lambda x1, x2: naive_add(x1, x2, ta.scale, ta.zero_point, tb.scale, tb.zero_point,
                                                          ty.scale, ty.zero_point, c.attrs["act"]))
        assert np.array_equal(got, want), f"case {k}: {c.inputs[0].shape} + {c.inputs[1].shape}"


def test_add_rejects_bad_shapes():
    from edgenn.errors import EdgennError

    with pytest.raises(EdgennError, match="broadcast"):
        build_model(Case("add", [T((2, 3), 0.1, 0), T((4, 3), 0.1, 0)], [T((4, 3), 0.1, 0)]), "bad")
    with pytest.raises(EdgennError, match="output shape"):
        build_model(Case("add", [T((2, 3), 0.1, 0), T((1, 3), 0.1, 0)], [T((3, 3), 0.1, 0)]), "bad")


# ----------------------------------------------------------------- TFLM as judge
def tflm_binary_cases(rng, op_type: str, n: int) -> list[Case]:
    """One case per FIXED_SHAPES pair (the constant input varying), then random cases."""
    fixed = fixed_cases(rng, op_type)
    cases = [c for c in fixed[::3] + fixed[1::3][:2] if all(len(t.shape) > 0 for t in c.inputs)]
    while len(cases) < n:
        c = random_case(rng, op_type)
        if all(len(t.shape) > 0 for t in c.inputs):  # tflite_builder's shape vectors need rank >= 1
            cases.append(c)
    return cases[:n]


def to_tflite(case: Case, code: str) -> bytes:
    """The case as a one-operator .tflite (constants as buffers)."""
    from tflite_builder import TfOp, TfTensor, build

    tensors = [TfTensor(f"in{i}", t.shape, "int8", t.scale, t.zero_point, data=t.data)
               for i, t in enumerate(case.inputs)]
    y = case.outputs[0]
    tensors.append(TfTensor("out", y.shape, "int8", y.scale, y.zero_point))
    opts = "AddOptions" if code == "ADD" else "MulOptions"
    op = TfOp(code, [0, 1], [2], opts, {"FusedActivationFunction": TFL_ACT[tuple(case.attrs["act"])]})
    inputs = [i for i, t in enumerate(case.inputs) if t.data is None]
    return build(tensors, [op], inputs, [2])


def edgenn_model(data: bytes, case: Case, name: str):
    """edgenn's model of a .tflite: through the TFLite importer when it exists, else the case."""
    try:
        from edgenn.converter.tflite_import import convert_tflite_bytes
    except ImportError:
        return build_model(case, name)
    return convert_tflite_bytes(data, name)


def judge_against_tflm(cases: list[Case], code: str, to_tflite_fn, samples: int = 4, seed: int = 0) -> int:
    """TFLM output == runtime_py output == host C output, byte for byte, for every case."""
    import shutil
    import tempfile
    from pathlib import Path

    from tflite_builder import run_tflm

    rng = np.random.default_rng(seed)
    models, inputs, tflm_out = [], [], []
    for i, c in enumerate(cases):
        data = to_tflite_fn(c, code)
        m = edgenn_model(data, c, f"t{i}")
        xs = [rng.integers(-128, 128, size=(samples,) + t.shape).astype(np.int8) for t in c.inputs if t.data is None]
        xs[0][0] = -128
        xs[0][1] = 127
        want = run_tflm(data, xs)[0]
        got = Interpreter(m).invoke(*xs)[0]
        assert np.array_equal(want.reshape(got.shape), got), (
            f"case {i} ({code} {[t.shape for t in c.inputs]} attrs {c.attrs}): TFLM and runtime_py differ at "
            f"{np.argwhere(want.reshape(got.shape) != got)[:3].tolist()}")
        models.append(m)
        inputs.append(xs)
        tflm_out.append(want)
    work = Path(tempfile.mkdtemp(prefix="edgenn-tflm-"))
    try:
        c_out = run_c_host(models, inputs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for i, (w, g) in enumerate(zip(tflm_out, c_out)):
        assert np.array_equal(w.reshape(g[0].shape), g[0]), f"case {i}: TFLM and C differ"
    return len(cases)


def test_add_matches_tflm():
    rng = np.random.default_rng(99)
    assert judge_against_tflm(tflm_binary_cases(rng, "add", 30), "ADD", to_tflite) == 30


def test_add_and_mul_activation_bounds_beyond_int8():
    """An ONNX-style clamp whose lower bound lies above the output range gives 127 everywhere."""
    for op in ("add", "mul"):
        c = Case(op, [T((3, 4), 0.02, 0), T((4,), 0.02, 5, np.arange(4, dtype=np.int8))], [T((3, 4), 0.01, 0)],
                 {"act": (5.0, None)})
        m = build_model(c, "hi")
        assert (m.ops[0].options["act_min"], m.ops[0].options["act_max"]) == (127, 127)
        x = np.random.default_rng(0).integers(-128, 128, size=(2, 3, 4)).astype(np.int8)
        assert np.all(Interpreter(m).invoke(x)[0] == 127)
        c.attrs["act"] = (None, -5.0)
        m = build_model(c, "lo")
        assert np.all(Interpreter(m).invoke(x)[0] == -128)
