"""Float graph + activation ranges -> fully int8 graph (weights, biases, activation parameters).

Activation parameters follow each operator's rule (``TRAITS.output_quant``): calibrated ranges,
the input's parameters (pooling, reshape, ...), or fixed ones (softmax, logistic). Operators
whose TFLM kernel needs all inputs quantized like the output (``TRAITS.same_quant_inputs``) get
``quantize`` (requantize) operators inserted where they differ. Then each rule quantizes its
own constants; remaining float constants (e.g. an added per-channel constant) become
per-tensor int8.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.calibrate import Range
from edgenn.converter.graph import Graph, Op, QParams
from edgenn.converter.ops import rule
from edgenn.converter.quantize_util import MIN_ACTIVATION_SCALE, activation_qparams, asymmetric_from_range, quantize_array
from edgenn.errors import EdgennError, UnsupportedOpError, warn


def _derived_range(op: Op, g: Graph, ranges: dict[str, Range], by_name: bool = False) -> Range | None:
    """Interval bound for a tensor that exists only in the IR, from its producer's input (an
    unfolded BatchNorm's middle: x * a) or from its consumer's output (a Gemm's product before
    a full-matrix bias: y - c)."""
    c_of = lambda o: g.tensors[o.inputs[1]].data.astype(np.float64)  # noqa: E731
    has_const = lambda o: len(o.inputs) == 2 and g.tensors[o.inputs[1]].data is not None  # noqa: E731
    r = _range_of(op.inputs[0], g, ranges, by_name) if op.inputs and op.inputs[0] else None
    if r is not None and has_const(op):
        c = c_of(op)
        if op.type == "mul":
            cand = np.concatenate([(r[0] * c).ravel(), (r[1] * c).ravel()])
            return float(cand.min()), float(cand.max())
        if op.type == "add":
            return r[0] + float(c.min()), r[1] + float(c.max())
    users = g.consumers(op.outputs[0])
    if len(users) == 1 and users[0].type == "add" and has_const(users[0]) and users[0].inputs[0] == op.outputs[0]:
        ry = _range_of(users[0].outputs[0], g, ranges, by_name)
        if ry is not None:
            c = c_of(users[0])
            return ry[0] - float(c.max()), ry[1] - float(c.min())
    return None


def _range_of(name: str, g: Graph, ranges: dict[str, Range], by_name: bool = False) -> Range | None:
    if by_name:
        return ranges.get(name)
    t = g.tensors[name]
    if t.origin and t.origin in ranges:
        return ranges[t.origin]
    return None


def quantize(g: Graph, ranges: dict[str, Range], by_name: bool = False) -> Graph:
    """Quantize ``g`` in place. ``ranges`` are keyed by source-model value (``Tensor.origin``), or
    with ``by_name`` by internal tensor name (``calibrate.calibrate_graph``)."""
    clamped: list[tuple[str, Range]] = []
    for io in g.inputs:
        t = g.tensors[io.tensor]
        if t.dtype != "float32":
            continue  # integer inputs (token ids) are not quantized
        r = _range_of(t.name, g, ranges, by_name)
        if r is None:
            raise EdgennError(f"internal: no calibration range for input {t.name!r}")
        t.quant = _calibrated(r, f"input '{io.source_name}'", clamped)
    for op in list(g.ops):
        r = rule(op.type)
        policy = r.TRAITS.output_quant
        for out in op.outputs:
            t = g.tensors[out]
            if policy == "same_as_input":
                src_t = g.tensors[op.inputs[0]]
                if src_t.data is not None and src_t.dtype == "float32":
                    # a constant moved by bytes (an embedding table): per tensor over its own range
                    q = asymmetric_from_range(float(src_t.data.min()), float(src_t.data.max()))
                    src_t.data, src_t.dtype, src_t.quant = quantize_array(src_t.data, q), "int8", q
                if g.tensors[op.inputs[0]].dtype not in ("float32", "int8"):
                    raise UnsupportedOpError(f"{op.type} '{op.name}': input {op.inputs[0]!r} is "
                                             f"{g.tensors[op.inputs[0]].dtype}; this operator moves quantized "
                                             "values only")
                src = g.tensors[op.inputs[0]].quant
                t.quant = QParams(src.scale.copy(), src.zero_point.copy(), src.axis)
            elif policy == "fixed":
                t.quant = r.fixed_output_qparams(op, g)
            elif policy == "none":
                t.quant = None  # booleans or integers: the importer set the tensor's dtype
            else:
                r = _range_of(out, g, ranges, by_name) or _derived_range(op, g, ranges, by_name)
                if r is None:
                    raise EdgennError(f"internal: no calibration range for {out!r} ({op.type} {op.name!r})")
                t.quant = _calibrated(r, f"'{op.name}' ({op.type})", clamped)
    _warn_clamped(g, clamped)
    for op in list(g.ops):
        if rule(op.type).TRAITS.same_quant_inputs:
            _requantize_inputs(g, op)
    for op in g.ops:
        fn = getattr(rule(op.type), "quantize_constants", None)
        if fn is not None:
            fn(op, g)
        for name in op.inputs:
            t = g.tensors.get(name) if name else None
            if t is not None and t.data is not None and t.dtype == "float32":
                q = asymmetric_from_range(float(t.data.min()), float(t.data.max()))
                t.data, t.dtype, t.quant = quantize_array(t.data, q), "int8", q
    for t in g.tensors.values():
        if t.data is None and t.dtype == "float32":
            t.dtype = "int8"
    return g


def _calibrated(r: Range, what: str, clamped: list[tuple[str, Range]]) -> QParams:
    """An activation's parameters from its calibrated range; a (nearly) constant range gets the
    smallest scale the kernels support, and is listed in ``clamped``."""
    q, low = activation_qparams(*r)
    if low:
        clamped.append((what, r))
    return q


def _warn_clamped(g: Graph, clamped: list[tuple[str, Range]]) -> None:
    """One warning naming the layers whose scales were raised (the first few of many)."""
    if not clamped:
        return
    src = f"{g.source_file}: " if g.source_file else ""
    shown = ", ".join(f"{what} [{r[0]:.3g}, {r[1]:.3g}]" for what, r in clamped[:3])
    more = f" and {len(clamped) - 3} more" if len(clamped) > 3 else ""
    layers = "layer has" if len(clamped) == 1 else "layers have"
    warn(f"{src}{len(clamped)} {layers} a nearly constant range on the calibration data ({shown}{more}): "
         f"scale raised to {MIN_ACTIVATION_SCALE:.3g}, the smallest the int8 kernels support; calibrate with "
         "representative data (a trained model's activations rarely vary by less than 1e-5)")


def _requantize_inputs(g: Graph, op: Op) -> None:
    want = g.tensors[op.outputs[0]].quant
    for k, name in enumerate(op.inputs):
        t = g.tensors[name]
        if t.dtype not in ("float32", "int8"):
            continue  # a boolean condition or integer indices: not quantized
        if t.quant is not None and t.quant.same_as(want):
            continue
        if t.data is not None:
            # a constant: re-quantize the real values straight into the output parameters
            real = t.data.astype(np.float64) if t.dtype == "float32" else \
                (t.data.astype(np.float64) - t.quant.zp) * t.quant.s
            t2 = g.add_const(name + "_rq", quantize_array(real, want),
                             QParams(want.scale.copy(), want.zero_point.copy()))
            op.inputs[k] = t2.name
            continue
        rq = g.add_tensor(g.unique(name + "_rq"), t.shape, "int8", quant=QParams(want.scale.copy(), want.zero_point.copy()),
                          origin=t.origin)
        g.ops.insert(g.ops.index(op), Op("quantize", rq.name, [name], [rq.name]))
        op.inputs[k] = rq.name
