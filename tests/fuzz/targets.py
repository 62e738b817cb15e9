"""Fuzz targets: the readers of untrusted files, each given arbitrary bytes.

A target returns normally when the input is handled: parsed, or refused with an EdgennError (the
one-line user errors). Any other exception, a hang or an unbounded allocation is a bug the fuzzer
reports. A .enn file that parses is also loaded by the interpreter (plan check, decoded weights)
and, when its arena is small, run once: a file the reader accepts must be safe to run.
"""
from __future__ import annotations


import numpy as np

from edgenn.errors import EdgennError

MAX_RUN_ARENA = 1 << 20  # run accepted .enn models whose arena is at most this (bounded time per input)


def enn(data: bytes) -> None:
    from edgenn.format.enn import from_bytes
    from edgenn.runtime_py.interpreter import Interpreter

    try:
        model = from_bytes(data, "<fuzz>")
        it = Interpreter(model)
        if model.arena_bytes <= MAX_RUN_ARENA:
            xs = [np.zeros((1,) + tuple(t.shape), t.dtype) for t in it.input_tensors]
            it.invoke(*xs)
    except EdgennError:
        pass


def tflite(data: bytes) -> None:
    from edgenn.converter.tflite_import import convert_tflite_bytes

    try:
        convert_tflite_bytes(data, "fuzz", "<fuzz>")
    except EdgennError:
        pass


def onnx_model(data: bytes) -> None:
    import tempfile
    from pathlib import Path

    from edgenn.converter.onnx_import import import_onnx

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "m.onnx"
        p.write_bytes(data)
        try:
            import_onnx(p)
        except EdgennError:
            pass


def npy(data: bytes) -> None:
    from edgenn.runtime_py.dataio import read_npy

    try:
        read_npy(data, "fuzz data", "<fuzz>")
    except EdgennError:
        pass


TARGETS = {"enn": enn, "tflite": tflite, "onnx": onnx_model, "npy": npy}
