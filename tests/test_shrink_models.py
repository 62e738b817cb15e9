"""Issue 6's acceptance on the digits and DS-CNN examples: structured pruning cuts MACs and flash,
lossless compression cuts the pruned model's flash without changing one output byte, and pruned,
clustered and compressed models are bit-exact on python, host C and the emulated Cortex-M4."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgenn.analysis import analyze
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.converter.shrink.transforms import parse_prune
from edgenn.emulation import backends as be
from edgenn.format import enn
from edgenn.runtime_py import dataio

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ("digits", "dscnn")
_cache: dict = {}


def model(example: str, prune: tuple[str, ...] = (), cluster: int | None = None, compress: str | None = None):
    key = (example, prune, cluster, compress)
    if key not in _cache:
        d = ROOT / "examples" / example
        _cache[key] = convert(d / "model.onnx", [np.load(d / "calib.npy")],
                              ConvertOptions(name=example, progress=False, prune=tuple(parse_prune(p) for p in prune),
                                             cluster=cluster, compress=compress))
    return _cache[key]


def flash(m) -> int:
    a = analyze(m)
    return a["weights_bytes"] + a["params_bytes"]


def accuracy(example: str, m) -> float:
    d = ROOT / "examples" / example
    x, y = np.load(d / "test_x.npy"), np.load(d / "test_y.npy")
    out = dataio.from_internal(m, be.run(m, dataio.to_internal(m, [x]), "python"), as_float=True)[0]
    return float(np.mean(out.reshape(len(y), -1).argmax(1) == y))


@pytest.mark.parametrize("example", EXAMPLES)
def test_structured_30_percent_cuts_macs_and_flash_by_a_quarter(example):
    base, pruned = model(example), model(example, ("structured:0.3",))
    a, b = analyze(base), analyze(pruned)
    assert b["macs"] <= 0.75 * a["macs"], (a["macs"], b["macs"])
    assert flash(pruned) <= 0.75 * flash(base), (flash(base), flash(pruned))
    assert b["arena_bytes"] <= a["arena_bytes"]
    # the accuracy change is small with least-squares recovery (reported by convert; bounded here)
    assert accuracy(example, pruned) >= accuracy(example, base) - 0.05


@pytest.mark.parametrize("example", EXAMPLES)
def test_lossless_compression_of_a_pruned_model(example):
    prune = ("unstructured:0.7",)
    plain, packed = model(example, prune), model(example, prune, compress="auto")
    assert analyze(packed)["weights_bytes"] <= 0.7 * analyze(plain)["weights_bytes"]
    assert accuracy(example, packed) >= accuracy(example, model(example)) - 0.02  # refitted: still accurate
    for t0, t1 in zip(plain.tensors, packed.tensors):
        if t0.is_const:
            np.testing.assert_array_equal(t0.data, t1.data)  # lossless: the same int8 weights
    d = ROOT / "examples" / example
    x = dataio.to_internal(plain, [np.load(d / "test_x.npy")])
    for a, b in zip(be.run(plain, x, "python"), be.run(packed, x, "python")):
        np.testing.assert_array_equal(a, b)


@pytest.mark.qemu
@pytest.mark.parametrize("example, prune, cluster, compress", [
    ("digits", ("structured:0.3",), None, None),
    ("digits", ("structured:0.3", "unstructured:0.5"), None, "auto"),
    ("dscnn", ("structured:0.3",), None, "huffman"),
    ("dscnn", (), 16, None),
])
def test_shrunk_models_bit_exact_on_all_backends(tmp_path, example, prune, cluster, compress):
    m = model(example, prune, cluster, compress)
    p = tmp_path / "m.enn"
    enn.save(m, p)
    m = enn.load(p)  # what the user runs: the file, decoded by the reader
    d = ROOT / "examples" / example
    x = dataio.to_internal(m, [np.load(d / "test_x.npy")[:48]])
    ref = be.run(m, x, "python")
    for backend in ("host", "qemu"):
        outs = be.run(m, x, backend, "mps2-an386" if backend == "qemu" else None)
        for a, b in zip(ref, outs):
            assert np.array_equal(a, b), (backend, int(np.count_nonzero(a != b)))
