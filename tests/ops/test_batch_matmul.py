"""batch_matmul: Python kernel == C kernel byte for byte on random cases (broadcast batch axes,
adj_x / adj_y, a constant operand), == a naive integer formula, == TFLM's BATCH_MATMUL."""
from __future__ import annotations

import numpy as np

from common import judge_against_tflm, rand_scale, rand_zp
from harness import Case, T, build_model, check_cases
from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier, quantize_multiplier
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, max_batch_axes: int = 3, constants: bool = True) -> Case:
    nb = int(rng.integers(0, max_batch_axes + 1))
    batch = [int(rng.integers(1, 4)) for _ in range(nb)]
    lb = [d if rng.random() < 0.7 else 1 for d in batch]
    rb = [d if rng.random() < 0.7 else 1 for d in batch]
    if nb and rng.random() < 0.3:  # one operand of lower rank: its batch axes broadcast from the left
        if rng.random() < 0.5:
            lb = lb[int(rng.integers(1, nb + 1)):]
        else:
            rb = rb[int(rng.integers(1, nb + 1)):]
    m, n = (int(rng.integers(1, 9)) for _ in range(2))
    k = int(rng.choice([1, 2, 3, 5, 8, 16, int(rng.integers(1, 70))]))
    adj_x, adj_y = bool(rng.random() < 0.4), bool(rng.random() < 0.5)
    ls = tuple(lb) + ((k, m) if adj_x else (m, k))
    rs = tuple(rb) + ((n, k) if adj_y else (k, n))
    out_batch = tuple(int(max(a, b)) for a, b in zip([1] * (nb - len(lb)) + lb, [1] * (nb - len(rb)) + rb))
    sa, sb = rand_scale(rng, 1e-3, 0.5), rand_scale(rng, 1e-3, 0.5)
    sy = sa * sb * np.sqrt(k) * 60 * float(rng.choice([1.0, 0.1, 0.3, 3.0, rand_scale(rng, 0.01, 10.0)]))
    a, b = T(ls, sa, rand_zp(rng)), T(rs, sb, rand_zp(rng))
    if constants and rng.random() < 0.2:
        b.data = rng.integers(-128, 128, size=rs).astype(np.int8)
    elif constants and rng.random() < 0.1:
        a.data = rng.integers(-128, 128, size=ls).astype(np.int8)
    return Case("batch_matmul", [a, b], [T(out_batch + (m, n), float(sy), rand_zp(rng))],
                {"adj_x": adj_x, "adj_y": adj_y})


def test_batch_matmul_random_cases():
    rng = np.random.default_rng(3601)
    cases = [random_case(rng) for _ in range(220)]
    assert any(c.attrs["adj_x"] for c in cases) and any(c.attrs["adj_y"] for c in cases)
    assert any(t.data is not None for c in cases for t in c.inputs)
    stats = check_cases(cases, samples=3)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_batch_matmul_python_kernel_matches_naive_formula():
    """Every output element as TFLM's loop computes it: the int32 sum over k, then requantized."""
    rng = np.random.default_rng(3602)
    for c_i in range(30):
        c = random_case(rng, constants=False)
        ta, tb = c.inputs
        ty = c.outputs[0]
        model = build_model(c, f"n{c_i}")
        xa = rng.integers(-128, 128, size=(2,) + ta.shape).astype(np.int8)
        xb = rng.integers(-128, 128, size=(2,) + tb.shape).astype(np.int8)
        got = Interpreter(model).invoke(xa, xb)[0]
        mult, shift = quantize_multiplier(float(np.float32(ta.scale)) * float(np.float32(tb.scale))
                                          / float(np.float32(ty.scale)))
        rank = len(ty.shape)
        for s in range(2):
            a = xa[s].reshape((1,) * (rank - len(ta.shape)) + ta.shape).astype(np.int64) - ta.zero_point
            b = xb[s].reshape((1,) * (rank - len(tb.shape)) + tb.shape).astype(np.int64) - tb.zero_point
            if c.attrs["adj_x"]:
                a = np.swapaxes(a, -1, -2)
            if c.attrs["adj_y"]:
                b = np.swapaxes(b, -1, -2)
            for idx in np.ndindex(*ty.shape):
                bi, i, j = idx[:-2], idx[-2], idx[-1]
                ai = tuple(0 if d == 1 else v for v, d in zip(bi, a.shape[:-2]))
                bj = tuple(0 if d == 1 else v for v, d in zip(bi, b.shape[:-2]))
                acc = int(sum(int(a[ai + (i, t)]) * int(b[bj + (t, j)]) for t in range(a.shape[-1])))
                want = min(max(int(multiply_by_quantized_multiplier(acc, mult, shift)) + ty.zero_point, -128), 127)
                assert got[s][idx] == want, f"case {c_i} sample {s} at {idx}"


def _tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    ts = [TfTensor(f"in{i}", t.shape, "int8", t.scale, t.zero_point, data=t.data) for i, t in enumerate(case.inputs)]
    ts.append(TfTensor("out", case.outputs[0].shape, "int8", case.outputs[0].scale, case.outputs[0].zero_point))
    op = TfOp(code, [0, 1], [2], "BatchMatMulOptions", {"AdjX": case.attrs["adj_x"], "AdjY": case.attrs["adj_y"]})
    return build(ts, [op], [i for i, t in enumerate(case.inputs) if t.data is None], [2])


def test_batch_matmul_matches_tflm():
    """TFLM's BATCH_MATMUL (ranks 2..5, broadcast batch axes, adj_x / adj_y, a constant operand)."""
    rng = np.random.default_rng(3603)
    cases = [random_case(rng) for _ in range(40)]
    assert judge_against_tflm(cases, "BATCH_MATMUL", _tflite) == 40
