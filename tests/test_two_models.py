"""Several models in one program: each library's header and every global symbol carry the model's
name (kernels/edgenn_prefix.h renames the kernels' enn_ names), so two libraries with the same
kernels link into one host program and into one firmware, and each still gives runtime_py's bytes;
with --shared-arena the models share one arena of the larger size."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from boards_common import assert_same_bytes, conv_model, digits_inputs, digits_model, random_inputs, require, \
    require_board
from edgenn.boards import get_board
from edgenn.codegen.generate import library_dir, render_library
from edgenn.emulation import backends
from edgenn.format import enn
from edgenn.runtime_py.interpreter import Interpreter

SAMPLES = 8

_MAIN = r"""
#include <stdio.h>
#include <stdint.h>
#include "digits.h"
#include "conv.h"

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


def defined_globals(nm: str, path) -> set[str]:
    out = subprocess.run([nm, "-g", "--defined-only", "-P", str(path)], capture_output=True, text=True,
                         check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip() and not line.endswith(":")}


def test_two_models_link_into_one_program(tmp_path):
    require("gcc", "nm")
    digits, conv = digits_model(), conv_model()
    assert digits.name == "digits"
    shared = {op.type for op in digits.ops} & {op.type for op in conv.ops}
    assert "conv2d" in shared  # the same kernel in both libraries
    host = get_board("host")
    objs, includes = [], []
    for m in (digits, conv):
        d = render_library(m, tmp_path / m.name, host)  # default prefix: "<name>_"
        assert (d / "src" / f"{m.name}.h").exists() and not list(d.rglob("model.h"))
        includes.append(f"-I{d / 'src'}")
        srcs = [f"src/{m.name}.c", f"src/{m.name}_weights.c"] + sorted(str(p.relative_to(d))
                                                                       for p in (d / "src" / "kernels").glob("*.c"))
        for src in srcs:
            obj = tmp_path / f"{m.name}-{src.replace('/', '-')}.o"
            r = subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-c", src, "-o", str(obj)],
                               cwd=d, capture_output=True, text=True)
            assert r.returncode == 0, f"{m.name}/{src}:\n{r.stderr[-3000:]}"
            objs.append(str(obj))
            # every global symbol of the library carries the model's name
            bad = {s for s in defined_globals("nm", obj) if not s.startswith(m.name + "_")}
            assert not bad, f"{m.name}/{src} defines {sorted(bad)}"
    (tmp_path / "main.c").write_text(_MAIN % {"n": SAMPLES})
    r = subprocess.run(["gcc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", *includes, "-o", "prog", "main.c"] + objs,
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 0, f"link failed:\n{r.stderr[-3000:]}"
    syms = defined_globals("nm", tmp_path / "prog")
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


def _generate(paths, board: str, out, *flags) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgenn", "generate", *map(str, paths), "--board", board, "-o", str(out),
                           *flags], capture_output=True, text=True, timeout=600)


@pytest.mark.qemu
@pytest.mark.parametrize("shared_arena", [False, True], ids=["own-arenas", "shared-arena"])
def test_two_models_in_one_firmware_in_qemu(shared_arena, tmp_path):
    """`edgenn generate digits.enn conv.enn --board mps2-an386 [--shared-arena]`: one firmware runs
    both models on every sample, bit-exact; a shared arena has the larger size and saves the smaller."""
    b = get_board("mps2-an386")
    require_board(b)
    digits, conv = digits_model(), conv_model()
    paths = []
    for m in (digits, conv):
        paths.append(tmp_path / f"{m.name}.enn")
        enn.save(m, paths[-1])
    out = tmp_path / "proj"
    r = _generate(paths, b.name, out, *(["--shared-arena"] if shared_arena else []))
    assert r.returncode == 0, r.stderr
    assert "lib/digits/" in r.stdout and "lib/conv/" in r.stdout
    backends.make(out, "firmware.elf")
    fw = out / "firmware.elf"
    syms = defined_globals("arm-none-eabi-nm", fw)
    arenas = {s for s in syms if re.search(r"_arena_\d+$", s)}
    big, small = sorted((digits, conv), key=lambda m: -m.arena_bytes)
    if shared_arena:
        assert arenas == {f"digits_conv_arena_{big.arena_bytes}"}, arenas
    else:
        assert not arenas  # each library's own arena is static
    for m in (digits, conv):
        lib = library_dir(out, m.name)
        assert (lib / "src" / f"{m.name}.h").exists()
        backends.make(out, f"lib{m.name}.a")
        bad = {s for s in defined_globals("arm-none-eabi-nm", out / f"lib{m.name}.a")
               if not s.startswith(m.name + "_") and s not in arenas}
        assert not bad, f"lib{m.name}.a defines {sorted(bad)}"

    xd, xc = digits_inputs(SAMPLES), random_inputs(conv, SAMPLES)
    blob = b"".join(np.ascontiguousarray(xd[0][k]).tobytes() + np.ascontiguousarray(xc[0][k]).tobytes()
                    for k in range(SAMPLES))
    res = backends.run_raw(backends.BuildResult(out, fw, b), blob, timeout=120)
    want_d, want_c = Interpreter(digits).invoke(*xd), Interpreter(conv).invoke(*xc)
    nd, nc = want_d[0][0].nbytes, want_c[0][0].nbytes
    rows = np.frombuffer(res.data, np.uint8).reshape(SAMPLES, nd + nc)
    assert_same_bytes("digits in the two-model firmware", want_d,
                      [rows[:, :nd].copy().view(np.int8).reshape(want_d[0].shape)])
    assert_same_bytes("conv in the two-model firmware", want_c,
                      [rows[:, nd:].copy().view(np.int8).reshape(want_c[0].shape)])

    from edgenn.emulation.size import measure
    from edgenn.fit import fit_report

    r = fit_report([digits, conv], b, shared_arena=shared_arena)
    assert r["fits"] and r["firmware"]["arena_bytes"] == (big.arena_bytes if shared_arena
                                                          else big.arena_bytes + small.arena_bytes)
    # the fit check measured this very firmware: .stack, .data and .bss are the RAM it links into
    assert r["ram_used"] == measure([fw], b)["static_ram"] and r["flash_used"] == measure([fw], b)["flash"]
    if shared_arena:
        alone = fit_report([digits, conv], b)
        assert alone["ram_used"] - r["ram_used"] >= small.arena_bytes, (alone["ram_used"], r["ram_used"])
