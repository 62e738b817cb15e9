"""clip int8 kernel: clamp to [act_min, act_max] (input and output share quantization)."""
from __future__ import annotations

import numpy as np


def run(op, model, ins, outs, scratch) -> None:
    o = op.options
    outs[0][...] = np.clip(ins[0], o["act_min"], o["act_max"])
