"""Determinism: converting the same model twice, in this process and in fresh interpreters under
other hash seeds (PYTHONHASHSEED: set and dict orders of strings change), gives a byte-identical
.enn file and byte-identical generated C, for a float ONNX model (calibrated) and an int8 .tflite."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TFLITE = ROOT / "tests" / "data" / "tflite" / "branches_int8.tflite"
# Convert, write the .enn and a host project; print one digest per file, sorted by path.
SCRIPT = r"""
import hashlib, sys
from pathlib import Path
import numpy as np
from edgenn.boards import get_board
from edgenn.codegen.generate import render_model
from edgenn.converter.pipeline import ConvertOptions, convert
from edgenn.converter.tflite_import import convert_tflite_bytes
from edgenn.format.enn import to_bytes

kind, src, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
if kind == "onnx":
    calib = np.load(src.parent / "calib.npy")[:64]
    m = convert(src, [calib], ConvertOptions(name="det", progress=False))
else:
    m = convert_tflite_bytes(src.read_bytes(), "det", src.name)
out.mkdir(parents=True, exist_ok=True)
(out / "det.enn").write_bytes(to_bytes(m))
render_model(m, out / "c", get_board("host"), command="edgenn generate det.enn --board host")
for p in sorted(out.rglob("*")):
    if p.is_file():
        print(p.relative_to(out).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
"""


def _digests(kind: str, src: Path, out: Path, seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    r = subprocess.run([sys.executable, "-c", SCRIPT, kind, str(src), str(out)], capture_output=True, text=True,
                       env=env, timeout=300, cwd=out.parent)
    assert r.returncode == 0, r.stderr[-3000:]
    return dict(line.split() for line in r.stdout.splitlines())


@pytest.mark.parametrize("kind,src", [("onnx", ROOT / "examples" / "digits" / "model.onnx"), ("tflite", TFLITE)],
                         ids=["onnx", "tflite"])
def test_conversion_and_codegen_are_byte_identical(kind, src, tmp_path):
    runs = {seed: _digests(kind, src, tmp_path / f"seed{seed}", seed) for seed in ("0", "1", "4242")}
    first = runs["0"]
    assert "det.enn" in first and any(k.endswith("det_weights.c") for k in first) and len(first) > 10
    for seed, got in runs.items():
        diff = sorted(k for k in set(first) | set(got) if first.get(k) != got.get(k))
        assert not diff, f"PYTHONHASHSEED={seed} changes {diff[:5]}"
    # Twice in one process (caches warm) too.
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.format.enn import to_bytes

    if kind == "tflite":
        data = src.read_bytes()
        a, b = (to_bytes(convert_tflite_bytes(data, "det", src.name)) for _ in range(2))
        assert a == b and hashlib.sha256(a).hexdigest() == first["det.enn"]
