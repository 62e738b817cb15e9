"""reduce_max_min int8 kernel: y = clamp(output_offset + MultiplyByQuantizedMultiplier(x + input_offset)).

The runtime's part of the operator contract (runtime_py/kernels/__init__.py):

- ``TRAITS``: how the output may share arena bytes with an input (the memory planner trusts it:
  "elementwise" means the C kernel writes each output right after reading its input) and the
  input names;
- ``run(op, model, ins, outs, scratch)``: vectorized over the leading sample axis of ``ins``/``outs``;
  write only through ``outs[k][...] = ...`` after reading all inputs. The C kernel
  (templates/kernels/reduce_max_min.c) must produce the same bytes.
Shared helpers: runtime_py/kernels/common.py and runtime_py/fixedpoint.py.
"""
from __future__ import annotations

import numpy as np

from edgenn.runtime_py.fixedpoint import multiply_by_quantized_multiplier
from edgenn.runtime_py.kernels import KernelTraits

TRAITS = KernelTraits(overlap="elementwise", inputs=("input",))


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    x = np.asarray(ins[0]).astype(np.int64)
    y = multiply_by_quantized_multiplier(x + o["input_offset"], o["multiplier"], o["shift"]) + o["output_offset"]
    outs[0][...] = np.clip(y, -128, 127).astype(np.int8)
