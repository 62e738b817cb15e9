"""compare: Python kernel == C kernel byte for byte (bool outputs), == a naive TFLM transliteration,
== TFLM's EQUAL, NOT_EQUAL, LESS, LESS_EQUAL, GREATER, GREATER_EQUAL; edgenn's common-scale variant
(ONNX) decides like the real values."""
from __future__ import annotations

import numpy as np
import pytest

import tflm_ref as ref
from binary_cases import (BOOL, COMPARE_KINDS, check_against_naive, fixed_cases, random_case, tflm_binary_cases,
                          to_tflite)
from common import judge_against_tflm
from harness import Case, T, build_model, check_cases
from edgenn.errors import EdgennError
from edgenn.runtime_py.interpreter import Interpreter


def test_compare_random_cases():
    rng = np.random.default_rng(2201)
    cases = fixed_cases(rng, "compare") + [random_case(rng, "compare") for _ in range(165)]
    assert {c.attrs["kind"] for c in cases} == set(COMPARE_KINDS)
    assert {c.attrs["tflm_scaling"] for c in cases} == {True, False}
    stats = check_cases(cases, samples=3)
    assert stats["cases"] >= 200


def test_compare_python_kernel_matches_naive_tflm_formulas():
    def element(c):
        c.attrs["tflm_scaling"] = True
        ta, tb = c.inputs
        return lambda x1, x2: ref.compare_value(c.attrs["kind"], x1, x2, ta.scale, ta.zero_point, tb.scale,
                                                tb.zero_point)
    check_against_naive(np.random.default_rng(2202), "compare", 40, element)


@pytest.mark.parametrize("kind", COMPARE_KINDS)
def test_compare_matches_tflm(kind):
    rng = np.random.default_rng(2203 + COMPARE_KINDS.index(kind))
    cases = tflm_binary_cases(rng, "compare", 12, max_rank=4)  # TFLM broadcasts comparisons up to 4-D
    for c in cases:
        c.attrs.update(kind=kind, tflm_scaling=True)
    assert judge_against_tflm(cases, kind.upper(), to_tflite) == 12


def test_common_scale_keeps_distinct_values_distinct():
    """With small scales TFLM's rescaling (units of 1/256) merges neighbouring values; edgenn's ONNX
    variant compares every pair of int8 values exactly as their real values compare."""
    s1, z1, s2, z2 = 0.001, 3, 0.0013, -7
    x1 = np.repeat(np.arange(-128, 128), 256).astype(np.int8)
    x2 = np.tile(np.arange(-128, 128), 256).astype(np.int8)
    real = ((x1.astype(np.float64) - z1) * np.float32(s1), (x2.astype(np.float64) - z2) * np.float32(s2))
    distinct = np.abs(real[0] - real[1]) > 1e-6 * s1  # pairs whose real values differ
    assert distinct.mean() > 0.99
    merged = 0
    for kind in COMPARE_KINDS:
        for tflm in (False, True):
            c = Case("compare", [T((65536,), s1, z1), T((65536,), s2, z2)], [T((65536,), **BOOL)],
                     {"kind": kind, "tflm_scaling": tflm})
            got = Interpreter(build_model(c, "p")).invoke(x1[None], x2[None])[0][0]
            want = ref.COMPARISONS[kind](*real)
            if tflm:
                merged += int(np.count_nonzero((got != want) & distinct))
            else:
                assert np.array_equal(got[distinct], want[distinct]), kind
    assert merged > 0  # TFLM's own arithmetic does merge values here


def test_compare_refuses_what_tflm_refuses():
    c = Case("compare", [T((4,), 1.5, 0), T((4,), 0.1, 0)], [T((4,), **BOOL)], {"kind": "less", "tflm_scaling": True})
    with pytest.raises(EdgennError, match="outside"):
        build_model(c, "bad")
