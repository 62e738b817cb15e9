"""Static report of an .enn model: memory plan, weights, MACs per layer."""
from __future__ import annotations

from typing import Any

import numpy as np

from edgenn.codegen.generate import param_itemsize
from edgenn.format.enn import EnnModel


def params_bytes(model: EnnModel, op_index: int) -> int:
    """Bytes of per-layer constant parameter arrays (multipliers, shifts, ...) in flash."""
    return sum(int(v.size) * param_itemsize(k) for k, v in model.ops[op_index].options.items()
               if isinstance(v, np.ndarray))


def _io_info(model: EnnModel, d) -> dict[str, Any]:
    """Name, shape, dtype and quantization (None for bool and integer tensors) of a model input or output."""
    t = model.tensors[d.tensor]
    q = t.scale.size > 0
    return {"name": d.source_name, "shape": list(t.shape), "dtype": t.dtype,
            "scale": float(t.scale[0]) if q else None, "zero_point": int(t.zero_point[0]) if q else None}


def analyze(model: EnnModel) -> dict[str, Any]:
    layers = []
    counted: set[int] = set()
    for i, op in enumerate(model.ops):
        ins = [model.tensors[t] for t in op.inputs if t >= 0]
        outs = [model.tensors[t] for t in op.outputs]
        wbytes = decoded = 0
        encodings: list[str] = []
        for t_idx in op.inputs:
            if t_idx >= 0 and model.tensors[t_idx].is_const and t_idx not in counted:
                counted.add(t_idx)
                t = model.tensors[t_idx]
                wbytes += t.stored_nbytes
                decoded += int(t.data.nbytes)
                if t.is_encoded and t.encoding not in encodings:
                    encodings.append(t.encoding)
        layers.append({
            "index": i,
            "op": op.type,
            "name": op.name,
            "inputs": [{"name": t.name, "shape": list(t.shape), "offset": t.arena_offset} for t in ins if not t.is_const],
            "outputs": [{"name": t.name, "shape": list(t.shape), "offset": t.arena_offset} for t in outs],
            "input_shapes": [list(t.shape) for t in ins if not t.is_const],
            "output_shapes": [list(t.shape) for t in outs],
            "macs": int(op.macs),
            "weight_bytes": int(wbytes),  # as stored (encoded constants: the encoded stream)
            "weights_encoding": "+".join(encodings) or "raw",
            "weights_bytes_decoded": int(decoded),
            "param_bytes": params_bytes(model, i),
            "scratch_bytes": int(op.scratch_bytes),
            "scratch_offset": int(op.scratch_offset),
        })
    weights = sum(t.stored_nbytes for t in model.tensors if t.is_const)
    weights_decoded = sum(int(t.data.nbytes) for t in model.tensors if t.is_const)
    params = sum(layer["param_bytes"] for layer in layers)
    return {
        "name": model.name,
        "source": model.provenance.get("source_file", ""),
        "source_format": model.provenance.get("source_format", ""),
        "arena_bytes": int(model.arena_bytes),
        "arena_lower_bound_bytes": int(model.plan.get("lower_bound_bytes", 0)),
        "planner": model.plan.get("planner", ""),
        "weights_bytes": int(weights),
        "weights_bytes_decoded": int(weights_decoded),
        "params_bytes": int(params),
        "macs": int(sum(op.macs for op in model.ops)),
        # Recurrent layers' state tensors: inside the arena (counted in arena_bytes), never shared.
        "state_bytes": int(sum(t.nbytes for t in model.state_tensors)),
        "stateful": bool(model.stateful),
        "inputs": [_io_info(model, d) for d in model.inputs],
        "outputs": [_io_info(model, d) for d in model.outputs],
        "layers": layers,
    }
