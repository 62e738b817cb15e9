"""max_pool2d: int8 max pooling (TFLM reference_integer_ops::MaxPool).

Float attrs: ``filter`` (fh, fw), ``stride`` (sh, sw), ``pads`` (top, left, bottom, right),
``act`` (lo, hi) fused activation in real units. The output keeps the input's quantization.
Out-of-bounds window positions are excluded (never compared), as in TFLM; only the top/left pads
position the windows, the output height/width come from the output tensor.
This module also holds the geometry checks shared with avg_pool2d.
"""
from __future__ import annotations

from edgenn.converter.graph import Graph, Op
from edgenn.errors import EdgennError
from edgenn.runtime_py.fixedpoint import activation_range

OUTPUT_QUANT = "same_as_input"


def pool_options(op: Op, g: Graph) -> dict[str, int]:
    """The options shared by max_pool2d and avg_pool2d (TFLM PoolingPrepare)."""
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    if len(x.shape) != 4 or len(y.shape) != 4:
        raise EdgennError(f"{op.type} '{op.name}': only 4-D NHWC tensors are supported, got {x.shape} -> {y.shape}")
    if x.shape[0] != y.shape[0] or x.shape[3] != y.shape[3]:
        raise EdgennError(f"{op.type} '{op.name}': batch/channels differ between input {x.shape} and output {y.shape}")
    fh, fw = (int(v) for v in op.attrs["filter"])
    sh, sw = (int(v) for v in op.attrs.get("stride", (1, 1)))
    pt, pl, pb, pr = (int(v) for v in op.attrs.get("pads", (0, 0, 0, 0)))
    h, w, oh, ow = x.shape[1], x.shape[2], y.shape[1], y.shape[2]
    if min(fh, fw, sh, sw) < 1 or min(pt, pl, pb, pr) < 0:
        raise EdgennError(f"{op.type} '{op.name}': bad geometry filter {(fh, fw)} stride {(sh, sw)} "
                          f"pads {(pt, pl, pb, pr)}")
    # Every window must hold at least one input element (TFLM's AveragePool fails otherwise).
    if pt >= fh or pl >= fw or (oh - 1) * sh - pt >= h or (ow - 1) * sw - pl >= w:
        raise EdgennError(f"{op.type} '{op.name}': some pooling windows lie entirely in the padding "
                          f"(input {h}x{w}, output {oh}x{ow}, filter {(fh, fw)}, stride {(sh, sw)}, "
                          f"pads {(pt, pl, pb, pr)})")
    xq, yq = x.quant, y.quant
    if xq is None or yq is None or abs(xq.s - yq.s) > 1e-6 or xq.zp != yq.zp:
        raise EdgennError(f"{op.type} '{op.name}': input and output quantization must be equal "
                          f"(input {xq and (xq.s, xq.zp)}, output {yq and (yq.s, yq.zp)})")
    lo, hi = op.attrs.get("act", (None, None)) or (None, None)
    act_min, act_max = activation_range(lo, hi, yq.s, yq.zp)
    return {"filter_h": fh, "filter_w": fw, "stride_h": sh, "stride_w": sw, "pad_top": pt, "pad_left": pl,
            "pad_bottom": pb, "pad_right": pr, "act_min": act_min, "act_max": act_max}


def prepare(op: Op, g: Graph) -> None:
    op.options = pool_options(op, g)
