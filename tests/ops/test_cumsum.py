"""cumsum: Python kernel == C kernel byte for byte, == a line-by-line transliteration of TFLM's int8
CumSum (its accumulator starts at the scaled input offset and wraps), == TFLM's CUMSUM; the ONNX
variant (from 0, no wrap) is within one output step of the real running sums."""
from __future__ import annotations

import numpy as np

import tflm_ref as ref
from common import judge_against_tflm, rand_scale, rand_zp, reduce_tflite
from harness import Case, T, build_model, check_cases
from edgenn.runtime_py.interpreter import Interpreter


def random_case(rng, tflm: bool | None = None, max_rank: int = 5) -> Case:
    rank = int(rng.integers(1, max_rank + 1))
    shape = tuple(int(v) for v in rng.integers(1, 7, size=rank))
    axis = int(rng.integers(0, rank))
    if rng.random() < 0.2:  # long sequences
        shape = shape[:axis] + (int(rng.integers(20, 300)),) + shape[axis + 1:]
    s_in = rand_scale(rng)
    s_out = s_in * float(rng.choice([0.7, 1.0, 3.0, np.sqrt(shape[axis]), shape[axis], 2.0 * shape[axis]]))
    return Case("cumsum", [T(shape, s_in, rand_zp(rng))], [T(shape, s_out, rand_zp(rng))],
                {"axis": axis, "exclusive": bool(rng.integers(0, 2)), "reverse": bool(rng.integers(0, 2)),
                 "tflm": bool(rng.integers(0, 2)) if tflm is None else tflm})


def tflm_cumsum(x: np.ndarray, axis: int, exclusive: bool, reverse: bool, s_in, z_in, s_out, z_out) -> np.ndarray:
    """CalculateOpData + reference_ops::CumSum(ArithmeticParams, int8), on Python ints."""
    left = 20
    twice = 2 * float(np.float32(s_in))
    m_in, sh_in = ref.quantize_multiplier(float(np.float32(s_in)) / twice)
    m_out, sh_out = ref.quantize_multiplier(twice / ((1 << left) * float(np.float32(s_out))))
    inner = int(np.prod(x.shape[:axis], dtype=np.int64))
    outer = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    depth = x.shape[axis]
    flat = x.reshape(-1).astype(int)
    out = np.zeros(flat.size, np.int64)
    for oi in range(outer):
        o_adj = outer - 1 - oi if reverse else oi
        for ii in range(inner):
            acc = ref.mbqm(ref.wrap(-z_in * (1 << left)), m_in, sh_in)
            i_adj = inner - 1 - ii if reverse else ii
            for d in range(depth):
                d_adj = depth - 1 - d if reverse else d
                idx = o_adj + i_adj * depth * outer + d_adj * outer
                scaled = ref.mbqm(ref.wrap((flat[idx] - z_in) * (1 << left)), m_in, sh_in)
                if exclusive:
                    value, acc = acc, ref.wrap(acc + scaled)
                else:
                    acc = ref.wrap(acc + scaled)
                    value = acc
                out[idx] = max(-128, min(127, ref.mbqm(value, m_out, sh_out) + z_out))
    return out.reshape(x.shape)


def test_cumsum_random_cases():
    rng = np.random.default_rng(3901)
    stats = check_cases([random_case(rng) for _ in range(220)], samples=4)
    assert stats["cases"] == 220
    assert stats["saturated_low"] > 0 and stats["saturated_high"] > 0


def test_cumsum_python_matches_naive_tflm():
    rng = np.random.default_rng(3902)
    for k in range(40):
        c = random_case(rng, tflm=True, max_rank=4)
        ti, to = c.inputs[0], c.outputs[0]
        x = rng.integers(-128, 128, size=(2,) + ti.shape).astype(np.int8)
        got = Interpreter(build_model(c, f"n{k}")).invoke(x)[0]
        for s in range(2):
            want = tflm_cumsum(x[s], c.attrs["axis"], c.attrs["exclusive"], c.attrs["reverse"], ti.scale,
                               ti.zero_point, to.scale, to.zero_point)
            assert np.array_equal(got[s], want), f"case {k} {c.attrs}"


def test_onnx_variant_is_within_a_step_of_the_real_sums():
    rng = np.random.default_rng(3903)
    for k in range(40):
        c = random_case(rng, tflm=False)
        ti, to = c.inputs[0], c.outputs[0]
        x = rng.integers(-128, 128, size=(2,) + ti.shape).astype(np.int8)
        got = Interpreter(build_model(c, f"o{k}")).invoke(x)[0].astype(np.float64)
        a = c.attrs["axis"] + 1
        real = (x.astype(np.float64) - ti.zero_point) * float(np.float32(ti.scale))
        if c.attrs["reverse"]:
            real = np.flip(real, axis=a)
        y = np.cumsum(real, axis=a) - (real if c.attrs["exclusive"] else 0)
        if c.attrs["reverse"]:
            y = np.flip(y, axis=a)
        want = np.clip(y / float(np.float32(to.scale)) + to.zero_point, -128, 127)
        assert np.max(np.abs(got - want)) <= 0.5 + 1e-6, f"case {k} {c.attrs}"


def test_cumsum_matches_tflm():
    rng = np.random.default_rng(3904)
    cases = [random_case(rng, tflm=True, max_rank=4) for _ in range(40)]

    def to_tflite(c, code):
        return reduce_tflite(c, code, "CumsumOptions", {"Exclusive": c.attrs["exclusive"],
                                                          "Reverse": c.attrs["reverse"]})
    assert judge_against_tflm(cases, "CUMSUM", to_tflite) == 40
