"""Activation ranges from the user's calibration data, with onnxruntime as the float reference."""
from __future__ import annotations

import sys

import numpy as np
import onnx

from edgenn.converter.graph import Graph
from edgenn.errors import DataError
from edgenn.runtime_py.dataio import source_batches

Range = tuple[float, float]


def ort_session(model: onnx.ModelProto, extra_outputs: list[str] = ()):
    import onnxruntime as ort

    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for name in extra_outputs:
        if name not in have:
            m.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
            have.add(name)
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def run_float(model: onnx.ModelProto, inputs: dict[str, np.ndarray], outputs: list[str] | None = None,
              progress: bool = False, desc: str = "float reference") -> dict[str, list[np.ndarray]]:
    """Run the ONNX model sample by sample (batch 1, as exported); returns per-output lists."""
    from tqdm import tqdm

    names = outputs or [o.name for o in model.graph.output]
    sess = ort_session(model, names)
    n = next(iter(inputs.values())).shape[0]
    res: dict[str, list[np.ndarray]] = {k: [] for k in names}
    for i in tqdm(range(n), desc=desc, disable=not progress or not sys.stderr.isatty(), unit="sample", leave=False):
        feed = {k: v[i].astype(np.float32) for k, v in inputs.items()}
        for k, v in zip(names, sess.run(names, feed)):
            res[k].append(v)
    return res


def calibrate(model: onnx.ModelProto, g: Graph, data: list[np.ndarray], progress: bool = True) -> dict[str, Range]:
    """Min/max of every ONNX value the quantized graph needs, over the calibration samples."""
    from tqdm import tqdm

    inputs = {}
    for io, arr in zip(g.inputs, data):
        inputs[io.source_name] = source_batches(arr, io.source_shape, "calibration data", io.source_name).astype(np.float32)
    needed = sorted({t.origin for t in g.tensors.values()
                     if t.origin and not t.is_const and "#" not in t.origin and t.origin not in inputs})
    sess = ort_session(model, needed)
    n = next(iter(inputs.values())).shape[0]
    lo = {k: np.inf for k in needed}
    hi = {k: -np.inf for k in needed}
    for k, v in inputs.items():
        lo[k], hi[k] = float(v.min()), float(v.max())
    show = progress and sys.stderr.isatty()
    for i in tqdm(range(n), desc="calibrating", disable=not show, unit="sample", leave=False):
        feed = {k: v[i] for k, v in inputs.items()}
        for k, v in zip(needed, sess.run(needed, feed)):
            if v.size:
                lo[k] = min(lo[k], float(np.min(v)))
                hi[k] = max(hi[k], float(np.max(v)))
    bad = [k for k in needed if not (np.isfinite(lo[k]) and np.isfinite(hi[k]))]
    if bad:
        raise DataError(f"the float model produces NaN or Inf at '{bad[0]}' on the calibration data")
    return {k: (lo[k], hi[k]) for k in lo}
