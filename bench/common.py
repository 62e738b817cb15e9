"""Shared helpers for the benchmark scripts (run from the repository root)."""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MLPERF_DIR = ROOT / "tests" / "data" / "mlperf_tiny"
MLPERF = {
    "KWS": "kws_ref_model.tflite",
    "VWW": "vww_96_int8.tflite",
    "IC": "pretrainedResnet_quant.tflite",
    "AD": "ad01_int8.tflite",
}
# Figures from tests/data/mlperf_tiny/README.md (TFLM reference kernels, measured with the
# tflite-micro package): layer-wise lower bound, firmware flash.
LOWER_BOUND = {"KWS": 16_000, "VWW": 55_296, "IC": 49_152, "AD": 768}
TFLM_M4_FLASH_REF = {"KWS": 95_892, "VWW": 375_244, "IC": 144_864, "AD": 297_860}


def md_table(headers: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


def convert_mlperf(key: str):
    from edgenn.converter.tflite_import import convert_tflite_bytes

    path = MLPERF_DIR / MLPERF[key]
    return convert_tflite_bytes(path.read_bytes(), key.lower(), str(path))


def write_section(name: str, text: str) -> None:
    """Replace the section between <!-- name --> markers in docs/benchmarks.md."""
    doc = ROOT / "docs" / "benchmarks.md"
    content = doc.read_text() if doc.exists() else "# Benchmarks\n"
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    if begin in content and end in content:
        pre = content.split(begin)[0]
        post = content.split(end, 1)[1]
        content = pre + block + post
    else:
        content = content.rstrip() + "\n\n" + block + "\n"
    doc.write_text(content)
    print(f"updated docs/benchmarks.md section '{name}'", file=sys.stderr)


PROBE = r"""
import sys, numpy as np
from tflite_micro import runtime
data = open(sys.argv[1], "rb").read()
it = runtime.Interpreter.from_bytes(data, arena_size=int(sys.argv[2]))
d = it.get_input_details(0)
it.set_input(np.zeros(tuple(d["shape"]), d["dtype"]), 0)
it.invoke()
"""


def tflm_min_arena(path: Path, lo: int = 512, hi: int = 1 << 20) -> int:
    def ok(n: int) -> bool:
        r = subprocess.run([sys.executable, "-c", PROBE, str(path), str(n)], capture_output=True, timeout=120)
        return r.returncode == 0
    if not ok(hi):
        raise RuntimeError(f"TFLM needs more than {hi} bytes for {path.name}")
    while hi - lo > 16:
        mid = (lo + hi) // 2 // 16 * 16
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def flash_bytes(model) -> dict:
    from edgenn.boards import get_board
    from edgenn.emulation.size import measure_library

    board = get_board("mps2-an386")
    with tempfile.TemporaryDirectory() as tmp:
        return measure_library(model, board, Path(tmp) / model.name)


#: Columns of TFLM's own instruction counts on the emulated cores (bench/tflm_cortexm/build.py).
TFLM_CORTEXM_HEADERS = ["TFLM M4 reference instructions (per MAC)", "TFLM+CMSIS-NN M4 instructions (per MAC)",
                        "TFLM+CMSIS-NN M55 instructions (per MAC)"]


#: Marks a TFLM cell whose outputs equal the package's only with the state reset before every
#: Invoke (TFLM's CMSIS-NN LSTM starts each Invoke from a zero state, ignoring the variable tensors).
STATE_NOT_KEPT = " (state not kept)"


def tflm_cortexm_cells(path: Path, model, x_int8: list, macs: int,
                       fmt=lambda n, per_mac: f"{n / 1e3:,.1f} k ({per_mac:.2f})") -> tuple[list[str], bool]:
    """TFLM built for the Cortex-M4 (reference kernels, CMSIS-NN) and M55 (CMSIS-NN), counted as
    edgenn is on the same inputs: one cell per build (``fmt`` of instructions and instructions per
    MAC), and whether every build's outputs equal the tflite-micro package's byte for byte (or,
    marked STATE_NOT_KEPT, the package's with the state reset before each sample)."""
    from tflm_cortexm.build import measure_imported

    cells, exact = [], True
    for m in measure_imported(path, model, x_int8):
        exact &= m.exact or m.state_not_kept
        mark = "" if m.exact else STATE_NOT_KEPT if m.state_not_kept else " NOT BIT-EXACT"
        cells.append(fmt(m.instructions, m.instructions / macs) + mark)
    return cells, exact
