"""transpose: permutation of the axes of an int8 tensor (TFLM Transpose), rank 1..6.

Float attrs: ``perm`` (output axis d is input axis perm[d]; default: reverse the axes).
"""
from __future__ import annotations

import numpy as np

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops import RuleTraits
from edgenn.converter.ops.common import depth_to_space_steps, emit_chain, space_to_depth_steps
from edgenn.errors import EdgennError, ModelFormatError, UnsupportedOpError

TRAITS = RuleTraits(output_quant="same_as_input", weight_axis=None, fused_activation=False, same_quant_inputs=False,
                    channels="elementwise")
MAX_RANK = 6


def prepare(op: Op, g: Graph) -> None:
    x, y = g.tensors[op.inputs[0]], g.tensors[op.outputs[0]]
    rank = len(x.shape)
    if not 1 <= rank <= MAX_RANK:
        raise UnsupportedOpError(f"transpose '{op.name}': rank {rank} is not supported (1..{MAX_RANK})")
    perm = op.attrs.get("perm")
    perm = list(range(rank))[::-1] if perm is None else [int(p) for p in perm]
    perm = [p + rank if p < 0 else p for p in perm]
    if sorted(perm) != list(range(rank)):
        raise EdgennError(f"transpose '{op.name}': perm {perm} is not a permutation of the {rank} axes")
    want = tuple(x.shape[p] for p in perm)
    if tuple(y.shape) != want:
        raise EdgennError(f"transpose '{op.name}': output shape {y.shape} should be {want} for perm {perm}")
    op.options = {"perm": np.asarray(perm, np.int32)}


def _perm(op: Op, rank: int) -> list[int]:
    perm = op.attrs.get("perm")
    return list(range(rank))[::-1] if perm is None else [int(p) + rank if int(p) < 0 else int(p) for p in perm]


def keeps_channels(op: Op, g: Graph) -> bool:
    """Channels pass through when the last axis stays last."""
    rank = len(g.tensors[op.inputs[0]].shape)
    return rank > 0 and op.attrs.get("perm") is not None and _perm(op, rank)[-1] == rank - 1


def float_run(op: Op, g: Graph, xs: list, n: int) -> list[np.ndarray]:
    perm = _perm(op, xs[0].ndim - 1)
    return [np.transpose(xs[0], (0,) + tuple(1 + p for p in perm))]


def _onnx_transpose(imp, node) -> None:
    """No data moves: the output is the input's stored data under another ONNX layout; image
    operators ask for the layout they need and passes cancel what is left."""
    shape = imp.shape(node.input[0])
    perm = tuple(int(p) for p in imp.attr(node, "perm", list(range(len(shape)))[::-1]))
    if sorted(perm) != list(range(len(shape))):
        raise ModelFormatError(f"{imp.where()}: perm {list(perm)} is not a permutation of the input's "
                               f"{len(shape)} axes")
    # output (onnx) = x_onnx.T(perm): x's stored data, re-labelled.
    have = imp.layout(node.input[0])
    imp.relabel(node.output[0], imp.values[node.input[0]].tensor, imp.compose(imp.perm_inverse(perm), have),
                tuple(shape[p] for p in perm))


def _tflite_transpose(imp, op) -> None:
    perm = imp.const(op.inputs[1])
    if perm is None:
        imp.fail(op, "the permutation must be constant")
    imp.unary(op, "transpose", perm=[int(v) for v in np.asarray(perm).reshape(-1)])


# ---------------------------------------------------------------------- block rearrangements
# DepthToSpace, SpaceToDepth, BatchToSpaceND and SpaceToBatchND only move bytes: each is imported as
# reshape (no copy), one transpose of rank 6 and reshape (and a slice for BatchToSpaceND's crops),
# which is exactly TFLM's element order.

def _onnx_depth_space(imp, node) -> None:
    """DepthToSpace (modes DCR and CRD) and SpaceToDepth on NCHW images, computed in NHWC."""
    b = int(imp.attr(node, "blocksize"))
    shape = imp.shape(node.input[0])
    if len(shape) != 4 or b < 1:
        imp.fail(f"needs a 4-D input and a positive blocksize (got {list(shape)}, {b})")
    x = imp.get(node.input[0], imp.NHWC)
    nhwc = imp.g.tensors[x].shape
    if node.op_type == "DepthToSpace":
        mode = imp.attr_str(node, "mode", "DCR")
        if mode not in ("DCR", "CRD") or nhwc[3] % (b * b):
            imp.fail(f"mode {mode} with blocksize {b} does not fit {shape[1]} channels")
        steps = depth_to_space_steps(nhwc, b, crd=mode == "CRD")
    else:
        if nhwc[1] % b or nhwc[2] % b:
            imp.fail(f"blocksize {b} does not divide the image {shape[2]}x{shape[3]}")
        steps = space_to_depth_steps(nhwc, b)
    y = imp.new_output(node.output[0], imp.NHWC)
    emit_chain(imp.g, x, steps, y)


def _tflite_depth_space(imp, op) -> None:
    """DEPTH_TO_SPACE and SPACE_TO_DEPTH (4-D NHWC, block_size option)."""
    shape = imp.shape(op.inputs[0])
    b = int(op.options.BlockSize()) if op.options is not None else 0
    if len(shape) != 4 or b < 1:
        imp.fail(op, f"needs a 4-D input and a positive block size (got {list(shape)}, {b})")
    steps = depth_to_space_steps(shape, b) if op.code == "DEPTH_TO_SPACE" else space_to_depth_steps(shape, b)
    emit_chain(imp.g, imp.tensor(op.inputs[0]).name, steps, imp.tensor(op.outputs[0]).name)


def _tflite_batch_space(imp, op) -> None:
    """SPACE_TO_BATCH_ND (without padding) and BATCH_TO_SPACE_ND (with crops), 3-D or 4-D, as TFLM's
    reference kernels order the batch: (block row, block column, batch)."""
    block, pads = imp.const(op.inputs[1]), imp.const(op.inputs[2])
    if block is None or pads is None:
        imp.fail(op, "the block shape and paddings / crops must be constant")
    shape = imp.shape(op.inputs[0])
    out = imp.shape(op.outputs[0])
    if len(shape) not in (3, 4):
        imp.fail(op, f"only 3-D and 4-D inputs are supported (TFLM's too), got {list(shape)}")
    bs = [int(v) for v in np.asarray(block).reshape(-1)]
    bh, bw = (bs[0], bs[1]) if len(shape) == 4 else (bs[0], 1)
    p = [int(v) for v in np.asarray(pads).reshape(-1)] + [0, 0]
    (top, bottom, left, right) = p[:4] if len(shape) == 4 else (p[0], p[1], 0, 0)
    n, h, w, c = shape if len(shape) == 4 else (shape[0], shape[1], 1, shape[2])
    if op.code == "SPACE_TO_BATCH_ND":
        if any((top, bottom, left, right)):
            imp.fail(op, "padding is not supported: TFLM's SPACE_TO_BATCH_ND fills it with an uninitialized value "
                         "(its Prepare never sets SpaceToBatchParams.output_offset)")
        if h % bh or w % bw:
            imp.fail(op, f"block {bh}x{bw} does not divide {h}x{w}")
        mid = (n, h // bh, bh, w // bw, bw, c)
        perm = (2, 4, 0, 1, 3, 5)
        steps = [("reshape", mid, {}), ("transpose", tuple(mid[q] for q in perm), {"perm": perm}),
                 ("reshape", out, {})]
    else:
        if n % (bh * bw):
            imp.fail(op, f"batch {n} is not a multiple of the block {bh}x{bw}")
        mid = (bh, bw, n // (bh * bw), h, w, c)
        perm = (2, 3, 0, 4, 1, 5)
        full = (n // (bh * bw), h * bh, w * bw, c)
        steps = [("reshape", mid, {}), ("transpose", tuple(mid[q] for q in perm), {"perm": perm}),
                 ("reshape", full, {})]
        if (top, left) != (0, 0) or full[1:3] != (out[1], out[2] if len(out) == 4 else 1):
            oh, ow = out[1], (out[2] if len(out) == 4 else 1)
            steps.append(("slice", (full[0], oh, ow, c), {"begin": [0, top, left, 0], "end": [full[0], top + oh, left + ow, c],
                                                         "strides": [1, 1, 1, 1]}))
        steps.append(("reshape", out, {}))
    emit_chain(imp.g, imp.tensor(op.inputs[0]).name, steps, imp.tensor(op.outputs[0]).name)


ONNX = {"Transpose": _onnx_transpose, "DepthToSpace": _onnx_depth_space, "SpaceToDepth": _onnx_depth_space}
TFLITE = {"TRANSPOSE": _tflite_transpose, "DEPTH_TO_SPACE": _tflite_depth_space, "SPACE_TO_DEPTH": _tflite_depth_space,
          "BATCH_TO_SPACE_ND": _tflite_batch_space, "SPACE_TO_BATCH_ND": _tflite_batch_space}
