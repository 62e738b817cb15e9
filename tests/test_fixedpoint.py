"""The arithmetic contract: numpy == C == an arbitrary-precision definition, on random and extreme values."""
from __future__ import annotations

import math
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from edgenn.codegen.generate import templates_dir
from edgenn.runtime_py import fixedpoint as fp

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def ref_srdhm(a: int, b: int) -> int:
    """round(a*b / 2**31) with halves rounded up (gemmlowp's nudge), saturating the one overflow."""
    if a == b == INT32_MIN:
        return INT32_MAX
    return math.floor(Fraction(a * b, 1 << 31) + Fraction(1, 2))


def ref_rdbp(x: int, e: int) -> int:
    """x / 2**e rounded to nearest, halves away from zero."""
    q = Fraction(x, 1 << e)
    return math.floor(q + Fraction(1, 2)) if q >= 0 else -math.floor(-q + Fraction(1, 2))


def ref_wrap(v: int) -> int:
    return (v + (1 << 31)) % (1 << 32) - (1 << 31)


def ref_mbqm(x: int, m: int, s: int) -> int:
    left, right = max(s, 0), max(-s, 0)
    return ref_rdbp(ref_srdhm(ref_wrap(x * (1 << left)), m), right)


EXTREME_X = [INT32_MIN, INT32_MIN + 1, -(1 << 30), -65536, -257, -2, -1, 0, 1, 2, 255, 65535, 1 << 30, INT32_MAX - 1,
             INT32_MAX]
EXTREME_M = [0, 1, 2, (1 << 30) - 1, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX - 1, INT32_MAX]


def cases(n: int = 4000, seed: int = 7) -> list[tuple[int, int, int]]:
    rng = np.random.default_rng(seed)
    out = [(x, m, s) for x in EXTREME_X for m in EXTREME_M for s in (-31, -20, -1, 0, 1, 7)]
    for _ in range(n):
        x = int(rng.integers(INT32_MIN, INT32_MAX, endpoint=True))
        if rng.random() < 0.5:
            x = int(rng.integers(-(1 << 20), 1 << 20))  # accumulator-like values
        m = int(rng.integers(1 << 30, INT32_MAX, endpoint=True)) if rng.random() < 0.8 else int(rng.integers(0, INT32_MAX))
        s = int(rng.integers(-31, 8))
        out.append((x, m, s))
    return out


def test_srdhm_matches_exact_rounding():
    rng = np.random.default_rng(1)
    a = np.concatenate([np.array(EXTREME_X), rng.integers(INT32_MIN, INT32_MAX, 3000, endpoint=True)])
    b = np.concatenate([np.array(EXTREME_X[::-1]), rng.integers(INT32_MIN, INT32_MAX, 3000, endpoint=True)])
    got = fp.saturating_rounding_doubling_high_mul(a, b)
    assert [int(v) for v in got] == [ref_srdhm(int(x), int(y)) for x, y in zip(a, b)]
    assert int(fp.saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN)) == INT32_MAX


def test_rounding_divide_by_pot_matches_exact_rounding():
    rng = np.random.default_rng(2)
    xs = np.concatenate([np.array(EXTREME_X), rng.integers(INT32_MIN, INT32_MAX, 2000, endpoint=True),
                         np.arange(-40, 41)])
    for e in range(0, 32):
        got = fp.rounding_divide_by_pot(xs, e)
        assert [int(v) for v in got] == [ref_rdbp(int(x), e) for x in xs], f"exponent {e}"


def test_multiply_by_quantized_multiplier_matches_exact():
    cs = cases()
    x, m, s = (np.array(c) for c in zip(*cs))
    got = fp.multiply_by_quantized_multiplier(x, m, s)
    want = [ref_mbqm(*c) for c in cs]
    assert [int(v) for v in got] == want


def test_quantize_multiplier_reproduces_real_value():
    rng = np.random.default_rng(3)
    for real in list(rng.uniform(1e-9, 100, 2000)) + [1.0, 0.5, 2.0 ** -31, 2.0 ** -32, 0.99999999999, 1e-12]:
        m, s = fp.quantize_multiplier(real)
        if m == 0:
            assert real < 2.0 ** -31
            continue
        assert (1 << 30) <= m <= INT32_MAX
        assert abs(m * 2.0 ** (s - 31) - real) <= real * 2.0 ** -30
    assert fp.quantize_multiplier(0.0) == (0, 0)
    # exactly representable cases and the rounding-up-to-2**31 renormalization
    assert fp.quantize_multiplier(0.5) == (1 << 30, 0)
    assert fp.quantize_multiplier(1.0 - 2.0 ** -40) == (1 << 30, 1)


_C_DRIVER = r"""
#include <stdio.h>
#include <stdint.h>
#include "edgenn_fixedpoint.h"
int main(void) {
    long long x, m, s;
    while (scanf("%lld %lld %lld", &x, &m, &s) == 3) {
        printf("%ld %ld %ld\n", (long)enn_mbqm((int32_t)x, (int32_t)m, (int)s),
               (long)enn_srdhm((int32_t)x, (int32_t)m), (long)enn_rdbp((int32_t)x, (int)(s < 0 ? -s : s)));
    }
    return 0;
}
"""


def _compile(tmp: Path, cc: list[str]) -> Path:
    src = tmp / "fp.c"
    src.write_text(_C_DRIVER)
    inc = templates_dir() / "kernels"
    exe = tmp / "fp"
    r = subprocess.run(cc + ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{inc}", str(src), "-o", str(exe)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return exe


def _check_c(exe_cmd: list[str]) -> None:
    cs = cases(3000, seed=11)
    inp = "\n".join(f"{x} {m} {s}" for x, m, s in cs) + "\n"
    r = subprocess.run(exe_cmd, input=inp, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0
    rows = [tuple(int(v) for v in line.split()) for line in r.stdout.splitlines()]
    assert len(rows) == len(cs)
    x, m, s = (np.array(c) for c in zip(*cs))
    py = np.stack([fp.multiply_by_quantized_multiplier(x, m, s), fp.saturating_rounding_doubling_high_mul(x, m),
                   fp.rounding_divide_by_pot(x, np.abs(s))], axis=1)
    bad = np.argwhere(np.array(rows) != py)
    assert bad.size == 0, f"C differs from numpy at case {cs[bad[0][0]]}: C {rows[bad[0][0]]} vs {py[bad[0][0]].tolist()}"


def test_c_fixedpoint_matches_python_host(tmp_path):
    _check_c([str(_compile(tmp_path, ["gcc"]))])


@pytest.mark.qemu
def test_c_fixedpoint_matches_python_on_arm_linux(tmp_path):
    """The same header on a 32-bit ARM core (armhf, qemu-arm): 32-bit long, ARM shifts and division."""
    import shutil

    if not shutil.which("arm-linux-gnueabihf-gcc") or not shutil.which("qemu-arm"):
        pytest.fail("arm-linux-gnueabihf-gcc and qemu-arm are required (make setup installs them)")
    exe = _compile(tmp_path, ["arm-linux-gnueabihf-gcc", "-static", "-mcpu=cortex-a7"])
    _check_c(["qemu-arm", str(exe)])
