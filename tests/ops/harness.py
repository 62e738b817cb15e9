"""Op-test harness: single-operator models through the Python kernel and the compiled C kernel.

A case is a one-operator quantized graph (random shapes, parameters and zero points) lowered
to an EnnModel exactly as the converter does it. All cases of a test are generated into one C
program (one model per case, kernels shared), compiled once for the host, and optionally once
as firmware for the emulated Cortex-M4; every case's outputs must equal runtime_py's byte for byte.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgenn.boards import get_board
from edgenn.codegen.generate import render_model
from edgenn.converter.graph import Graph, IOInfo, QParams
from edgenn.converter.lower import to_enn
from edgenn.runtime_py.enn import EnnModel, from_bytes, to_bytes
from edgenn.runtime_py.interpreter import Interpreter

HERE = Path(__file__).resolve().parent


@dataclass
class T:
    """A tensor of a test case: an activation (quant only) or a constant (data + quant)."""

    shape: tuple[int, ...]
    scale: float | np.ndarray = 1.0
    zero_point: int | np.ndarray = 0
    data: np.ndarray | None = None
    dtype: str = "int8"
    axis: int = 0

    def qparams(self) -> QParams:
        s = np.atleast_1d(np.asarray(self.scale, np.float32))
        z = np.atleast_1d(np.asarray(self.zero_point, np.int64))
        if z.size == 1 and s.size > 1:
            z = np.zeros(s.size, np.int64) + z[0]
        return QParams(s, z, self.axis)


@dataclass
class Case:
    op_type: str
    inputs: list[T | None]
    outputs: list[T]
    attrs: dict[str, Any] = field(default_factory=dict)
    name: str = "case"


def build_model(case: Case, name: str) -> EnnModel:
    """Lower one case to an EnnModel (via the real converter path) and round-trip it through bytes."""
    g = Graph()
    in_names = []
    for i, t in enumerate(case.inputs):
        if t is None:
            in_names.append("")
            continue
        nm = f"in{i}"
        g.add_tensor(nm, t.shape, t.dtype, t.data, t.qparams())
        if t.data is None:
            g.inputs.append(IOInfo(nm, nm, t.shape))
        in_names.append(nm)
    out_names = []
    for i, t in enumerate(case.outputs):
        nm = f"out{i}"
        g.add_tensor(nm, t.shape, t.dtype, None, t.qparams())
        g.outputs.append(IOInfo(nm, nm, t.shape))
        out_names.append(nm)
    g.add_op(case.op_type, case.name, in_names, out_names, **case.attrs)
    model = to_enn(g, name, {"tool_version": "test", "source_format": "test"})
    return from_bytes(to_bytes(model))


def random_inputs(model: EnnModel, n: int, rng: np.random.Generator, extremes: bool = True) -> list[np.ndarray]:
    """n samples per input; the first two are all -128 and all 127 when ``extremes``."""
    xs = []
    for d in model.inputs:
        t = model.tensors[d.tensor]
        x = rng.integers(-128, 128, size=(n,) + tuple(t.shape), dtype=np.int16).astype(np.int8)
        if extremes and n >= 3:
            x[0] = -128
            x[1] = 127
        xs.append(x)
    return xs


_DRIVER = r"""
#include <stdio.h>
#include <stdint.h>
%(includes)s

typedef int (*invoke_fn)(const int8_t *, int8_t *);
static const struct { invoke_fn fn; unsigned in_bytes, out_bytes; } cases[] = {
%(table)s
};

static int8_t in_buf[%(max_in)d];
static int8_t out_buf[%(max_out)d];

int main(int argc, char **argv)
{
    FILE *fi, *fo;
    unsigned i;
    if (argc != 3) return 2;
    fi = fopen(argv[1], "rb");
    fo = fopen(argv[2], "wb");
    if (!fi || !fo) return 2;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t n, s;
        if (fread(&n, 4, 1, fi) != 1) return 3;
        for (s = 0; s < n; s++) {
            if (fread(in_buf, 1, cases[i].in_bytes, fi) != cases[i].in_bytes) return 3;
            if (cases[i].fn(in_buf, out_buf) != 0) return 4;
            fwrite(out_buf, 1, cases[i].out_bytes, fo);
        }
    }
    fclose(fi);
    return fclose(fo) != 0;
}
"""


def _io_bytes(model: EnnModel, which) -> int:
    return sum(model.tensors[d.tensor].nbytes for d in which)


def run_c_host(models: list[EnnModel], inputs: list[list[np.ndarray]], workdir: Path) -> list[list[np.ndarray]]:
    """Compile every model into one host program and run each on its inputs."""
    host = get_board("host")
    for m in models:
        render_model(m, workdir / m.name, host, kernel_prefix="enn_", harness=False)
    includes = "\n".join(f'#include "{m.name}/model.h"' for m in models)
    table = ",\n".join(f"    {{ {m.name}_invoke, {_io_bytes(m, m.inputs)}u, {_io_bytes(m, m.outputs)}u }}" for m in models)
    (workdir / "driver.c").write_text(_DRIVER % {
        "includes": includes, "table": table,
        "max_in": max(_io_bytes(m, m.inputs) for m in models), "max_out": max(_io_bytes(m, m.outputs) for m in models)})
    # One translation unit for all cases (every symbol is prefixed per model; kernel headers
    # share one prefix and include guard): far faster than compiling hundreds of files.
    unity = ['#include "driver.c"']
    for m in models:
        unity += [f'#include "{m.name}/model.c"', f'#include "{m.name}/weights.c"']
    kernels: dict[str, str] = {}
    for m in models:
        for p in sorted((workdir / m.name / "kernels").glob("*.c")):
            kernels.setdefault(p.name, str(p.relative_to(workdir)))
    (workdir / "unity.c").write_text("\n".join(unity) + "\n")
    cmd = ["gcc", "-std=c99", "-O1", "-Wall", "-Wextra", "-Werror", "-o", "driver", "unity.c"] + list(kernels.values())
    r = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    assert r.returncode == 0, f"C build failed:\n{r.stderr[-3000:]}"
    blob = bytearray()
    for m, xs in zip(models, inputs):
        n = xs[0].shape[0]
        blob += np.uint32(n).tobytes()
        rows = [np.ascontiguousarray(x).reshape(n, -1).view(np.uint8) for x in xs]
        blob += np.concatenate(rows, axis=1).tobytes()
    (workdir / "in.bin").write_bytes(bytes(blob))
    r = subprocess.run(["./driver", "in.bin", "out.bin"], cwd=workdir, capture_output=True, timeout=600)
    assert r.returncode == 0, f"driver failed with {r.returncode}: {r.stderr[-2000:]!r}"
    data = np.frombuffer((workdir / "out.bin").read_bytes(), dtype=np.uint8)
    results, off = [], 0
    for m, xs in zip(models, inputs):
        n = xs[0].shape[0]
        per = _io_bytes(m, m.outputs)
        block = data[off: off + per * n].reshape(n, per)
        off += per * n
        o2, k = [], 0
        for d in m.outputs:
            t = m.tensors[d.tensor]
            o2.append(block[:, k:k + t.nbytes].copy().view(t.dtype).reshape((n,) + tuple(t.shape)))
            k += t.nbytes
        results.append(o2)
    assert off == data.size, f"driver wrote {data.size} bytes, expected {off}"
    return results


def check_cases(cases: list[Case], samples: int = 3, seed: int = 0, keep: str | None = None) -> dict[str, int]:
    """Run all cases through runtime_py and host C; assert byte equality. Returns statistics."""
    rng = np.random.default_rng(seed)
    models = [build_model(c, f"c{i}") for i, c in enumerate(cases)]
    inputs = [random_inputs(m, samples, rng) for m in models]
    expected = [Interpreter(m).invoke(*xs) for m, xs in zip(models, inputs)]
    work = Path(tempfile.mkdtemp(prefix="edgenn-optest-"))
    try:
        got = run_c_host(models, inputs, work)
    finally:
        if keep:
            shutil.copytree(work, keep, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    stats = {"cases": len(cases), "bytes": 0, "saturated_low": 0, "saturated_high": 0}
    for i, (c, e, g_) in enumerate(zip(cases, expected, got)):
        for k, (a, b) in enumerate(zip(e, g_)):
            if not np.array_equal(a, b):
                bad = np.argwhere(a != b)
                raise AssertionError(
                    f"case {i} ({c.op_type}, attrs {c.attrs}, inputs {[t.shape if t else None for t in c.inputs]}): "
                    f"output {k} differs at {len(bad)} of {a.size} bytes, first at {tuple(bad[0])}: "
                    f"python {a[tuple(bad[0])]} vs C {b[tuple(bad[0])]}")
            stats["bytes"] += a.size
            stats["saturated_low"] += int(np.sum(a == -128))
            stats["saturated_high"] += int(np.sum(a == 127))
    return stats
