"""TFLite operators that edgenn imports as compositions of its own byte-moving operators (reshape,
transpose, slice, concat): DEPTH_TO_SPACE, SPACE_TO_DEPTH, BATCH_TO_SPACE_ND, SPACE_TO_BATCH_ND and
PACK, each judged by TFLM itself (runtime_py == TFLM == host C, byte for byte) on random cases."""
from __future__ import annotations

import numpy as np
import pytest

from common import judge_against_tflm, rand_scale, rand_zp
from harness import Case, T


def _tflite(case: Case, code: str) -> bytes:
    from tflite_builder import TfOp, TfTensor, build

    a = case.attrs
    ins = [TfTensor(f"x{i}", t.shape, "int8", t.scale, t.zero_point) for i, t in enumerate(case.inputs)]
    y = case.outputs[0]
    n = len(ins)
    tensors = ins + [TfTensor("y", y.shape, "int8", y.scale, y.zero_point)]
    if code in ("DEPTH_TO_SPACE", "SPACE_TO_DEPTH"):
        opts = "DepthToSpaceOptions" if code == "DEPTH_TO_SPACE" else "SpaceToDepthOptions"
        return build(tensors, [TfOp(code, [0], [1], opts, {"BlockSize": a["block"]})], [0], [1])
    if code == "PACK":
        return build(tensors, [TfOp("PACK", list(range(n)), [n], "PackOptions", {"ValuesCount": n, "Axis": a["axis"]})],
                     list(range(n)), [n])
    block = np.asarray(a["block"], np.int32)
    pads = np.asarray(a["pads"], np.int32).reshape(-1, 2)
    tensors += [TfTensor("block", block.shape, "int32", data=block), TfTensor("pads", pads.shape, "int32", data=pads)]
    opts = "SpaceToBatchNDOptions" if code == "SPACE_TO_BATCH_ND" else "BatchToSpaceNDOptions"
    return build(tensors, [TfOp(code, [0, 2, 3], [1], opts)], [0], [1])


def _q(rng):
    return rand_scale(rng), rand_zp(rng)


def test_depth_to_space_matches_tflm():
    rng = np.random.default_rng(101)
    cases = []
    for _ in range(25):
        b = int(rng.integers(1, 4))
        n, h, w, c = 1, int(rng.integers(1, 5)), int(rng.integers(1, 5)), b * b * int(rng.integers(1, 4))
        s, zp = _q(rng)
        cases.append(Case("transpose", [T((n, h, w, c), s, zp)], [T((n, h * b, w * b, c // (b * b)), s, zp)], {"block": b}))
    assert judge_against_tflm(cases, "DEPTH_TO_SPACE", _tflite) == 25


def test_space_to_depth_matches_tflm():
    rng = np.random.default_rng(102)
    cases = []
    for _ in range(25):
        b = int(rng.integers(1, 4))
        n, h, w, c = int(rng.integers(1, 3)), b * int(rng.integers(1, 4)), b * int(rng.integers(1, 4)), int(rng.integers(1, 4))
        s, zp = _q(rng)
        cases.append(Case("transpose", [T((n, h, w, c), s, zp)], [T((n, h // b, w // b, c * b * b), s, zp)], {"block": b}))
    assert judge_against_tflm(cases, "SPACE_TO_DEPTH", _tflite) == 25


def test_space_to_batch_nd_matches_tflm():
    rng = np.random.default_rng(103)
    cases = []
    for _ in range(25):
        bh, bw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        n, oh, ow, c = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        s, zp = _q(rng)
        if rng.random() < 0.3:  # 3-D: (N, H, C), one block size
            cases.append(Case("transpose", [T((n, oh * bh, c), s, zp)], [T((n * bh, oh, c), s, zp)],
                              {"block": [bh], "pads": [0, 0]}))
        else:
            cases.append(Case("transpose", [T((n, oh * bh, ow * bw, c), s, zp)], [T((n * bh * bw, oh, ow, c), s, zp)],
                              {"block": [bh, bw], "pads": [0, 0, 0, 0]}))
    assert judge_against_tflm(cases, "SPACE_TO_BATCH_ND", _tflite) == 25


def test_batch_to_space_nd_matches_tflm():
    rng = np.random.default_rng(104)
    cases = []
    for _ in range(25):
        bh, bw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        n, h, w, c = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        ct, cb = int(rng.integers(0, bh)), int(rng.integers(0, bh))
        cl, cr = int(rng.integers(0, bw)), int(rng.integers(0, bw))
        if h * bh - ct - cb < 1 or w * bw - cl - cr < 1:
            ct = cb = cl = cr = 0
        s, zp = _q(rng)
        cases.append(Case("transpose", [T((n * bh * bw, h, w, c), s, zp)],
                          [T((n, h * bh - ct - cb, w * bw - cl - cr, c), s, zp)],
                          {"block": [bh, bw], "pads": [ct, cb, cl, cr]}))
    assert judge_against_tflm(cases, "BATCH_TO_SPACE_ND", _tflite) == 25


def test_space_to_batch_nd_with_padding_is_refused():
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.errors import UnsupportedOpError

    c = Case("transpose", [T((1, 3, 4, 2), 0.1, 0)], [T((4, 2, 2, 2), 0.1, 0)], {"block": [2, 2], "pads": [0, 1, 0, 0]})
    with pytest.raises(UnsupportedOpError, match="uninitialized"):
        convert_tflite_bytes(_tflite(c, "SPACE_TO_BATCH_ND"), "s2b")


def test_pack_matches_tflm():
    rng = np.random.default_rng(105)
    cases = []
    for _ in range(25):
        shape = tuple(int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 4))))
        k = int(rng.integers(1, 4))
        axis = int(rng.integers(0, len(shape) + 1))
        s, zp = _q(rng)
        out = shape[:axis] + (k,) + shape[axis:]
        # TFLM copies bytes: inputs may carry other parameters than the output
        ins = [T(shape, *(_q(rng) if rng.random() < 0.3 else (s, zp))) for _ in range(k)]
        cases.append(Case("concat", ins, [T(out, s, zp)], {"axis": axis - len(out) if rng.integers(0, 2) else axis}))
    assert judge_against_tflm(cases, "PACK", _tflite) == 25
