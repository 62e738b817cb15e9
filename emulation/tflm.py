"""TensorFlow Lite Micro (the `tflite-micro` package) as an external judge for .tflite models."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from edgenn.errors import EdgennError
from edgenn.runtime_py import dataio
from edgenn.format.enn import EnnModel
from edgenn.progress import track

ARENA_BYTES = 16 << 20


def interpreter(data: bytes, arena_size: int = ARENA_BYTES, preserve_all_tensors: bool = False):
    try:
        from tflite_micro import runtime
    except ImportError:
        raise EdgennError("the `tflite-micro` package is needed to compare with TFLM: pip install tflite-micro") from None
    cfg = runtime.InterpreterConfig.kPreserveAllTensors if preserve_all_tensors else \
        runtime.InterpreterConfig.kAllocationRecording
    return runtime.Interpreter.from_bytes(data, arena_size=arena_size, intrepreter_config=cfg)


def resets_each_sample(model: EnnModel) -> bool:
    """True when TFLM must be reset before each sample: a model with state converted stateless."""
    return bool(model.state_tensors) and not model.stateful


def tflm_samples(it, model: EnnModel, x_int8: list[np.ndarray]) -> list[list[np.ndarray]]:
    """The int8 inputs (each (N, *shape)) as TFLM interpreter ``it`` takes them, sample by sample:
    in its input tensors' shapes, dequantized where the .tflite has a float input."""
    in_t = [model.tensors[d.tensor] for d in model.inputs]
    res = []
    for s in range(x_int8[0].shape[0]):
        row = []
        for k, (x, t) in enumerate(zip(x_int8, in_t)):
            d = it.get_input_details(k)
            v = dataio.dequantize(x[s], t) if np.dtype(d["dtype"]) == np.float32 else x[s]
            row.append(np.ascontiguousarray(v.reshape(tuple(d["shape"]))))
        res.append(row)
    return res


def run_tflm_file(path: str | Path, model: EnnModel, x_int8: list[np.ndarray]) -> list[np.ndarray]:
    """Run TFLM on int8 inputs (internal layout = TFLite's NHWC); returns int8 outputs like runtime_py.

    TFLM keeps variable tensors (recurrent state) from one invoke to the next: the samples are one
    stream, as in a stateful edgenn model; for a model converted stateless TFLM is reset before each."""
    it = interpreter(Path(path).read_bytes())
    n = x_int8[0].shape[0]
    out_t = [model.tensors[d.tensor] for d in model.outputs]
    out_float = [np.dtype(it.get_output_details(k)["dtype"]) == np.float32 for k in range(len(out_t))]
    outs = [np.empty((n,) + tuple(t.shape), t.dtype) for t in out_t]
    samples = tflm_samples(it, model, x_int8)
    for s in track(range(n), "running TFLM (the reference)", unit="samples"):
        if resets_each_sample(model):
            it.reset()
        for k, v in enumerate(samples[s]):
            it.set_input(v, k)
        it.invoke()
        for k, t in enumerate(out_t):
            y = np.array(it.get_output(k))
            outs[k][s] = (dataio.quantize(y, t) if out_float[k] else y).reshape(t.shape)
    return outs
