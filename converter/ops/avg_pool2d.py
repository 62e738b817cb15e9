"""avg_pool2d: int8 average pooling (TFLM reference_integer_ops::AveragePool).

Float attrs as max_pool2d. The sum of the raw int8 values of the in-bounds window elements is
divided by their count with rounding half away from zero (the padding is excluded, not counted as
zeros); the output keeps the input's quantization.
"""
from __future__ import annotations

from edgenn.converter.graph import Graph, Op
from edgenn.converter.ops.max_pool2d import pool_options

OUTPUT_QUANT = "same_as_input"


def prepare(op: Op, g: Graph) -> None:
    op.options = pool_options(op, g)
