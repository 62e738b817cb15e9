"""gemmlowp fixed-point primitives used by softmax and logistic: numpy == C == pure-Python ints.

runtime_py/fixedpoint.py (vectorized numpy) and templates/kernels/edgenn_fixedpoint.h (C) each
implement them once; here both are run on the same int32 inputs (random over the full range plus
the edge values) and compared with each other and with the scalar transliteration in tflm_ref.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

import tflm_ref as ref
from edgenn.runtime_py import fixedpoint as fp

TEMPLATES = Path(fp.__file__).resolve().parent.parent / "templates" / "kernels"

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1

# (name, C expression of a and b, numpy function of arrays a and b, pure-Python function of ints a and b)
SAT_EXPONENTS = [-31, -12, -3, -1, 1, 2, 5, 12, 30, 31]
EXP_BITS = [1, 2, 4, 5, 6, 8, 12]
LOGISTIC_BITS = [1, 3, 4, 5, 8]


def _functions():
    fs = []
    fs.append(("srdhm", "enn_srdhm(a, b)", fp.saturating_rounding_doubling_high_mul, ref.srdhm))
    fs.append(("rdbp", "enn_rdbp(a, (int)((uint32_t)b % 32u))",
               lambda a, b: fp.rounding_divide_by_pot(a, (b & 0xFFFFFFFF) % 32),
               lambda a, b: ref.rdbp(a, (b & 0xFFFFFFFF) % 32)))
    for e in SAT_EXPONENTS:
        fs.append((f"sat_mul_pot{e}", f"enn_sat_mul_pot(a, {e})",
                   lambda a, b, e=e: fp.saturating_rounding_multiply_by_pot(a, e),
                   lambda a, b, e=e: ref.sat_mul_pot(a, e)))
    fs.append(("rounding_half_sum", "enn_rounding_half_sum(a, b)", fp.rounding_half_sum, ref.rounding_half_sum))
    fs.append(("exp_quarter", "enn_exp_on_interval_between_negative_one_quarter_and_0_excl(a)",
               lambda a, b: fp.exp_on_interval_between_negative_one_quarter_and_0_excl(a),
               lambda a, b: ref.exp_quarter(a)))
    for k in EXP_BITS:
        fs.append((f"exp_neg{k}", f"enn_exp_on_negative_values(a, {k})",
                   lambda a, b, k=k: fp.exp_on_negative_values(a, k), lambda a, b, k=k: ref.exp_neg(a, k)))
    fs.append(("one_over_one_plus_x", "enn_one_over_one_plus_x_for_x_in_0_1(a)",
               lambda a, b: fp.one_over_one_plus_x_for_x_in_0_1(a), lambda a, b: ref.one_over_one_plus_x(a)))
    for k in LOGISTIC_BITS:
        fs.append((f"logistic{k}", f"enn_logistic_fp(a, {k})",
                   lambda a, b, k=k: fp.logistic_fixed(a, k), lambda a, b, k=k: ref.logistic_fp(a, k)))
    fs.append(("clz32", "enn_clz32((uint32_t)a)", lambda a, b: fp.count_leading_zeros32(a), lambda a, b: ref.clz32(a)))
    fs.append(("reciprocal", "enn_get_reciprocal(a, 12, &nb)",
               lambda a, b: fp.get_reciprocal(a, 12)[0], lambda a, b: ref.get_reciprocal(a, 12)[0]))
    fs.append(("reciprocal_bits", "(enn_get_reciprocal(a, 12, &nb), nb)",
               lambda a, b: fp.get_reciprocal(a, 12)[1], lambda a, b: ref.get_reciprocal(a, 12)[1]))
    return fs


FUNCS = _functions()


def _inputs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    edge = [0, 1, -1, 2, -2, I32_MIN, I32_MAX, I32_MIN + 1, I32_MAX - 1]
    for k in range(31):
        edge += [1 << k, -(1 << k), (1 << k) - 1, -(1 << k) + 1, (1 << k) + 1]
    edge = np.asarray(edge, np.int64)
    a = np.concatenate([
        np.repeat(edge, len(edge)),
        rng.integers(I32_MIN, I32_MAX, size=n, endpoint=True),
        -rng.integers(0, 1 << rng.integers(1, 32, size=n), dtype=np.int64),  # small negatives of every magnitude
        rng.integers(0, 1 << rng.integers(1, 32, size=n), dtype=np.int64),
    ])
    b = np.concatenate([
        np.tile(edge, len(edge)),
        rng.integers(I32_MIN, I32_MAX, size=3 * n, endpoint=True),
    ])
    return a.astype(np.int64), b.astype(np.int64)


_DRIVER = r"""
#include <stdio.h>
#include <stdint.h>
#include "edgenn_fixedpoint.h"

int main(int argc, char **argv)
{
    FILE *fi = fopen(argv[1], "rb");
    FILE *fo = fopen(argv[2], "wb");
    int32_t ab[2];
    int nb = 0;
    (void)argc;
    if (!fi || !fo) return 2;
    while (fread(ab, 4, 2, fi) == 2) {
        const int32_t a = ab[0];
        const int32_t b = ab[1];
        int32_t r[%(n)d];
        (void)b;
%(body)s
        fwrite(r, 4, %(n)d, fo);
    }
    fclose(fi);
    return fclose(fo) != 0;
}
"""


@pytest.fixture(scope="module")
def c_results():
    a, b = _inputs(40000, 7)
    body = "\n".join(f"        r[{i}] = (int32_t)({expr});" for i, (_, expr, _, _) in enumerate(FUNCS))
    with tempfile.TemporaryDirectory(prefix="edgenn-fp-") as d:
        d = Path(d)
        (d / "t.c").write_text(_DRIVER % {"n": len(FUNCS), "body": body})
        cmd = ["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{TEMPLATES}", "-o", "t", "t.c"]
        r = subprocess.run(cmd, cwd=d, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        np.stack([a, b], axis=1).astype(np.int32).tofile(d / "in.bin")
        r = subprocess.run(["./t", "in.bin", "out.bin"], cwd=d, capture_output=True)
        assert r.returncode == 0
        out = np.fromfile(d / "out.bin", dtype=np.int32).reshape(a.size, len(FUNCS)).astype(np.int64)
    return a, b, out


@pytest.mark.parametrize("idx", range(len(FUNCS)), ids=[f[0] for f in FUNCS])
def test_numpy_equals_c(c_results, idx):
    a, b, out = c_results
    name, _, f_np, _ = FUNCS[idx]
    got = np.asarray(f_np(a, b), dtype=np.int64)
    assert got.min() >= I32_MIN and got.max() <= I32_MAX, name
    bad = np.flatnonzero(got != out[:, idx])
    assert bad.size == 0, f"{name}: numpy != C at a={a[bad[0]]} b={b[bad[0]]}: {got[bad[0]]} vs {out[bad[0], idx]}"


@pytest.mark.parametrize("idx", range(len(FUNCS)), ids=[f[0] for f in FUNCS])
def test_numpy_equals_pure_python(idx):
    a, b = _inputs(1500, 11)
    name, _, f_np, f_ref = FUNCS[idx]
    got = np.asarray(f_np(a, b), dtype=np.int64)
    want = [f_ref(int(x), int(y)) for x, y in zip(a, b)]
    bad = [i for i in range(a.size) if got[i] != want[i]]
    assert not bad, f"{name}: numpy != pure Python at a={a[bad[0]]} b={b[bad[0]]}: {got[bad[0]]} vs {want[bad[0]]}"


def test_exp_and_logistic_are_accurate():
    """Sanity of the semantics, not just agreement: the fixed point tracks the real functions."""
    x = np.arange(-(31 << 26), 1, 9973, dtype=np.int64)
    assert np.max(np.abs(fp.exp_on_negative_values(x, 5) / 2.0 ** 31 - np.exp(x / 2.0 ** 26))) < 1e-6
    y = np.arange(-(1 << 31) + 1, (1 << 31) - 1, 1 << 20, dtype=np.int64)
    assert np.max(np.abs(fp.logistic_fixed(y, 4) / 2.0 ** 31 - 1 / (1 + np.exp(-y / 2.0 ** 27)))) < 1e-6
    z = np.arange(0, I32_MAX, 1 << 20, dtype=np.int64)
    assert np.max(np.abs(fp.one_over_one_plus_x_for_x_in_0_1(z) / 2.0 ** 31 - 1 / (1 + z / 2.0 ** 31))) < 1e-8


def test_prepare_helpers_match_reference():
    rng = np.random.default_rng(3)
    for _ in range(500):
        s = float(np.float32(10 ** rng.uniform(-6, 1)))
        beta = float(np.float32(rng.choice([1.0, 0.5, 2.0, rng.uniform(0.01, 10)])))
        if beta * s * 2 ** 26 <= 1:
            continue
        m, sh = fp.preprocess_softmax_scaling(beta, s, 5)
        assert (m, sh, -fp.calculate_input_radius(5, sh)) == ref.softmax_params(s, beta)
