"""Models and helpers shared by the board, profile and deploy tests.

The digits example (examples/digits) is converted as `edgenn convert examples/digits/model.onnx
--calib examples/digits/calib.npy` does; the MLPerf Tiny models come from tests/data/mlperf_tiny
(Apache-2.0, see its LICENSE.md). Each is converted once per test process.
"""
from __future__ import annotations

import math
import os
import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples" / "digits"
MLPERF = Path(__file__).resolve().parent / "data" / "mlperf_tiny"
MLPERF_MODELS = {"kws": "kws_ref_model.tflite", "vww": "vww_96_int8.tflite", "ic": "pretrainedResnet_quant.tflite",
                 "ad": "ad01_int8.tflite"}


def require(*tools: str) -> None:
    """Skip when a tool is missing, except in CI (CI=true), where a missing tool is a failure."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        msg = f"not installed: {', '.join(missing)} (run `make setup`)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


def require_board(board) -> None:
    """The board's compiler and emulator (make setup installs them)."""
    tools = [board.cc, "make"]
    kind = board.emulator.get("kind", "")
    if kind and kind != "native":
        tools.append(kind)
    require(*tools)


@lru_cache(maxsize=None)
def digits_model():
    from edgenn.converter.pipeline import ConvertOptions, convert

    calib = np.load(DIGITS / "calib.npy")
    return convert(str(DIGITS / "model.onnx"), [calib], ConvertOptions(progress=False))


@lru_cache(maxsize=None)
def mlperf_model(key: str):
    from edgenn.converter.pipeline import ConvertOptions, convert

    path = MLPERF / MLPERF_MODELS[key]
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return convert(str(path), None, ConvertOptions(progress=False))


@lru_cache(maxsize=None)
def conv_model():
    """A one-operator conv2d model (op-test style), different from digits' convolutions: with digits,
    two libraries that share a kernel."""
    from harness import Case, T, build_model

    rng = np.random.default_rng(7)
    w = rng.integers(-127, 128, size=(12, 3, 3, 4)).astype(np.int8)
    ws = rng.uniform(0.002, 0.02, size=12).astype(np.float32)
    b = rng.integers(-3000, 3000, size=12).astype(np.int32)
    case = Case("conv2d", [T((1, 9, 7, 4), 0.05, 3), T(w.shape, ws, 0, w, axis=0), T((12,), 0.05 * ws, 0, b, "int32")],
                [T((1, 5, 4, 12), 0.2, -7)],
                {"stride": (2, 2), "dilation": (1, 1), "pads": (1, 1, 1, 1), "groups": 1, "act": (0.0, None)})
    return build_model(case, "conv")


def graph_model(name: str, tensors: dict, ops: list[tuple[str, list[str], list[str], dict]],
                inputs: list[str], outputs: list[str]):
    """A quantized graph lowered as the converter lowers it, round-tripped through bytes."""
    from edgenn.converter.graph import Graph, IOInfo
    from edgenn.converter.lower import to_enn
    from edgenn.format.enn import from_bytes, to_bytes

    g = Graph()
    for tn, t in tensors.items():
        g.add_tensor(tn, t.shape, t.dtype, t.data, t.qparams())
    g.inputs = [IOInfo(n, n, tensors[n].shape) for n in inputs]
    g.outputs = [IOInfo(n, n, tensors[n].shape) for n in outputs]
    for k, (op, ins, outs, attrs) in enumerate(ops):
        g.add_op(op, f"{op}{k}", ins, outs, **attrs)
    return from_bytes(to_bytes(to_enn(g, name, {"tool_version": "test", "source_format": "test"})))


def ram_model(h: int):
    """Synthetic: RAM grows by 4 bytes per row h (an arena filled by a pad, reduced again by a max
    pool over the height); flash stays small."""
    from harness import T

    tensors = {"x": T((1, 1, 1, 4), 0.05, 3), "padded": T((1, h, 1, 4), 0.05, 3), "y": T((1, 1, 1, 4), 0.05, 3)}
    ops = [("pad", ["x"], ["padded"], {"pads": [(0, 0), (h // 2, h - 1 - h // 2), (0, 0), (0, 0)]}),
           ("max_pool2d", ["padded"], ["y"], {"filter": (h, 1), "stride": (1, 1), "pads": (0, 0, 0, 0),
                                              "act": (None, None)})]
    return graph_model("ramfill", tensors, ops, ["x"], ["y"])


def flash_model(u: int, n: int):
    """Synthetic: flash grows by u * u (a fully connected layer's weights) and by n (an add's
    constant); RAM stays small."""
    from harness import T

    rng = np.random.default_rng(u * 7919 + n)
    w = rng.integers(-127, 128, size=(u, u)).astype(np.int8)
    ws = np.full(u, 0.004, np.float32)
    tensors = {
        "x": T((1, u), 0.02, 1), "w": T((u, u), ws, 0, w, axis=0),
        "b": T((u,), 0.02 * ws, 0, rng.integers(-5000, 5000, size=u).astype(np.int32), "int32"),
        "y": T((1, u), 0.02 * 0.004 * math.sqrt(u) * 40, -2),
        "x2": T((1, n), 0.05, 0), "c": T((n,), 0.05, 0, rng.integers(-128, 128, size=n).astype(np.int8)),
        "y2": T((1, n), 0.1, 0),
    }
    ops = [("fully_connected", ["x", "w", "b"], ["y"], {"act": (None, None)}),
           ("add", ["x2", "c"], ["y2"], {"act": (None, None)})]
    return graph_model("flashfill", tensors, ops, ["x", "x2"], ["y", "y2"])


def model(key: str):
    return digits_model() if key == "digits" else mlperf_model(key)


def digits_inputs(n: int | None = None) -> list[np.ndarray]:
    """The digits test images as int8 model inputs."""
    from edgenn.runtime_py import dataio

    x = np.load(DIGITS / "test_x.npy")
    return dataio.to_internal(digits_model(), [x[:n] if n else x])


def random_inputs(m, n: int, seed: int = 0) -> list[np.ndarray]:
    """n random int8 samples; the first all -128 and the second all 127 (when n >= 2)."""
    rng = np.random.default_rng(seed)
    xs = []
    for d in m.inputs:
        shape = (n,) + tuple(m.tensors[d.tensor].shape)
        x = rng.integers(-128, 128, size=shape, dtype=np.int16).astype(np.int8)
        if n >= 2:
            x[0] = -128
            x[1] = 127
        xs.append(x)
    return xs


def inputs_for(key: str, n: int) -> list[np.ndarray]:
    return digits_inputs(n) if key == "digits" else random_inputs(model(key), n)


def assert_same_bytes(what: str, want: list[np.ndarray], got: list[np.ndarray]) -> None:
    assert len(want) == len(got), what
    for k, (a, b) in enumerate(zip(want, got)):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{what} output {k}: {b.dtype} {b.shape} vs {a.dtype} {a.shape}"
        if a.tobytes() != b.tobytes():
            bad = np.argwhere(a != b)
            raise AssertionError(f"{what} output {k}: differs from runtime_py at {len(bad)} of {a.size} bytes, "
                                 f"first at {tuple(bad[0])}: python {a[tuple(bad[0])]} vs {b[tuple(bad[0])]}")
