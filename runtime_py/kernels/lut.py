"""lut kernel: an int8 -> int8 function stored as a 256-entry table, the operator's constant input 1
(TFLM's ELU evaluates this way, EvalUsingLookupTable): output = table[input + 128]."""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.kernels import KernelTraits
from edgenn.runtime_py.kernels.common import check_same_shape, require
from edgenn.runtime_py.kernels.common import lookup256

TRAITS = KernelTraits(overlap="elementwise", inputs=("input", "table"), constants=("table",))


def run(op, model, ins, outs, scratch) -> None:
    table = np.asarray(ins[1]).reshape(-1)
    if table.size != 256 or table.dtype != np.int8:
        raise ValueError(f"lut '{op.name}': the table must be 256 int8 values, got {table.size} {table.dtype}")
    outs[0][...] = lookup256(table, ins[0])


def check(op, model) -> None:
    """Output of the input's shape; a table of one entry per input value."""
    check_same_shape(op, model)
    x, table = model.tensors[op.inputs[0]], model.tensors[op.inputs[1]]
    need = 1 << (8 * np.dtype(x.dtype).itemsize)
    require(table.size == need, f"table has {table.size} entries, a {x.dtype} input needs {need}")
