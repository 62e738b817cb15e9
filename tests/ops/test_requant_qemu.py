"""The kernels' fast requantization forms (templates/kernels/edgenn_fixedpoint.h, edgenn_simd.h) == TFLM's
MultiplyByQuantizedMultiplier by its exact definition (tests/test_fixedpoint.py), on random and
extreme accumulators, multipliers and shifts:

- enn_rq_r (SMMLAR form, for qualifying channels), enn_rq8 (the same plus an output offset,
  saturated to int8: QADD and SSAT with a shift on the DSP extension) and enn_mbqm, as portable C
  on the host, with the DSP instructions on a 32-bit Arm Linux core (qemu-arm) and as Cortex-M4
  firmware;
- enn_mbqm4_mve (Helium lanes) as Cortex-M55 firmware;
- enn_mbqm4_neon (NEON lanes, edgenn_neon.h) on the 64-bit Raspberry Pi cores (qemu-aarch64).
The op tests check the same code inside every kernel; this checks it over the whole int32 range."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from harness import build_model, firmware_harness, run_firmware
from test_fully_connected import random_case

from edgenn.boards import get_board
from edgenn.codegen.generate import templates_dir
from edgenn.emulation import backends as be
from test_fixedpoint import EXTREME_M, EXTREME_X, INT32_MAX, INT32_MIN, ref_mbqm

_DRIVER = r"""
#include <stdint.h>
#include "edgenn_simd.h"

/* in: n triples (x, multiplier, shift); out: n quadruples (enn_mbqm, enn_rq_r or enn_mbqm where the
 * channel does not qualify, enn_mbqm4_mve on Helium, enn_mbqm4_neon on AArch64, or enn_mbqm, enn_rq8 with the output offset
 * (x & 255) - 128 (t = 31 for a zero multiplier, as the op templates make it) or -1000 where the
 * channel does not qualify). */
static void compute(const int32_t *in, int32_t *out, uint32_t n)
{
    uint32_t i;
    for (i = 0; i < n; i++) {
        const int32_t x = in[3 * i], m = in[3 * i + 1], s = in[3 * i + 2];
        const int32_t t = (s < -31 ? 31 : (s > -1 ? 1 : -s)) - 1;
        const int8_t s8 = (int8_t)s; /* per-channel shifts are int8_t (the cases' shifts are -31..31) */
        out[4 * i] = enn_mbqm(x, m, (int)s);
        out[4 * i + 3] = enn_rq_layer_ok(&m, &s8, 1) ? enn_rq8(x, m, m == 0 ? 31 : t, 2 * ((x & 255) - 128) + 1) : -1000;
        out[4 * i + 1] = enn_rq_layer_ok(&m, &s8, 1) ? enn_rq_r(x, m, t)
                                                     : enn_mbqm(x, m, (int)s);
#if defined(ENN_MVE)
        {
            int32_t lanes[4];
            vstrwq_s32(lanes, enn_mbqm4_mve(vdupq_n_s32(x), vdupq_n_s32(m), vdupq_n_s32(s)));
            out[4 * i + 2] = lanes[(x & 3)];
        }
#elif defined(ENN_NEON)
        {
            int32_t lanes[4];
            vst1q_s32(lanes, enn_mbqm4_neon(vdupq_n_s32(x), vdupq_n_s32(m), vdupq_n_s32(s)));
            out[4 * i + 2] = lanes[(x & 3)];
        }
#else
        out[4 * i + 2] = enn_mbqm(x, m, (int)s);
#endif
    }
}

#define CHUNK 256
static int32_t in_buf[3 * CHUNK];
static int32_t out_buf[4 * CHUNK];

#if defined(FIRMWARE)
int32_t fw_semihost(int32_t op, const void *arg);

static int32_t file(const char *name, uint32_t len, uint32_t mode)
{
    uint32_t a[3];
    a[0] = (uint32_t)(uintptr_t)name;
    a[1] = mode;
    a[2] = len;
    return fw_semihost(0x01, a);
}

/* bytes NOT transferred */
static int32_t io(int32_t op, int32_t fd, void *buf, uint32_t len)
{
    uint32_t a[3];
    a[0] = (uint32_t)fd;
    a[1] = (uint32_t)(uintptr_t)buf;
    a[2] = len;
    return fw_semihost(op, a);
}

int main(void)
{
    const int32_t fi = file("in.bin", 6, 1);
    const int32_t fo = file("out.bin", 7, 5);
    int32_t total;
    if (fi < 0 || fo < 0) {
        return 2;
    }
    total = fw_semihost(0x0C, &fi) / 12; /* SYS_FLEN */
    while (total > 0) {
        const uint32_t n = total > CHUNK ? CHUNK : (uint32_t)total;
        if (io(0x06, fi, in_buf, 12 * n) != 0) {
            return 3;
        }
        compute(in_buf, out_buf, n);
        if (io(0x05, fo, out_buf, 16 * n) != 0) {
            return 4;
        }
        total -= (int32_t)n;
    }
    return 0;
}
#else
#include <stdio.h>

int main(int argc, char **argv)
{
    FILE *fi, *fo;
    size_t n;
    if (argc != 3 || (fi = fopen(argv[1], "rb")) == NULL || (fo = fopen(argv[2], "wb")) == NULL) {
        return 2;
    }
    while ((n = fread(in_buf, 12, CHUNK, fi)) > 0) {
        compute(in_buf, out_buf, (uint32_t)n);
        fwrite(out_buf, 16, n, fo);
    }
    fclose(fi);
    return fclose(fo) != 0;
}
#endif
"""


def cases(n: int = 6000, seed: int = 5) -> np.ndarray:
    """(x, multiplier, shift) rows: extremes, converter-like multipliers, accumulators of all sizes."""
    rng = np.random.default_rng(seed)
    rows = [(x, m, s) for x in EXTREME_X for m in EXTREME_M + [1 << 29, 12345] for s in (-31, -17, -2, -1, 0, 3, 31)]
    for _ in range(n):
        kind = rng.integers(0, 4)
        if kind == 0:
            x = int(rng.integers(INT32_MIN, INT32_MAX, endpoint=True))
        elif kind == 1:
            x = int(rng.integers(-(1 << 20), 1 << 20))
        elif kind == 2:
            x = (1 << 30) + int(rng.integers(-(1 << 24), 1 << 24))  # the huge biases of real models
        else:
            x = int(rng.integers(-5000, 5000))
        m = int(rng.integers(1 << 30, INT32_MAX, endpoint=True)) if rng.random() < 0.85 else (
            int(rng.integers(0, 1 << 30)) if rng.random() < 0.5 else 1 << 30)
        s = int(rng.integers(-31, 0)) if rng.random() < 0.85 else int(rng.integers(0, 32))
        rows.append((x, m, s))
    return np.array(rows, dtype=np.int64)


def check(triples: np.ndarray, got: np.ndarray, where: str) -> None:
    want = np.array([ref_mbqm(int(x), int(m), int(s)) for x, m, s in triples], dtype=np.int64)
    x, m, s = triples[:, 0], triples[:, 1], triples[:, 2]
    qualifies = (m == 0) | ((m >= 1 << 30) & (s <= -1) & (s >= -31))
    want8 = np.where(qualifies, np.clip(want + (x & 255) - 128, -128, 127), -1000)
    assert qualifies.sum() > len(triples) // 2
    for k, name in enumerate(("enn_mbqm", "enn_rq_r", "vector form", "enn_rq8")):
        ref = want8 if k == 3 else want
        bad = np.flatnonzero(got[:, k] != ref)
        assert bad.size == 0, (f"{where}: {name} differs at x={triples[bad[0]][0]}, m={triples[bad[0]][1]}, "
                               f"shift={triples[bad[0]][2]}: {got[bad[0], k]} vs {ref[bad[0]]}")


def _compile_native(tmp: Path, cc: list[str]) -> Path:
    (tmp / "driver.c").write_text(_DRIVER)
    r = subprocess.run(cc + ["-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{templates_dir() / 'kernels'}",
                             "driver.c", "-o", "driver"], cwd=tmp, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return tmp / "driver"


def _run(tmp: Path, cmd: list[str], triples: np.ndarray) -> np.ndarray:
    (tmp / "in.bin").write_bytes(triples.astype(np.int32).tobytes())
    r = subprocess.run(cmd + ["in.bin", "out.bin"], cwd=tmp, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return np.frombuffer((tmp / "out.bin").read_bytes(), dtype=np.int32).reshape(-1, 4).astype(np.int64)


def test_fast_requantization_on_the_host(tmp_path):
    t = cases()
    check(t, _run(tmp_path, [str(_compile_native(tmp_path, ["gcc"]))], t), "host")


@pytest.mark.qemu
def test_fast_requantization_with_the_dsp_instructions_on_arm_linux(tmp_path):
    if not shutil.which("arm-linux-gnueabihf-gcc") or not shutil.which("qemu-arm"):
        pytest.fail("arm-linux-gnueabihf-gcc and qemu-arm are required (make setup installs them)")
    exe = _compile_native(tmp_path, ["arm-linux-gnueabihf-gcc", "-static", "-mcpu=cortex-a7"])
    t = cases(seed=6)
    check(t, _run(tmp_path, ["qemu-arm", str(exe)], t), "armhf")


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["rpi4", "rpi5", "rpi3-32"])
def test_fast_requantization_with_neon_on_aarch64(tmp_path, board):
    b = get_board(board)
    if not shutil.which(b.cc) or not shutil.which("qemu-aarch64"):
        pytest.fail(f"{b.cc} and qemu-aarch64 are required (make setup installs them)")
    exe = _compile_native(tmp_path, [b.cc, *b.cflags, *b.ldflags])
    t = cases(seed=8)
    check(t, _run(tmp_path, be.qemu_command(b, exe), t), board)


@pytest.mark.qemu
@pytest.mark.parametrize("board", ["mps2-an386", "mps3-an547"])
def test_fast_requantization_as_firmware(tmp_path, board):
    b = get_board(board)
    startup, link = firmware_harness(b, tmp_path, build_model(random_case(np.random.default_rng(0)), "fw"))
    for header in ("edgenn_prefix.h", "edgenn_fixedpoint.h", "edgenn_simd.h"):
        shutil.copy(templates_dir() / "kernels" / header, tmp_path / header)
    (tmp_path / "driver.c").write_text(_DRIVER)
    t = cases(seed=7)
    (tmp_path / "in.bin").write_bytes(t.astype(np.int32).tobytes())
    run_firmware(tmp_path, b, ["driver.c"], startup, link, ["-DFIRMWARE"])
    got = np.frombuffer((tmp_path / "out.bin").read_bytes(), dtype=np.int32).reshape(-1, 4).astype(np.int64)
    check(t, got, board)
