"""mirror_pad: mirrored padding of an int8 tensor (TFLM MirrorPad REFLECT / SYMMETRIC; ONNX Pad
modes reflect and edge), rank 1..6.

Float attrs: ``pads`` = [(before, after) per axis] (non-negative), ``mode`` = "reflect" (the edge
element not repeated: pads at most extent - 1), "symmetric" (repeated: at most the extent) or
"edge" (the edge element repeated outwards, any pad). Every output element is an input element:
the kernel copies bytes, the output keeps the input's parameters.
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import byte_copy
from edgenn.errors import EdgennError
from edgenn.runtime_py.kernels.common import MIRROR_MODES, mirror_index, take_axes

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
MAX_RANK = 6


def geometry(op: Op, shape: tuple[int, ...]) -> tuple[list[tuple[int, int]], int]:
    """(pads per axis, mode number), checked against the input shape."""
    mode = op.attrs.get("mode", "reflect")
    if mode not in MIRROR_MODES:
        raise EdgennError(f"mirror_pad '{op.name}': mode {mode!r} is not one of {sorted(MIRROR_MODES)}")
    pads = [tuple(int(v) for v in p) for p in op.attrs.get("pads", [(0, 0)] * len(shape))]
    if len(pads) != len(shape) or any(len(p) != 2 for p in pads):
        raise EdgennError(f"mirror_pad '{op.name}': pads {pads} must hold one (before, after) pair per axis of {shape}")
    limit = {"reflect": -1, "symmetric": 0, "edge": None}[mode]
    for p, n in zip(pads, shape):
        if min(p) < 0 or (limit is not None and max(p) > n + limit):
            raise EdgennError(f"mirror_pad '{op.name}': pads {pads} do not fit the input {tuple(shape)} in {mode} mode "
                              f"(each pad at most the extent{' - 1' if limit else ''})")
    return pads, MIRROR_MODES[mode]


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    byte_copy(op, g, MAX_RANK)
    pads, mode = geometry(op, x.shape)
    want = tuple(n + a + b for n, (a, b) in zip(x.shape, pads))
    if tuple(y.shape) != want:
        raise EdgennError(f"mirror_pad '{op.name}': output shape {y.shape} should be {want} for pads {pads}")
    op.options = {"pads": np.asarray([v for p in pads for v in p], np.int32), "mode": mode}


def keeps_channels(op: Op, g: Graph) -> bool:
    """Channels pass through unless the last axis is padded."""
    pads = [tuple(int(v) for v in p) for p in op.attrs.get("pads", [])]
    return bool(pads) and pads[-1] == (0, 0)


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    shape = g.tensors[op.inputs[0]].shape
    pads, mode = geometry(op, shape)
    x = np.asarray(xs[0]).reshape((-1,) + tuple(shape))
    idx = [mirror_index(k + a + b, a, k, mode) for k, (a, b) in zip(shape, pads)]
    return [np.broadcast_to(take_axes(x, idx), (n,) + tuple(k + a + b for k, (a, b) in zip(shape, pads)))]


def _tflite_mirror_pad(imp, op) -> None:
    """MIRROR_PAD with constant paddings, mode REFLECT (0) or SYMMETRIC (1)."""
    p = imp.const(op.inputs[1])
    if p is None:
        imp.fail(op, "paddings must be constant")
    mode = int(op.options.Mode()) if op.options is not None else 0
    if mode not in (0, 1):
        imp.fail(op, f"mirror padding mode {mode} is unknown")
    pads = [tuple(int(v) for v in row) for row in np.asarray(p).reshape(-1, 2)]
    imp.unary(op, "mirror_pad", pads=pads, mode="reflect" if mode == 0 else "symmetric")


# ONNX Pad with mode reflect / edge comes through pad's handler (one rule claims each ONNX type).
ONNX: dict = {}
TFLITE = {"MIRROR_PAD": _tflite_mirror_pad}
