"""Cases of the pooling operators (max_pool2d, avg_pool2d), shared by their op tests: random
geometries, a naive transliteration of TFLM's reference pooling, and single-op .tflite models for TFLM."""
from __future__ import annotations

import numpy as np

from common import ACTS
from harness import Case, T, build_model, judge_tflite
from edgenn.runtime_py.interpreter import Interpreter


def pool_geometry(rng: np.random.Generator, big: bool = False):
    """Random (in_hw, filter, stride, pads, out_hw) with every window holding >= 1 input element."""
    h, w = (int(v) for v in rng.integers(1, 33 if big else 17, size=2))
    fh, fw = (int(v) for v in rng.integers(1, 6, size=2))
    if rng.random() < 0.15:  # global pooling
        fh, fw = h, w
    sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
    mode = rng.choice(["valid", "same", "explicit"])
    if mode == "same":  # TFLite SAME: out = ceil(in / stride), pad total split top/left first
        oh, ow = -(-h // sh), -(-w // sw)
        th, tw = max((oh - 1) * sh + fh - h, 0), max((ow - 1) * sw + fw - w, 0)
        pads = (th // 2, tw // 2, th - th // 2, tw - tw // 2)
        if pads[0] >= fh or pads[1] >= fw or pads[2] >= fh or pads[3] >= fw:
            pads = (0, 0, 0, 0)
            mode = "valid"
    elif mode == "explicit":
        pads = (int(rng.integers(0, fh)), int(rng.integers(0, fw)), int(rng.integers(0, fh)), int(rng.integers(0, fw)))
    else:
        pads = (0, 0, 0, 0)
    if mode != "same":
        fh, fw = min(fh, h + pads[0] + pads[2]), min(fw, w + pads[1] + pads[3])
        oh = (h + pads[0] + pads[2] - fh) // sh + 1
        ow = (w + pads[1] + pads[3] - fw) // sw + 1
    return (h, w), (fh, fw), (sh, sw), pads, (oh, ow)


def random_case(rng: np.random.Generator, op: str) -> Case:
    n = int(rng.choice([1, 1, 1, 2]))
    (h, w), filt, stride, pads, (oh, ow) = pool_geometry(rng)
    c = int(rng.integers(1, 17))
    scale = float(rng.choice([0.02, 0.1, 0.5, rng.uniform(0.001, 1.0)]))
    zp = int(rng.choice([-128, 127, 0, int(rng.integers(-128, 128))]))
    act = ACTS[int(rng.integers(0, len(ACTS)))]
    return Case(op, [T((n, h, w, c), scale, zp)], [T((n, oh, ow, c), scale, zp)],
                {"filter": filt, "stride": stride, "pads": pads, "act": act})


def tflm_pool(x: np.ndarray, o: dict, out_shape, average: bool) -> np.ndarray:
    """reference_integer_ops::MaxPool / AveragePool, loop for loop, on Python ints."""
    n, h, w, c = x.shape
    _, oh, ow, _ = out_shape
    y = np.zeros(out_shape, np.int8)
    for b in range(n):
        for oy in range(oh):
            for ox in range(ow):
                for ch in range(c):
                    x0 = ox * o["stride_w"] - o["pad_left"]
                    y0 = oy * o["stride_h"] - o["pad_top"]
                    fx0, fx1 = max(0, -x0), min(o["filter_w"], w - x0)
                    fy0, fy1 = max(0, -y0), min(o["filter_h"], h - y0)
                    acc, cnt, mx = 0, 0, -128
                    for fy in range(fy0, fy1):
                        for fx in range(fx0, fx1):
                            v = int(x[b, y0 + fy, x0 + fx, ch])
                            acc += v
                            cnt += 1
                            mx = max(mx, v)
                    if average:
                        assert cnt > 0
                        q = abs(acc) + cnt // 2
                        r = (q // cnt) if acc > 0 else -(q // cnt)  # C truncating division
                        v = r
                    else:
                        v = mx
                    y[b, oy, ox, ch] = min(max(v, o["act_min"]), o["act_max"])
    return y


def check_against_naive(op: str, seed: int, count: int) -> None:
    rng = np.random.default_rng(seed)
    for i in range(count):
        case = random_case(rng, op)
        model = build_model(case, f"n{i}")
        x = rng.integers(-128, 128, size=(2,) + case.inputs[0].shape, dtype=np.int16).astype(np.int8)
        got = Interpreter(model).invoke(x)[0]
        o = model.ops[0].options
        for s in range(2):
            want = tflm_pool(x[s], o, case.outputs[0].shape, average=(op == "avg_pool2d"))
            assert np.array_equal(got[s], want), f"case {i} {case.attrs}: python kernel != naive TFLM"


def tflite_pool_case(rng: np.random.Generator, code: str):
    """A random single-op .tflite (SAME or VALID padding) and the matching input shape."""
    from tflite_builder import TfOp, TfTensor, build

    h, w = (int(v) for v in rng.integers(1, 13, size=2))
    fh, fw = (int(v) for v in rng.integers(1, 5, size=2))
    sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
    same = bool(rng.integers(0, 2))
    if same:
        oh, ow = -(-h // sh), -(-w // sw)
    else:
        fh, fw = min(fh, h), min(fw, w)
        oh, ow = (h - fh) // sh + 1, (w - fw) // sw + 1
    n, c = int(rng.choice([1, 2])), int(rng.integers(1, 9))
    scale = float(rng.uniform(0.005, 0.5))
    zp = int(rng.choice([-128, 127, int(rng.integers(-128, 128))]))
    act = int(rng.choice([0, 1, 3, 2]))  # NONE, RELU, RELU6, RELU_N1_TO_1
    data = build([TfTensor("x", (n, h, w, c), "int8", scale, zp), TfTensor("y", (n, oh, ow, c), "int8", scale, zp)],
                 [TfOp(code, [0], [1], "Pool2DOptions",
                       {"Padding": 0 if same else 1, "StrideW": sw, "StrideH": sh, "FilterWidth": fw,
                        "FilterHeight": fh, "FusedActivationFunction": act})], [0], [1])
    return data, (n, h, w, c)


def check_against_tflm(code: str, seed: int, count: int) -> dict:
    from harness import random_inputs
    from edgenn.converter.tflite_import import convert_tflite_bytes

    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        data, shape = tflite_pool_case(rng, code)
        cases.append((data, random_inputs(convert_tflite_bytes(data, f"t{i}"), 4, rng)))
    judge_tflite(cases, code)
    return {"cases": count}
