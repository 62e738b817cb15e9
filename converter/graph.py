"""The converter's graph IR: tensors and operators in NHWC, float or quantized.

Operator types are the operator names (edgenn.format.operators). A float graph carries float
attributes (geometry and fused activation bounds); quantization adds the integer options that
go into the .enn file (``Op.options``) and replaces float constants with int8/int32 ones.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np


@dataclass
class QParams:
    """Quantization of a tensor: per-tensor (one scale) or per-channel along ``axis``."""

    scale: np.ndarray  # float32
    zero_point: np.ndarray  # int64
    axis: int = 0

    @staticmethod
    def per_tensor(scale: float, zero_point: int) -> "QParams":
        return QParams(np.asarray([scale], np.float32), np.asarray([zero_point], np.int64))

    @property
    def s(self) -> float:
        """The scale of a per-tensor quantized tensor (as float32 -> float, TFLite's precision)."""
        return float(self.scale[0])

    @property
    def zp(self) -> int:
        return int(self.zero_point[0])

    def same_as(self, other: "QParams | None") -> bool:
        return (other is not None and self.scale.shape == other.scale.shape
                and bool(np.all(self.scale == other.scale))
                and bool(np.all(self.zero_point == other.zero_point)))


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    data: np.ndarray | None = None  # constants
    quant: QParams | None = None
    origin: str | None = None  # source-model tensor holding the same values (calibration)
    origin_perm: tuple[int, ...] | None = None  # this = transpose(origin, perm)
    # A state tensor of a recurrent operator (LSTM hidden/cell state, SVDF memory): an activation its
    # operators read and write in place, live across the whole invoke (and between invokes of a
    # stateful model); ``initial`` is the value a reset writes (None: zeros).
    variable: bool = False
    initial: np.ndarray | None = None

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(math.prod(self.shape))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize


@dataclass(eq=False)  # an operator is itself: lists of ops are searched by identity, at C speed
class Op:
    type: str
    name: str
    inputs: list[str]  # "" for an absent optional input
    outputs: list[str]
    attrs: dict[str, Any] = field(default_factory=dict)  # float-level attributes
    options: dict[str, Any] = field(default_factory=dict)  # integer options for the .enn file


@dataclass
class IOInfo:
    """A graph input or output as the source model names and lays it out."""

    tensor: str
    source_name: str
    source_shape: tuple[int, ...]
    to_internal_perm: tuple[int, ...] = ()


class Graph:
    def __init__(self) -> None:
        self.tensors: dict[str, Tensor] = {}
        self.ops: list[Op] = []
        self.inputs: list[IOInfo] = []
        self.outputs: list[IOInfo] = []
        self.source_format = ""
        self.source_file = ""
        self.source_sha256 = ""
        self.transform_report: dict = {}  # what pruning / clustering did (converter/shrink/transforms.py)
        # tensor name -> (encoding, stream) chosen by converter/shrink/compress.py, stored by converter/lower.py
        self.weight_encodings: dict[str, tuple[str, bytes]] = {}
        # State tensors keep their values between invokes (streaming) instead of being reset each time.
        self.stateful = False
        self._counter = 0

    # -------------------------------------------------------------- construction helpers
    def unique(self, base: str) -> str:
        base = base or "t"
        name = base
        while name in self.tensors:
            self._counter += 1
            name = f"{base}_{self._counter}"
        return name

    def add_tensor(self, name: str, shape: Iterable[int], dtype: str = "float32", data: np.ndarray | None = None,
                   quant: QParams | None = None, origin: str | None = None,
                   origin_perm: tuple[int, ...] | None = None) -> Tensor:
        if name in self.tensors:
            raise ValueError(f"tensor {name!r} already exists")
        t = Tensor(name, tuple(int(s) for s in shape), dtype, data, quant, origin, origin_perm)
        self.tensors[name] = t
        return t

    def add_const(self, base: str, data: np.ndarray, quant: QParams | None = None) -> Tensor:
        data = np.asarray(data)
        return self.add_tensor(self.unique(base), data.shape, str(data.dtype), data, quant)

    def add_op(self, type: str, name: str, inputs: list[str], outputs: list[str], **attrs: Any) -> Op:
        op = Op(type, name, list(inputs), list(outputs), dict(attrs))
        self.ops.append(op)
        return op

    # -------------------------------------------------------------- queries
    @property
    def input_names(self) -> list[str]:
        return [io.tensor for io in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [io.tensor for io in self.outputs]

    def producer(self, tensor: str) -> Op | None:
        for op in self.ops:
            if tensor in op.outputs:
                return op
        return None

    def consumers(self, tensor: str) -> list[Op]:
        return [op for op in self.ops if tensor in op.inputs]

    def producers(self) -> dict[str, Op]:
        return {t: op for op in self.ops for t in op.outputs}

    def consumer_map(self) -> dict[str, list[Op]]:
        m: dict[str, list[Op]] = defaultdict(list)
        for op in self.ops:
            for t in op.inputs:
                if t:
                    m[t].append(op)
        return m

    def is_graph_output(self, tensor: str) -> bool:
        return tensor in self.output_names

    # -------------------------------------------------------------- rewriting
    def replace_uses(self, old: str, new: str) -> None:
        """Make every consumer (and graph output) of ``old`` read ``new`` instead."""
        for op in self.ops:
            op.inputs = [new if t == old else t for t in op.inputs]
        for io in self.outputs:
            if io.tensor == old:
                io.tensor = new

    def remove_op(self, op: Op) -> None:
        self.ops.remove(op)

    def prune(self) -> None:
        """Drop operators whose outputs nobody needs, then unreferenced tensors."""
        needed = set(self.output_names)
        kept: list[Op] = []
        for op in reversed(self.ops):
            if any(t in needed for t in op.outputs):
                kept.append(op)
                needed.update(t for t in op.inputs if t)
        self.ops = list(reversed(kept))
        used = set(self.input_names) | set(self.output_names)
        for op in self.ops:
            used.update(t for t in op.inputs + op.outputs if t)
        self.tensors = {k: v for k, v in self.tensors.items() if k in used}

    def toposort(self) -> None:
        """Order operators so that every input is produced before it is read (stable).

        The order is that of repeated sweeps over the remaining operators in their current
        order, each taking every operator whose inputs are available by then; computed with
        per-sweep heaps of ready positions, so a graph that is nearly in order costs about
        one sweep.
        """
        import heapq

        available = set(self.input_names) | {n for n, t in self.tensors.items() if t.is_const or t.variable}
        missing: list[int] = []
        waiting: dict[str, list[int]] = defaultdict(list)
        for k, op in enumerate(self.ops):
            need = {t for t in op.inputs if t and t not in available}
            missing.append(len(need))
            for t in need:
                waiting[t].append(k)
        now = [k for k, m in enumerate(missing) if m == 0]  # ready in the current sweep
        later: list[int] = []  # became ready behind the sweep: taken in the next one
        heapq.heapify(now)
        ordered: list[Op] = []
        while now or later:
            if not now:
                now, later = later, []
                heapq.heapify(now)
            k = heapq.heappop(now)
            op = self.ops[k]
            ordered.append(op)
            for t in op.outputs:
                for j in waiting.pop(t, ()):
                    missing[j] -= 1
                    if missing[j] == 0:
                        heapq.heappush(now, j) if j > k else later.append(j)
        if len(ordered) != len(self.ops):
            taken = {id(op) for op in ordered}
            names = ", ".join(op.name for op in self.ops if id(op) not in taken)
            names = ", ".join(names.split(", ")[:3])
            raise ValueError(f"graph has a cycle or a missing input near {names}")
        self.ops = ordered
