"""Threads on Linux boards (`edgenn generate --threads N`): the thread pool, the re-planned arena,
and models computed on several threads byte for byte as on one, with the work really split."""
from __future__ import annotations

import subprocess
import sys

import pytest

from boards_common import assert_same_bytes, mlperf_model, random_inputs, require, require_board
from edgenn.boards import get_board, with_threads
from edgenn.codegen.generate import kernel_prefix_header, templates_dir
from edgenn.codegen.thread_plan import THREADED_OPS, plan_for_threads
from edgenn.emulation import backends
from edgenn.emulation.profile import plugin_path
from edgenn.errors import EdgennError
from edgenn.runtime_py.memory import check_plan, model_regions

POOL_TEST = r"""
#include <pthread.h>
#include <stdio.h>
#include "edgenn_threads.h"

#define ROWS 1001
static int hits[ROWS];
static pthread_t who[ROWS];

static void task(void *ctx, int32_t r0, int32_t r1)
{
    int32_t r;
    (void)ctx;
    for (r = r0; r < r1; r++) {
        __atomic_add_fetch(&hits[r], 1, __ATOMIC_RELAXED);
        who[r] = pthread_self();
    }
}

int main(void)
{
    int job, r, distinct = 1;
    for (job = 0; job < 200; job++) {
        enn_parallel_rows(task, 0, ROWS);
    }
    for (r = 0; r < ROWS; r++) {
        if (hits[r] != 200) {
            printf("row %d ran %d times\n", r, hits[r]);
            return 1;
        }
        if (r > 0 && !pthread_equal(who[r], who[r - 1])) {
            distinct++;
        }
    }
    enn_parallel_rows(task, 0, 3); /* fewer rows than threads: empty shares */
    printf("%d\n", distinct);
    return hits[0] == 201 && hits[2] == 201 && hits[3] == 200 ? 0 : 2;
}
"""


def test_pool_runs_every_row_once_on_all_threads(tmp_path):
    """200 jobs of 1,001 rows and one of 3 (fewer rows than threads): each row exactly once per
    job, and the rows of a job on ENN_THREADS different threads."""
    require("gcc")
    kernels = templates_dir() / "kernels"
    (tmp_path / "edgenn_prefix.h").write_text("")
    (tmp_path / "main.c").write_text(POOL_TEST)
    exe = tmp_path / "pool"
    r = subprocess.run(["gcc", "-std=c99", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror", "-DENN_THREADS=4",
                        "-pthread", f"-I{tmp_path}", f"-I{kernels}", "-fsanitize=thread", "-o", str(exe),
                        str(tmp_path / "main.c"), str(kernels / "edgenn_threads.c")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr[-2000:]
    assert int(run.stdout.split()[-1]) == 4  # four contiguous shares, one per thread


def test_pool_symbols_take_the_model_prefix(tmp_path):
    """Compiled with threads, the pool's one external symbol is renamed by the prefix header, as
    every kernel's (two models' libraries each get their own pool)."""
    require("gcc", "nm")
    kernels = templates_dir() / "kernels"
    headers = [h.read_text() for h in sorted(kernels.glob("*.h"))]
    (tmp_path / "edgenn_prefix.h").write_text(kernel_prefix_header(headers, "kws_"))
    for f in ("edgenn_threads.h", "edgenn_threads.c"):
        (tmp_path / f).write_text((kernels / f).read_text())
    obj = tmp_path / "t.o"
    r = subprocess.run(["gcc", "-std=c99", "-O2", "-DENN_THREADS=2", "-pthread", "-c",
                        str(tmp_path / "edgenn_threads.c"), "-o", str(obj)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    syms = subprocess.run(["nm", "-g", "--defined-only", "-P", str(obj)], capture_output=True, text=True).stdout.split()
    assert "kws_parallel_rows" in syms and not any(s.startswith("enn_") for s in syms)


@pytest.mark.parametrize("key", ["kws", "vww", "ic"])
def test_thread_plan_keeps_convolution_outputs_apart(key):
    """The threaded build's arena: every convolution's output apart from its input, the plan proven
    by the checker every .enn goes through, the rest of the model unchanged."""
    m = mlperf_model(key)
    t = plan_for_threads(m)
    regions, rules = model_regions(t)
    check_plan(regions, [r for r in rules if r.alias or t.ops[r.step].type not in THREADED_OPS], t.arena_bytes)
    apart = 0
    for op in t.ops:
        if op.type in THREADED_OPS:
            i, o = t.tensors[op.inputs[0]], t.tensors[op.outputs[0]]
            assert i.arena_offset + i.nbytes <= o.arena_offset or o.arena_offset + o.nbytes <= i.arena_offset, op.name
            apart += 1
    assert apart > 0 and t.arena_bytes >= m.arena_bytes
    assert [op.type for op in t.ops] == [op.type for op in m.ops]
    assert plan_for_threads(m).arena_bytes == t.arena_bytes  # deterministic


@pytest.mark.qemu
@pytest.mark.parametrize("key,board,threads", [("kws", "rpi4", 4), ("vww", "rpi4", 4), ("ic", "host", 3),
                                               ("kws", "rpi3-32", 2)])
def test_threaded_models_equal_runtime_py(key, board, threads, tmp_path):
    """MLPerf Tiny models built with threads (64-bit Pi under QEMU, the host with an uneven split,
    the 32-bit Pi's NEON) compute the bytes of runtime_py on several inputs."""
    b = with_threads(get_board(board), threads)
    require_board(b)
    m = mlperf_model(key)
    xs = random_inputs(m, 4, seed=5)
    built = backends.build(m, b, tmp_path / "t")
    res = backends.run_raw(built, backends.pack_inputs(m, xs))
    assert_same_bytes(f"{key} on {board} with {threads} threads", backends.run(m, xs, "python"),
                      backends.unpack_outputs(m, res.data, 4))


@pytest.mark.qemu
def test_threads_share_the_work(tmp_path):
    """The counting plugin's per-thread counts (vcpus=1): with 4 threads KWS's work is spread over
    four guest threads, none doing more than a third of the single-thread build's instructions."""
    b1 = get_board("rpi4")
    require_board(b1)
    m = mlperf_model("kws")
    xs = random_inputs(m, 6, seed=1)
    data = backends.pack_inputs(m, xs)
    counts = {}
    for t in (1, 4):
        built = backends.build(m, with_threads(b1, t), tmp_path / f"t{t}")
        out = tmp_path / f"vcpus{t}.txt"
        res = backends.run_raw(built, data, plugin=["-plugin", f"{plugin_path()},out={out},vcpus=1"])
        assert_same_bytes(f"kws, {t} threads", backends.run(m, xs, "python"), backends.unpack_outputs(m, res.data, 6))
        counts[t] = [int(line.split()[2]) for line in out.read_text().splitlines() if line.startswith("vcpu ")]
    assert len(counts[1]) == 1 and len(counts[4]) == 4
    assert max(counts[4]) < counts[1][0] / 3
    assert sum(counts[4]) == pytest.approx(counts[1][0], rel=0.05)  # the same work, little overhead


def test_threads_option_errors(tmp_path):
    """--threads on a microcontroller, 0 or too many: one line each, nothing written."""
    with pytest.raises(EdgennError, match="microcontroller"):
        with_threads(get_board("mps2-an386"), 4)
    for bad in (0, 17):
        with pytest.raises(EdgennError, match="--threads must be"):
            with_threads(get_board("rpi4"), bad)
    assert with_threads(get_board("mps2-an386"), 1) == get_board("mps2-an386")
    enn = tmp_path / "kws.enn"
    from edgenn.format.enn import save

    save(mlperf_model("kws"), enn)
    r = subprocess.run([sys.executable, "-m", "edgenn", "generate", str(enn), "--board", "stm32l4r5zi",
                        "--threads", "2", "-o", str(tmp_path / "out")], capture_output=True, text=True)
    assert r.returncode != 0 and "microcontroller" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "out").exists()
    r = subprocess.run([sys.executable, "-m", "edgenn", "generate", str(enn), "--board", "rpi4",
                        "--threads", "4", "-o", str(tmp_path / "pi")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    make = (tmp_path / "pi" / "Makefile").read_text()
    assert "-DENN_THREADS=4" in make and "-pthread" in make
    lib = tmp_path / "pi" / "lib" / "kws_ref_model"
    assert (lib / "src" / "kernels" / "edgenn_threads.c").exists()
    arena = [ln for ln in (lib / "src" / "kws_ref_model.h").read_text().splitlines()
             if "ARENA_BYTES" in ln and "define" in ln]
    assert arena and str(plan_for_threads(mlperf_model("kws")).arena_bytes) in arena[0]
    assert "-DENN_THREADS=4 -pthread" in (lib / "kws_ref_model.mk").read_text()
    assert "ENN_THREADS=4" in (lib / "CMakeLists.txt").read_text()


def test_deploy_with_threads(tmp_path):
    """`edgenn deploy --threads` packs the threaded sources (prebuilt binaries are test_deploy's)."""
    import tarfile

    from edgenn.format.enn import save

    enn = tmp_path / "kws.enn"
    save(mlperf_model("kws"), enn)
    out = tmp_path / "kws.tar.gz"
    r = subprocess.run([sys.executable, "-m", "edgenn", "deploy", str(enn), "--board", "rpi4", "--threads", "2",
                        "--no-build", "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with tarfile.open(out) as tf:
        names = tf.getnames()
        make = tf.extractfile(next(n for n in names if n.endswith("/Makefile") and n.count("/") == 1)).read().decode()
    assert any(n.endswith("kernels/edgenn_threads.c") for n in names)
    assert "-DENN_THREADS=2" in make
    r = subprocess.run([sys.executable, "-m", "edgenn", "deploy", str(enn), "--board", "nrf52840", "--threads", "2",
                        "-o", str(tmp_path / "x.tar.gz")], capture_output=True, text=True)
    assert r.returncode != 0 and "microcontroller" in r.stderr and not (tmp_path / "x.tar.gz").exists()
