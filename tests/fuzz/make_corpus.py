#!/usr/bin/env python3
"""Rebuild tests/fuzz/corpus/: small real files of each kind the readers take (the fuzzers' seeds).

    python tests/fuzz/make_corpus.py
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT / "tests"))
    from edgenn.converter.pipeline import ConvertOptions, convert
    from edgenn.converter.tflite_import import convert_tflite_bytes
    from edgenn.format.enn import to_bytes

    corpus = HERE / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    for d in ("enn", "tflite", "onnx", "npy"):
        (corpus / d).mkdir(parents=True)
    small = ["relu_requant_int8.tflite", "seq_int8.tflite", "cnn_int8.tflite", "branches_int8.tflite"]
    for name in small:
        data = (ROOT / "tests" / "data" / "tflite" / name).read_bytes()
        (corpus / "tflite" / name).write_bytes(data)
        (corpus / "enn" / name.replace(".tflite", ".enn")).write_bytes(to_bytes(convert_tflite_bytes(data, "m")))
    calib = np.load(ROOT / "examples" / "digits" / "calib.npy")[:16]
    digits = convert(ROOT / "examples" / "digits" / "model.onnx", [calib], ConvertOptions(progress=False))
    (corpus / "enn" / "digits.enn").write_bytes(to_bytes(digits))
    compressed = convert(ROOT / "examples" / "digits" / "model.onnx", [calib],
                         ConvertOptions(progress=False, compress="huffman"))
    (corpus / "enn" / "digits_huffman.enn").write_bytes(to_bytes(compressed))
    shutil.copy(ROOT / "examples" / "digits" / "model.onnx", corpus / "onnx" / "digits.onnx")
    from onnx_models import ds_residual_cnn
    import onnx

    onnx.save(ds_residual_cnn(0, 13), corpus / "onnx" / "ds_residual.onnx")
    for name, arr in {"float32.npy": calib[:4], "int8.npy": np.arange(-8, 8, dtype=np.int8).reshape(2, 8),
                      "scalar.npy": np.float32(1.5), "labels.npy": np.arange(5)}.items():
        np.save(corpus / "npy" / name, arr)
    for d in sorted(corpus.iterdir()):
        print(f"{d.name}: {len(list(d.iterdir()))} files, {sum(f.stat().st_size for f in d.iterdir()):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
