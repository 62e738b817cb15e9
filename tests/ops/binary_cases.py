"""Cases of the broadcasting elementwise operators (add, mul, sub, squared_difference,
maximum_minimum, compare, prelu, select): random and real-model broadcast shapes, an
element-by-element naive runner, and single-operator .tflite models for TFLM."""
from __future__ import annotations

import numpy as np

from common import ACTS, TFL_ACT, rand_scale, rand_zp
from harness import Case, T


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


BOOL = dict(dtype="bool", scale=np.zeros(0, np.float32), zero_point=np.zeros(0, np.int64))  # an unquantized T
COMPARE_KINDS = ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal")
FUSED_ACT = ("add", "mul", "sub", "div")  # the binary operators with a fused activation


def random_case(rng, op_type: str = "add", max_rank: int = 5) -> Case:
    """A random case of a two-input broadcasting operator (either input may be a constant)."""
    sa, sb, so = rand_broadcast_shapes(rng, max_rank)
    s1 = rand_scale(rng)
    s2 = s1 * float(rng.choice([1.0, rand_scale(rng, 0.5, 2.0), rand_scale(rng, 1e-3, 1e3)]))
    if op_type == "compare":  # TFLM's rescaling needs scales below 1
        s1, s2 = min(s1, 0.9), min(s2, 0.9)
    z1, z2 = rand_zp(rng), rand_zp(rng)
    attrs: dict = {}
    if op_type in ("add", "sub"):
        ys = max(s1, s2) * float(rng.choice([0.05, 0.3, 1.0, 2.0, 5.0]))
    elif op_type == "squared_difference":
        ys = max(s1, s2) ** 2 * float(rng.choice([1e-5, 0.5, 10.0, 100.0, 1000.0, 30000.0]))  # 1e-5: shifts left
    elif op_type == "prelu":
        ys = s1 * float(rng.choice([0.1, 0.5, 1.0, 2.0]))
    elif op_type == "div":  # quotients of up to 255 / 1 in input units
        ys = s1 / s2 * float(rng.choice([0.01, 0.1, 0.5, 2.0, 10.0, 255.0]))
        attrs["tflm"] = bool(rng.integers(0, 2))  # TFLM's host arithmetic of the undefined shifts
    elif op_type == "maximum_minimum":  # TFLM compares raw values: one quantization for all
        s2, z2, ys = s1, z1, s1
        attrs["is_maximum"] = bool(rng.integers(0, 2))
    elif op_type == "compare":
        ys = 1.0
        attrs.update(kind=COMPARE_KINDS[int(rng.integers(0, len(COMPARE_KINDS)))],
                     tflm_scaling=bool(rng.integers(0, 2)))
    else:
        ys = s1 * s2 * float(rng.choice([0.5, 10.0, 100.0, 1000.0, 20000.0]))
    ta, tb = T(sa, s1, z1), T(sb, s2, z2)
    const = int(rng.integers(0, 4))  # 0: input 1 constant, 1: input 2 constant, else both activations
    if op_type == "prelu" and const == 0:
        const = 1  # prelu's input is an activation
    if const < 2:
        t = (ta, tb)[const]
        t.data = rng.integers(-128, 128, size=t.shape).astype(np.int8)
    if op_type in FUSED_ACT:
        attrs["act"] = ACTS[int(rng.integers(0, 4))]
    y = T(so, **BOOL) if op_type == "compare" else T(so, ys, z1 if op_type == "maximum_minimum" else rand_zp(rng))
    return Case(op_type, [ta, tb], [y], attrs)


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
            y = c.outputs[0]
            cases.append(Case(op_type, [ta, tb], [T(so, y.scale, y.zero_point, dtype=y.dtype)], c.attrs))
    return cases


LONG_ROW_SHAPES = [(1, 16, 16, 8), (1, 8, 8, 32), (2, 1027), (1, 4, 4, 64)]


def long_row_cases(rng, op_type: str, n: int) -> list[Case]:
    """Random cases of two same-shape activations with 1,024 elements or more (one contiguous row
    after broadcasting fuses the axes): the DSP and Helium builds' tabulated paths of add and sub
    (edgenn_arith.h, ENN_ARITH_LUT_MIN: 1,024 elements) run only on rows that long; 2 x 1,027
    leaves Helium a tail of three."""
    cases = []
    for k in range(n):
        c = random_case(rng, op_type)
        shape = LONG_ROW_SHAPES[k % len(LONG_ROW_SHAPES)]
        ta, tb = (T(shape, t.scale, t.zero_point) for t in c.inputs)
        y = c.outputs[0]
        cases.append(Case(op_type, [ta, tb], [T(shape, y.scale, y.zero_point, dtype=y.dtype)], c.attrs))
    return cases


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


def check_against_naive(rng, op_type: str, n: int, element) -> None:
    """n random cases: runtime_py's output == ``naive_run`` with ``element(case)``, a Python-int
    function of the two int8 values (a transliteration of TFLM's formulas from the case's scales)."""
    from edgenn.runtime_py.interpreter import Interpreter
    from harness import build_model

    for k in range(n):
        c = random_case(rng, op_type)
        model = build_model(c, f"n{k}")
        xs = [rng.integers(-128, 128, size=(2,) + model.tensors[d.tensor].shape).astype(np.int8) for d in model.inputs]
        got = Interpreter(model).invoke(*xs)[0]
        want = naive_run(c, xs, element(c))
        assert np.array_equal(got, want.astype(got.dtype)), f"case {k}: {c.attrs} {[t.shape for t in c.inputs]}"


# ----------------------------------------------------------------- TFLM as judge
def tflm_binary_cases(rng, op_type: str, n: int, max_rank: int = 5) -> list[Case]:
    """One case per FIXED_SHAPES pair (the constant input varying), then random cases; ranks up to
    ``max_rank`` (TFLM's broadcasting comparisons, PRELU and SQUARED_DIFFERENCE stop at 4)."""
    fixed = [c for c in fixed_cases(rng, op_type) if len(c.outputs[0].shape) <= max_rank]
    cases = [c for c in fixed[::3] + fixed[1::3][:2] if all(len(t.shape) > 0 for t in c.inputs)]
    while len(cases) < n:
        c = random_case(rng, op_type, max_rank)
        if all(len(t.shape) > 0 for t in c.inputs):  # tflite_builder's shape vectors need rank >= 1
            cases.append(c)
    return cases[:n]


# TFLite builtin -> (options table, its fields from a case)
TFL_OPTIONS = {
    "ADD": ("AddOptions", lambda c: {"FusedActivationFunction": TFL_ACT[tuple(c.attrs["act"])]}),
    "MUL": ("MulOptions", lambda c: {"FusedActivationFunction": TFL_ACT[tuple(c.attrs["act"])]}),
    "SUB": ("SubOptions", lambda c: {"FusedActivationFunction": TFL_ACT[tuple(c.attrs["act"])]}),
    "DIV": ("DivOptions", lambda c: {"FusedActivationFunction": TFL_ACT[tuple(c.attrs["act"])]}),
}


def to_tflite(case: Case, code: str) -> bytes:
    """The case as a one-operator .tflite (constants as buffers)."""
    from tflite_builder import TfOp, TfTensor, build

    def tensor(name: str, t: T) -> TfTensor:
        quantized = t.dtype == "int8"
        return TfTensor(name, t.shape, t.dtype, t.scale if quantized else None, t.zero_point if quantized else 0,
                        data=t.data)

    tensors = [tensor(f"in{i}", t) for i, t in enumerate(case.inputs)] + [tensor("out", case.outputs[0])]
    opts, fields = TFL_OPTIONS.get(code, (None, lambda c: {}))
    n = len(case.inputs)
    op = TfOp(code, list(range(n)), [n], opts, fields(case))
    inputs = [i for i, t in enumerate(case.inputs) if t.data is None]
    return build(tensors, [op], inputs, [n])
