"""examples/digits_gru: scikit-learn digits read row by row by a GRU and by an LSTM (torch, exported
to ONNX). Python == host C == Cortex-M4 == Cortex-M55 byte for byte, int8 accuracy within 1 point of
float; streamed one row per call (--stateful) == the whole sequence, byte for byte, on every backend."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.emulation import backends as be
from edgenn.runtime_py import dataio
from edgenn.runtime_py.interpreter import Interpreter
from edgenn.validate import validate

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "digits_gru"
MODELS = {"gru": "model.onnx", "lstm": "lstm.onnx"}
STREAM_SEQUENCES = 6


def _convert(kind: str, **opts):
    return convert(EXAMPLE / MODELS[kind], [np.load(EXAMPLE / "calib.npy")],
                   ConvertOptions(name=f"digits_{kind}", progress=False, **opts))


@pytest.fixture(scope="module", params=sorted(MODELS))
def pair(request):
    """(kind, whole-sequence model, streaming model: one row per call)."""
    kind = request.param
    return kind, _convert(kind), _convert(kind, stateful=True, input_shapes={"rows": (1, 1, 8)})


def test_structure(pair):
    kind, whole, stream = pair
    assert {"gru": "gru", "lstm": "lstm"}[kind] in {op.type for op in whole.ops}
    assert not whole.stateful and stream.stateful
    state = sum(t.nbytes for t in stream.state_tensors)
    assert state == 32 * (1 if kind == "gru" else 3)  # int8 hidden (+ int16 cell) of 32 units
    assert stream.arena_bytes < whole.arena_bytes


@pytest.mark.parametrize("backends", [["python", "host"], pytest.param(["qemu"], marks=pytest.mark.qemu)])
def test_bit_exact_and_accurate(pair, backends):
    kind, whole, _ = pair
    x, y = np.load(EXAMPLE / "test_x.npy"), np.load(EXAMPLE / "test_y.npy")
    for board in (["mps2-an386", "mps3-an547"] if backends == ["qemu"] else [None]):
        rep = validate(EXAMPLE / MODELS[kind], whole, [x], y, ["python"] + backends, board, progress=False)
        for name in backends:
            assert rep["backends"][name]["mismatched_bytes"] == 0, (name, board)
        acc = rep["backends"]["python"]["accuracy"]
        assert acc >= rep["float_accuracy"] - 0.01, (acc, rep["float_accuracy"])


def _stream_inputs(stream, x: np.ndarray) -> np.ndarray:
    """One sequence (1, 8, 8) as 8 calls of one row (1, 1, 8), quantized like the model's input."""
    return dataio.to_internal(stream, [x.reshape(8, 1, 1, 8)])[0]


@pytest.mark.parametrize("backend", ["python", "host", pytest.param("mps2-an386", marks=pytest.mark.qemu),
                                     pytest.param("mps3-an547", marks=pytest.mark.qemu)])
def test_streaming_equals_whole_sequence(pair, backend, tmp_path):
    kind, whole, stream = pair
    x = np.load(EXAMPLE / "test_x.npy")[:STREAM_SEQUENCES]
    want = Interpreter(whole).invoke(*dataio.to_internal(whole, [x]))[0]
    it = Interpreter(stream)
    built = None
    if backend != "python":
        board = be.get_board("host" if backend == "host" else backend)
        built = be.build(stream, board, tmp_path / "stream")
    for s in range(STREAM_SEQUENCES):
        rows = _stream_inputs(stream, x[s])
        if built is None:
            it.reset()
            got = it.invoke(rows)[0]
        else:
            got = be.run_built(built, stream, [rows])[0]  # the firmware resets once, then 8 calls
        assert np.array_equal(got[-1], want[s]), f"{kind} sequence {s}: the last call's output differs"
