"""The bit-exact reference: runs an .enn model with numpy inside its planned arena.

For a batch of N samples the arena is an (N, arena_bytes) byte array and every activation is a
view of its planned bytes in each row, so a wrong offset in the plan corrupts these results
exactly as it would on the board. Kernels are vectorized over the batch.

State tensors (recurrent operators) are reset to their initial values at the start of every sample
of a stateless model. A stateful model (streaming) is one stream: the N samples are N consecutive
calls, each starting from the state the previous one left (as the generated C runs them), and the
interpreter keeps the state between ``invoke`` calls until ``reset``.
"""
from __future__ import annotations

import os
from typing import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from edgenn.errors import ModelFormatError
from edgenn.format import enn, weight_codecs
from edgenn.format.enn import EnnModel, EnnTensor
from edgenn.runtime_py import dataio, memory
from edgenn.runtime_py.kernels import check_model, kernel

DEFAULT_CHUNK_BYTES = 64 << 20  # arena rows per chunk are limited to about this much memory


def arena_view(arena: np.ndarray, t: EnnTensor, offset: int | None = None) -> np.ndarray:
    """The (N, *shape) view of tensor ``t`` inside a batch of arenas."""
    off = t.arena_offset if offset is None else offset
    dt = np.dtype(t.dtype)
    raw = arena[:, off: off + t.size * dt.itemsize].view(dt)
    return raw.reshape((arena.shape[0],) + tuple(t.shape))


class Interpreter:
    """Runs a model; ``invoke`` takes and returns int8 arrays in the internal (NHWC) layout."""

    def __init__(self, model: EnnModel | str | os.PathLike):
        self.model = model if isinstance(model, EnnModel) else enn.load(model)
        check_model(self.model)  # every operator as its kernels need it, before anything runs
        try:
            memory.check_model_plan(self.model)
        except memory.PlanError as e:
            raise ModelFormatError(f"model '{self.model.name}' has an invalid memory plan: {e}") from None
        self._kernels = [kernel(op.type) for op in self.model.ops]
        # Encoded weights are decoded into their slots of the operator's scratch region before it
        # runs, as the C does, so a plan that lets a slot overlap a live tensor corrupts results here too.
        self._slots = [weight_codecs.decode_slots(self.model, op) for op in self.model.ops]
        self._kernel_scratch = [weight_codecs.kernel_scratch_bytes(self.model, op) for op in self.model.ops]
        self._states = [t for t in self.model.tensors if t.variable]
        self._state: list[np.ndarray] | None = None  # a stateful model's state between calls (None: reset)

    def reset(self) -> None:
        """Reset a stateful model's state tensors to their initial values (the C's ``<name>_reset``)."""
        self._state = None

    @property
    def input_tensors(self) -> list[EnnTensor]:
        return [self.model.tensors[d.tensor] for d in self.model.inputs]

    @property
    def output_tensors(self) -> list[EnnTensor]:
        return [self.model.tensors[d.tensor] for d in self.model.outputs]

    def invoke(self, *inputs: np.ndarray, chunk: int | None = None,
               observe: Callable[[int, list[np.ndarray]], None] | None = None) -> list[np.ndarray]:
        """Run N samples: each input is (N, *tensor.shape) int8; returns one such array per output.

        ``observe(op_index, outputs)`` is called after every operator (layer-by-layer checks).
        """
        m = self.model
        n = dataio.check_inputs(m, list(inputs))
        xs = [np.asarray(x) for x in inputs]
        if chunk is None:
            chunk = max(1, DEFAULT_CHUNK_BYTES // max(m.arena_bytes, 1))
        if m.stateful and self._states:
            chunk = 1  # one stream: each sample continues from the state of the previous one
        outs = [np.empty((n,) + tuple(t.shape), dtype=t.dtype) for t in self.output_tensors]
        # One BLAS thread: the matrices are small and a busy machine (tests run in parallel)
        # makes OpenBLAS's threads several times slower than one.
        with threadpool_limits(limits=1, user_api="blas"):
            for start in range(0, n, chunk):
                stop = min(n, start + chunk)
                res = self._run_chunk([x[start:stop] for x in xs], observe, start)
                for o, r in zip(outs, res):
                    o[start:stop] = r
        return outs

    def _run_chunk(self, xs: list[np.ndarray], observe, start: int) -> list[np.ndarray]:
        m = self.model
        n = xs[0].shape[0]
        # Garbage-filled, not zeroed: a kernel that reads bytes it never wrote must not pass by luck.
        arena = np.random.default_rng(start).integers(0, 256, size=(n, m.arena_bytes), dtype=np.uint8)
        for x, t in zip(xs, self.input_tensors):
            arena_view(arena, t)[...] = x
        carried = m.stateful and self._state is not None
        for k, t in enumerate(self._states):
            arena_view(arena, t)[...] = self._state[k] if carried else m.state_reset_value(t)
        for i, (op, kern) in enumerate(zip(m.ops, self._kernels)):
            ins = []
            for ti in op.inputs:
                if ti < 0:
                    ins.append(None)
                    continue
                t = m.tensors[ti]
                ins.append(t.data if t.is_const else arena_view(arena, t))
            for k, off in self._slots[i]:
                t = m.tensors[op.inputs[k]]
                arena[:, off: off + t.nbytes] = t.data.reshape(1, -1).view(np.uint8)
                ins[k] = arena[0, off: off + t.nbytes].view(np.int8).reshape(t.shape)
            outs = [arena_view(arena, m.tensors[ti]) for ti in op.outputs]
            ks = self._kernel_scratch[i]
            scratch = arena[:, op.scratch_offset: op.scratch_offset + ks] if ks else None
            kern.run(op, m, ins, outs, scratch)
            if observe is not None:
                observe(i, [o.copy() for o in outs])
        if m.stateful and self._states:
            self._state = [arena_view(arena, t)[-1].copy() for t in self._states]
        return [arena_view(arena, t).copy() for t in self.output_tensors]


def run(model: EnnModel | str | os.PathLike, *inputs: np.ndarray) -> list[np.ndarray]:
    """Convenience: load (if needed) and run once."""
    return Interpreter(model).invoke(*inputs)
