"""Two models in one program: each generated project prefixes its kernels' external names with
the model's prefix (kernels/edgenn_prefix.h), so two libraries with the same kernels link into one
host program without duplicate symbols, and each still gives runtime_py's bytes."""
from __future__ import annotations

import subprocess

import numpy as np

from boards_common import assert_same_bytes, digits_inputs, digits_model, random_inputs, require
from edgenn.boards import get_board
from edgenn.codegen.generate import render_model
from edgenn.runtime_py.interpreter import Interpreter
from harness import Case, T, build_model

SAMPLES = 8

_MAIN = r"""
#include <stdio.h>
#include <stdint.h>
#include "digits/model.h"
#include "conv/model.h"

/* stdin: SAMPLES inputs of digits, then SAMPLES of conv; stdout: their outputs in the same order. */
int main(void)
{
    static int8_t in[DIGITS_INPUT_BYTES + CONV_INPUT_BYTES];
    static int8_t out[DIGITS_OUTPUT_BYTES + CONV_OUTPUT_BYTES];
    int s;
    for (s = 0; s < %(n)d; s++) {
        if (fread(in, 1, DIGITS_INPUT_BYTES, stdin) != DIGITS_INPUT_BYTES || digits_invoke(in, out) != 0) {
            return 1;
        }
        fwrite(out, 1, DIGITS_OUTPUT_BYTES, stdout);
    }
    for (s = 0; s < %(n)d; s++) {
        if (fread(in, 1, CONV_INPUT_BYTES, stdin) != CONV_INPUT_BYTES || conv_invoke(in, out) != 0) {
            return 1;
        }
        fwrite(out, 1, CONV_OUTPUT_BYTES, stdout);
    }
    return 0;
}
"""


def conv_model():
    """A one-operator conv2d model (op-test style), different from digits' convolutions."""
    rng = np.random.default_rng(7)
    w = rng.integers(-127, 128, size=(12, 3, 3, 4)).astype(np.int8)
    ws = rng.uniform(0.002, 0.02, size=12).astype(np.float32)
    b = rng.integers(-3000, 3000, size=12).astype(np.int32)
    case = Case("conv2d", [T((1, 9, 7, 4), 0.05, 3), T(w.shape, ws, 0, w, axis=0), T((12,), 0.05 * ws, 0, b, "int32")],
                [T((1, 5, 4, 12), 0.2, -7)],
                {"stride": (2, 2), "dilation": (1, 1), "pads": (1, 1, 1, 1), "groups": 1, "act": (0.0, None)})
    return build_model(case, "conv")


def test_two_models_link_into_one_program(tmp_path):
    require("gcc", "nm")
    digits, conv = digits_model(), conv_model()
    assert digits.name == "digits"
    shared = {op.type for op in digits.ops} & {op.type for op in conv.ops}
    assert "conv2d" in shared  # the same kernel in both libraries
    host = get_board("host")
    objs = []
    for m in (digits, conv):
        d = render_model(m, tmp_path / m.name, host, harness=False)  # default prefix: "<name>_"
        for src in ["model.c", "weights.c"] + sorted(str(p.relative_to(d)) for p in (d / "kernels").glob("*.c")):
            obj = tmp_path / f"{m.name}-{src.replace('/', '-')}.o"
            r = subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-c", src, "-o", str(obj)],
                               cwd=d, capture_output=True, text=True)
            assert r.returncode == 0, f"{m.name}/{src}:\n{r.stderr[-3000:]}"
            objs.append(str(obj))
    (tmp_path / "main.c").write_text(_MAIN % {"n": SAMPLES})
    r = subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-o", "prog", "main.c"] + objs,
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, f"link failed:\n{r.stderr[-3000:]}"
    nm = subprocess.run(["nm", "-g", "--defined-only", "-P", str(tmp_path / "prog")], capture_output=True, text=True,
                        check=True).stdout
    syms = {line.split()[0] for line in nm.splitlines() if line.strip()}
    assert {"digits_conv2d", "conv_conv2d"} <= syms and not any(s.startswith("enn_") for s in syms)

    xd = digits_inputs(SAMPLES)
    xc = random_inputs(conv, SAMPLES)
    blob = np.ascontiguousarray(xd[0]).tobytes() + np.ascontiguousarray(xc[0]).tobytes()
    r = subprocess.run([str(tmp_path / "prog")], input=blob, capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    want_d = Interpreter(digits).invoke(*xd)
    want_c = Interpreter(conv).invoke(*xc)
    nd = want_d[0].nbytes
    got_d = np.frombuffer(r.stdout[:nd], np.int8).reshape(want_d[0].shape)
    got_c = np.frombuffer(r.stdout[nd:], np.int8).reshape(want_c[0].shape)
    assert len(r.stdout) == nd + want_c[0].nbytes
    assert_same_bytes("digits", want_d, [got_d])
    assert_same_bytes("conv", want_c, [got_c])
