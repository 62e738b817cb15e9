"""Layer-by-layer comparison of the Python reference with the source model, for chasing a mismatch.

For an int8 .tflite source the reference is TFLM with every tensor preserved: each layer's
output must match byte for byte, and the first layer that does not is named. For a float ONNX
source the reference is onnxruntime's float value of the same tensor: each layer reports the
cosine similarity and the largest error in output LSBs (quantization error, not a bug).
"""
from __future__ import annotations

import json

from pathlib import Path
from typing import Any

import numpy as np

from edgenn.runtime_py import dataio
from edgenn.format.enn import EnnModel
from edgenn.runtime_py.interpreter import Interpreter


def python_layers(model: EnnModel, x_int8: list[np.ndarray]) -> dict[int, np.ndarray]:
    """Every operator output tensor (index -> (N, *shape) int8) of the Python reference."""
    got: dict[int, list[np.ndarray]] = {}

    def observe(i: int, outs: list[np.ndarray]) -> None:
        for t, o in zip(model.ops[i].outputs, outs):
            got.setdefault(t, []).append(o)

    Interpreter(model).invoke(*x_int8, observe=observe)
    return {t: np.concatenate(v) for t, v in got.items()}


def _tflm_layers(path: Path, model: EnnModel, x_int8: list[np.ndarray], wanted: dict[int, str]) -> dict[int, np.ndarray]:
    from edgenn.converter.tflite_import import TfliteImporter
    from edgenn.emulation.tflm import interpreter

    data = path.read_bytes()
    imp = TfliteImporter(data, str(path))
    imp.run()
    by_name = {name: idx for idx, name in imp.names.items()}
    it = interpreter(data, preserve_all_tensors=True)
    n = x_int8[0].shape[0]
    res: dict[int, list[np.ndarray]] = {t: [] for t in wanted}
    in_t = [model.tensors[d.tensor] for d in model.inputs]
    for s in range(n):
        if model.state_tensors and not model.stateful:
            it.reset()  # converted stateless: every invoke starts from the initial state
        for k, (x, t) in enumerate(zip(x_int8, in_t)):
            dt = np.dtype(it.get_input_details(k)["dtype"])
            v = dataio.dequantize(x[s], t) if dt == np.float32 else x[s]
            it.set_input(v.reshape(tuple(it.get_input_details(k)["shape"])), k)
        it.invoke()
        for t, name in wanted.items():
            idx = by_name.get(name)
            if idx is None:
                continue
            arr = np.asarray(it.GetTensor(idx, 0)["tensor_data"])
            res[t].append(arr.reshape(model.tensors[t].shape))
    return {t: np.stack(v) for t, v in res.items() if v}


def conversion_shapes(model: EnnModel) -> tuple[dict[str, tuple[int, ...]], bool]:
    """The --input-shape values (and --stateful) ``model`` was converted with, from its provenance:
    the source graph imported again at the sizes the model has (a dynamic ONNX input needs them)."""
    try:
        opts = json.loads(model.provenance.get("options_json", "") or "{}")
        shapes = {str(k): tuple(int(d) for d in v) for k, v in (opts.get("input_shapes") or {}).items()}
    except (ValueError, TypeError, AttributeError):  # provenance of another tool version: no shapes
        return {}, False
    return shapes, bool(opts.get("stateful")) and bool(shapes)


def _onnx_layers(path: Path, model: EnnModel, data: list[np.ndarray], wanted: dict[int, str]) -> dict[int, np.ndarray]:
    """Float values of the ONNX tensors behind each layer output, in edgenn's internal layout."""
    import onnx

    from edgenn.converter.calibrate import run_float
    from edgenn.converter.onnx_import import import_onnx
    from edgenn.converter.passes import simplify
    from edgenn.validate import float_inputs

    g, m = import_onnx(path, *conversion_shapes(model))
    simplify(g)
    origins = {}
    for t, name in wanted.items():
        gt = g.tensors.get(name)
        if gt is not None and gt.origin and "#" not in gt.origin:
            origins[t] = (gt.origin, gt.origin_perm)
    xs = float_inputs(model, data)
    feeds = {d.source_name: x for d, x in zip(model.inputs, xs)}
    names = sorted({o for o, _ in origins.values()})
    res = run_float(onnx.load(str(path)), feeds, names)
    out = {}
    for t, (origin, perm) in origins.items():
        v = np.stack(res[origin])
        if perm:
            v = np.transpose(v, (0,) + tuple(1 + p for p in perm))
        out[t] = v.reshape((v.shape[0],) + tuple(model.tensors[t].shape))
    return out


def compare_layers(source: str | Path, model: EnnModel, data: list[np.ndarray], backends: list[str] = (),
                   board: str | None = None) -> dict[str, Any]:
    """Per layer: the Python reference vs the source model, and each C backend vs the Python reference."""
    from edgenn.converter.pipeline import detect_format
    from edgenn.emulation.backends import run_layers

    source = Path(source)
    x_int8 = dataio.to_internal(model, data)
    ours = python_layers(model, x_int8)
    c_layers = {b: run_layers(model, x_int8, b, board) for b in backends if b != "python"}
    first_backend: dict[str, int | None] = {b: None for b in c_layers}
    wanted = {t: model.tensors[t].name for t in ours}
    tflite = detect_format(source) == "tflite"
    ref = _tflm_layers(source, model, x_int8, wanted) if tflite else _onnx_layers(source, model, data, wanted)
    layers = []
    first = None
    for i, op in enumerate(model.ops):
        for t in op.outputs:
            et = model.tensors[t]
            row: dict[str, Any] = {"index": i, "op": op.type, "name": op.name, "tensor": et.name}
            r = ref.get(t)
            if r is None:
                row["compared"] = False
            elif tflite:
                diff = int(np.count_nonzero(ours[t] != r))
                row.update(compared=True, mismatched_bytes=diff,
                           max_abs_diff=int(np.max(np.abs(ours[t].astype(np.int32) - r.astype(np.int32)))) if diff else 0)
                if diff and first is None:
                    first = i
            else:
                deq = dataio.dequantize(ours[t], et)
                step = float(et.scale[0]) if dataio.is_quantized(et) else 1.0  # bool / int32: units
                err = np.abs(deq.astype(np.float64) - r.astype(np.float64)) / step
                a, b = deq.ravel().astype(np.float64), r.ravel().astype(np.float64)
                denom = np.linalg.norm(a) * np.linalg.norm(b)
                row.update(compared=True, cosine=float(a @ b / denom) if denom else float(np.allclose(a, b)),
                           max_err_lsb=float(err.max()), mean_err_lsb=float(err.mean()))
            for b, got in c_layers.items():
                diff = int(np.count_nonzero(got[t] != ours[t]))
                row[f"{b}_mismatched_bytes"] = diff
                if diff and first_backend[b] is None:
                    first_backend[b] = i
            layers.append(row)
    return {"reference": "tflm" if tflite else "onnxruntime", "samples": int(x_int8[0].shape[0]),
            "first_mismatch": first, "first_backend_mismatch": first_backend, "layers": layers}
