"""Activation ranges from the user's calibration data, with onnxruntime as the float reference."""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from typing import Callable, Iterable

import numpy as np
import onnx

from edgenn.converter.graph import Graph
from edgenn.errors import DataError, ModelFormatError
from edgenn.progress import Step, step
from edgenn.runtime_py.dataio import check_dtype, source_batches

Range = tuple[float, float]


_ORT_ERRORS = "onnxruntime.capi.onnxruntime_pybind11_state"  # the module of onnxruntime's exceptions


@contextmanager
def _ort_failures():
    """onnxruntime's refusal of a model (type errors its checker let pass, impossible shapes) as one
    ModelFormatError line instead of onnxruntime's own exception."""
    try:
        yield
    except Exception as e:
        if type(e).__module__ != _ORT_ERRORS:
            raise
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise ModelFormatError(f"onnxruntime cannot run the float model (edgenn calibrates with it): "
                               f"{first[:300]}") from None


class OrtSession:
    """An onnxruntime session whose failures are ModelFormatError, not onnxruntime's exceptions."""

    def __init__(self, session) -> None:
        self.session = session

    def run(self, names: list[str] | None, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        with _ort_failures():
            return self.session.run(names, feed)


def ort_session(model: onnx.ModelProto, extra_outputs: list[str] = ()) -> OrtSession:
    """A single-threaded, unoptimized onnxruntime session of ``model`` with ``extra_outputs`` as outputs."""
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
    opts.log_severity_level = 4  # failures become ModelFormatError: no log lines of its own
    with _ort_failures():
        return OrtSession(ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"]))


def input_dtypes(model: onnx.ModelProto) -> dict[str, np.dtype]:
    """numpy dtype of every input of the ONNX model (float32, or the integer type of token ids)."""
    return {vi.name: np.dtype(onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type))
            for vi in model.graph.input if vi.type.tensor_type.elem_type}


def check_calibration_files(path: str, arrays: list[np.ndarray], files: list[str]) -> None:
    """Refuse calibration data of the wrong dtype before the model is imported, naming each file:
    real values for a float input, integers (or floats) for an integer index input, as
    ``calibrate`` requires (``dataio.check_dtype``). A model onnx cannot read is left to the import."""
    from edgenn.converter.onnx_import import INTEGER_INPUTS

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:  # damaged: the import reports it in its own words
        return
    inits = {i.name for i in model.graph.initializer}
    inputs = [vi for vi in model.graph.input if vi.name not in inits]
    for vi, a, f in zip(inputs, arrays, files):
        integer = vi.type.tensor_type.elem_type in INTEGER_INPUTS
        check_dtype(a, f"calibration data {f}", "int32" if integer else None)


def run_float(model: onnx.ModelProto, inputs: dict[str, np.ndarray], outputs: list[str] | None = None,
              progress: bool = False, desc: str = "float reference") -> dict[str, list[np.ndarray]]:
    """Run the ONNX model sample by sample (batch 1, as exported); returns per-output lists."""
    names = outputs or [o.name for o in model.graph.output]
    sess = ort_session(model, names)
    n = next(iter(inputs.values())).shape[0]
    res: dict[str, list[np.ndarray]] = {k: [] for k in names}
    dtypes = input_dtypes(model)
    with (step(desc, n, "samples") if progress else nullcontext(Step())) as st:
        for i in range(n):
            feed = {k: v[i].astype(dtypes.get(k, np.float32)) for k, v in inputs.items()}
            for k, v in zip(names, sess.run(names, feed)):
                res[k].append(v)
            st.advance()
    return res


METHODS = ("minmax", "percentile")
HIST_BINS = 2048


def check_method(method: str, percentile: float) -> None:
    """One-line errors for a bad calibration method or percentile."""
    if method not in METHODS:
        raise DataError(f"unknown calibration method {method!r}; choose from {', '.join(METHODS)}")
    if not 50.0 < percentile <= 100.0:
        raise DataError(f"the calibration percentile must be in (50, 100], got {percentile}")


Observer = Callable[[str, np.ndarray], None]


def tensor_ranges(names: Iterable[str], run_pass: Callable[[str, Observer], None], method: str,
                  percentile: float, what: str) -> dict[str, Range]:
    """Ranges of named tensors from passes over the calibration data.

    ``run_pass(desc, observe)`` runs once over all samples and calls ``observe(name, values)`` for
    each chunk of values of each tensor. ``minmax`` needs one pass (the extremes); ``percentile``
    a second one that fills a histogram per tensor between its extremes, then clips each tail
    at ``percentile`` so that a few outliers do not waste the int8 resolution of everything else.
    ``what`` names the producer of the values in the NaN/Inf error.
    """
    names = list(names)
    lo = {k: np.inf for k in names}
    hi = {k: -np.inf for k in names}
    bad: list[str] = []

    def extremes(k: str, v: np.ndarray) -> None:
        if k not in lo or not v.size:
            return
        mn, mx = float(np.min(v)), float(np.max(v))
        if not (np.isfinite(mn) and np.isfinite(mx)):
            bad.append(k)  # Python's min() would silently skip a NaN
            return
        lo[k], hi[k] = min(lo[k], mn), max(hi[k], mx)

    run_pass("calibrating", extremes)
    bad += [k for k in names if not (np.isfinite(lo[k]) and np.isfinite(hi[k]))]
    if bad:
        raise DataError(f"{what} produces NaN or Inf at '{bad[0]}' on the calibration data")
    ranges = {k: (lo[k], hi[k]) for k in names}
    if method == "minmax" or percentile >= 100.0:
        return ranges
    hists = {k: np.zeros(HIST_BINS, np.int64) for k in names}

    def fill(k: str, v: np.ndarray) -> None:
        if k in hists:
            hists[k] += _histogram(v, ranges[k])

    run_pass("calibrating (percentiles)", fill)
    return {k: clip_range(hists[k], ranges[k], percentile) for k in names}


def calibrate(model: onnx.ModelProto, g: Graph, data: list[np.ndarray], progress: bool = True,
              method: str = "minmax", percentile: float = 99.99) -> dict[str, Range]:
    """Range of every ONNX value the quantized graph needs, over the calibration samples
    (onnxruntime on the source model; keyed by ONNX name, see ``Tensor.origin``)."""
    check_method(method, percentile)
    inputs = {}
    dtypes = input_dtypes(model)
    for io, arr in zip(g.inputs, data):
        inputs[io.source_name] = source_batches(arr, io.source_shape, "calibration data", io.source_name,
                                                g.tensors[io.tensor].dtype).astype(dtypes.get(io.source_name, np.float32))
    # Only float values have ranges (booleans and integer indices are not quantized).
    needed = sorted({t.origin for t in g.tensors.values()
                     if t.origin and not t.is_const and t.dtype == "float32" and "#" not in t.origin
                     and t.origin not in inputs})
    sess = ort_session(model, needed)
    n = next(iter(inputs.values())).shape[0]

    def run_pass(desc: str, observe: Observer) -> None:
        for k, v in inputs.items():
            observe(k, v)
        with (step(desc, n, "samples") if progress else nullcontext(Step())) as st:
            for i in range(n):
                feed = {k: v[i] for k, v in inputs.items()}
                for k, v in zip(needed, sess.run(needed, feed)):
                    observe(k, v)
                st.advance()

    ranges = tensor_ranges(list(inputs) + needed, run_pass, method, percentile, "the float model")
    ranges.update(_ir_only_ranges(g, data, progress, method, percentile))
    return ranges


def _ir_only_ranges(g: Graph, data: list[np.ndarray], progress: bool, method: str,
                    percentile: float) -> dict[str, Range]:
    """Ranges of the tensors that exist only in the IR (the steps of a composite ONNX operator such as
    LayerNormalization, origin "<value>#ir:<step>"), by executing the float graph; keyed by origin."""
    from edgenn.converter.float_exec import graph_feeds, run_graph
    from edgenn.converter.onnx_patterns import IR_ORIGIN

    by_name = {t.name: t.origin for t in g.tensors.values()
               if t.origin and IR_ORIGIN in t.origin and not t.is_const and t.dtype == "float32"}
    if not by_name:
        return {}
    feeds = graph_feeds(g, data, "calibration data")

    def run_pass(desc: str, observe: Observer) -> None:
        run_graph(g, feeds, wanted=[], observe=lambda k, v: observe(k, v) if k in by_name else None,
                  progress=desc if progress else None)

    return {by_name[k]: r for k, r in tensor_ranges(list(by_name), run_pass, method, percentile,
                                                    "the float graph").items()}


def calibrate_graph(g: Graph, data: list[np.ndarray], progress: bool = True, method: str = "minmax",
                    percentile: float = 99.99) -> dict[str, Range]:
    """Range of every non-constant tensor of the float graph ``g`` itself (inputs included), keyed
    by internal tensor name: for graphs that no longer equal their source model (pruned,
    compressed). Same methods as ``calibrate``; quantize with ``quantize(g, ranges, by_name=True)``."""
    from edgenn.converter.float_exec import graph_feeds, run_graph

    check_method(method, percentile)
    feeds = graph_feeds(g, data, "calibration data")
    names = list(dict.fromkeys(g.input_names + [t for op in g.ops for t in op.outputs
                                                if t and not g.tensors[t].is_const and g.tensors[t].dtype == "float32"]))

    def run_pass(desc: str, observe: Observer) -> None:
        run_graph(g, feeds, wanted=[], observe=observe, progress=desc if progress else None)

    return tensor_ranges(names, run_pass, method, percentile, "the float graph")


def _histogram(v: np.ndarray, r: Range) -> np.ndarray:
    lo, hi = r
    if hi <= lo:
        h = np.zeros(HIST_BINS, np.int64)
        h[0] = v.size
        return h
    return np.histogram(v, bins=HIST_BINS, range=(lo, hi))[0].astype(np.int64)


def clip_range(hist: np.ndarray, r: Range, percentile: float) -> Range:
    """The range keeping ``percentile`` % of the values on each side (bin edges, never beyond the extremes)."""
    lo, hi = r
    total = int(hist.sum())
    if total == 0 or hi <= lo:
        return r
    tail = total * (100.0 - percentile) / 100.0
    cum = np.cumsum(hist)
    edges = np.linspace(lo, hi, HIST_BINS + 1)
    first = int(np.searchsorted(cum, tail, side="right"))  # bins fully below the lower tail
    last = int(np.searchsorted(cum, total - tail, side="left"))
    new_lo = float(edges[min(first, HIST_BINS - 1)]) if lo < 0 else lo
    new_hi = float(edges[min(last + 1, HIST_BINS)]) if hi > 0 else hi
    # ReLU outputs and other one-signed tensors keep their exact zero end.
    return (min(new_lo, 0.0) if lo < 0 else lo, max(new_hi, 0.0) if hi > 0 else hi)
