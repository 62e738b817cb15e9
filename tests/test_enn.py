"""The .enn format: faithful round trip, clear errors on damaged files."""
from __future__ import annotations

import numpy as np
import pytest

from edgenn.errors import ModelFormatError
from edgenn.format import enn

from harness import Case, T, build_model


def _model():
    rng = np.random.default_rng(0)
    w = rng.integers(-127, 128, (7, 33)).astype(np.int8)
    case = Case("fully_connected", [T((1, 33), 0.02, -5), T((7, 33), rng.uniform(0.01, 0.02, 7), 0, w),
                                    T((7,), 0.0003, 0, rng.integers(-500, 500, 7).astype(np.int32), "int32")],
                [T((1, 7), 0.1, 3)], {"act": (0.0, None)})
    return build_model(case, "roundtrip")


def test_roundtrip_preserves_everything(tmp_path):
    m = _model()
    m.provenance = {"tool_version": "x", "source_format": "onnx", "source_file": "f.onnx", "source_sha256": "ab",
                    "options_json": "{}"}
    p = tmp_path / "m.enn"
    enn.save(m, p)
    m2 = enn.load(p)
    assert m2.name == m.name and m2.arena_bytes == m.arena_bytes and m2.provenance == m.provenance
    assert len(m2.tensors) == len(m.tensors)
    for a, b in zip(m.tensors, m2.tensors):
        assert (a.name, a.shape, a.dtype, a.arena_offset, a.quant_axis) == (b.name, b.shape, b.dtype, b.arena_offset, b.quant_axis)
        assert np.array_equal(a.scale, b.scale) and np.array_equal(a.zero_point, b.zero_point)
        assert (a.data is None) == (b.data is None)
        if a.data is not None:
            assert a.data.dtype == b.data.dtype and np.array_equal(a.data, b.data)
    for a, b in zip(m.ops, m2.ops):
        assert (a.type, a.name, a.inputs, a.outputs, a.macs) == (b.type, b.name, b.inputs, b.outputs, b.macs)
        assert a.options.keys() <= b.options.keys()
        for k, v in a.options.items():
            assert np.array_equal(np.asarray(v), np.asarray(b.options[k])), k
    assert enn.to_bytes(m2) == enn.to_bytes(m), "serialization must be deterministic"


def test_file_identifier_and_buffer_alignment(tmp_path):
    data = enn.to_bytes(_model())
    assert data[8:12] == b"ENN1"
    root = enn._Model.Model.GetRootAs(data, 4)
    for i in range(root.BuffersLength()):
        b = root.Buffers(i)
        start = b._tab.Vector(b._tab.Offset(4))
        assert start % enn.BUFFER_ALIGN == 0


@pytest.mark.parametrize("cut", [0, 3, 8, 16, 40, 100, 200, -100, -9, -1])
def test_truncated_file_is_a_clear_error(tmp_path, cut):
    data = enn.to_bytes(_model())
    p = tmp_path / "t.enn"
    p.write_bytes(data[:cut] if cut >= 0 else data[:len(data) + cut])
    with pytest.raises(ModelFormatError):
        enn.load(p)


def test_random_corruption_never_crashes(tmp_path):
    data = bytearray(enn.to_bytes(_model()))
    rng = np.random.default_rng(5)
    outcomes = {"ok": 0, "error": 0}
    for _ in range(300):
        d = bytearray(data)
        for pos in rng.integers(8, len(d), int(rng.integers(1, 6))):
            d[pos] = int(rng.integers(0, 256))
        try:
            enn.from_bytes(bytes(d))
            outcomes["ok"] += 1
        except ModelFormatError:
            outcomes["error"] += 1
    assert outcomes["error"] > 0


def test_other_files_are_rejected(tmp_path):
    p = tmp_path / "x.enn"
    p.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelFormatError, match="not an edgenn"):
        enn.load(p)
    with pytest.raises(ModelFormatError, match="no such file"):
        enn.load(tmp_path / "missing.enn")
    with pytest.raises(ModelFormatError, match="directory"):
        enn.load(tmp_path)


def test_save_is_atomic(tmp_path, monkeypatch):
    p = tmp_path / "m.enn"
    enn.save(_model(), p)
    before = p.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(enn, "to_bytes", boom)
    with pytest.raises(RuntimeError):
        enn.save(_model(), p)
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["m.enn"]
