"""Threads on the 64-bit Pi: how a model's work splits over `edgenn generate --threads N`.

    python bench/threads.py [--board rpi4] [--threads 4] [--models kws,vww,ic,ad] [--write]

QEMU's user mode runs each guest thread as a vCPU; the counting plugin's vcpus=1 mode counts the
instructions of each. Per inference: the difference between a run of 1 + RUNS inputs and one of 1,
over RUNS (start-up and loading cancel out). The single-thread build's count is the work; with N
threads, the calling thread's count (its shares plus everything that stays serial) bounds the time
from below on N free cores, and the sum over threads shows the pool's overhead. An estimate of the
parallel speed-up from instructions, not a measured time (this machine has 2 cores, and QEMU's
threads do not run at a Pi's relative speeds). Outputs are checked byte for byte against runtime_py.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MLPERF, convert_mlperf, md_table, write_section  # noqa: E402

from edgenn.boards import get_board, with_threads  # noqa: E402
from edgenn.codegen.thread_plan import plan_for_threads  # noqa: E402
from edgenn.emulation import backends as be  # noqa: E402
from edgenn.emulation.profile import default_inputs, plugin_path  # noqa: E402
from edgenn.runtime_py.interpreter import Interpreter  # noqa: E402

RUNS = 10


def per_vcpu(built, data: bytes, model, n: int, tmp: Path) -> list[int]:
    """Instructions of each guest thread of the runner on ``n`` packed inputs, outputs checked."""
    out = tmp / "vcpus.txt"
    res = be.run_raw(built, data, plugin=["-plugin", f"{plugin_path()},out={out},vcpus=1"])
    counts = [int(line.split()[2]) for line in out.read_text().splitlines() if line.startswith("vcpu ")]
    out.unlink()
    return counts, be.unpack_outputs(model, res.data, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", default="rpi4")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--models", default="kws,vww,ic,ad")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    rows = []
    for key in [k.strip().upper() for k in args.models.split(",") if k.strip()]:
        if key not in MLPERF:
            ap.error(f"unknown model {key!r}")
        m = convert_mlperf(key)
        xs = default_inputs(m, 1 + RUNS)
        want = Interpreter(m).invoke(*xs)
        one = be.pack_inputs(m, [x[:1] for x in xs])
        many = be.pack_inputs(m, xs)
        per = {}
        with tempfile.TemporaryDirectory() as tmp:
            for t in (1, args.threads):
                b = with_threads(get_board(args.board), t)
                built = be.build(m, b, Path(tmp) / f"t{t}")
                c1, _ = per_vcpu(built, one, m, 1, Path(tmp))
                cn, got = per_vcpu(built, many, m, 1 + RUNS, Path(tmp))
                if any(w.tobytes() != g.tobytes() for w, g in zip(want, got)):
                    raise SystemExit(f"{key}: {t} threads computed other bytes than runtime_py")
                c1 += [0] * (len(cn) - len(c1))
                per[t] = [(b_ - a) / RUNS for a, b_ in zip(c1, cn)]
        single = per[1][0]
        multi = per[args.threads]
        rows.append([key, f"{single:,.0f}", f"{multi[0]:,.0f}", f"{max(multi[1:], default=0):,.0f}",
                     f"{sum(multi):,.0f}", f"{single / max(multi):.2f}", f"{m.arena_bytes:,}",
                     f"{plan_for_threads(m).arena_bytes:,}"])
        print(rows[-1], file=sys.stderr)
    n = args.threads
    table = md_table(["model", "1 thread: instructions", f"{n} threads: calling thread", "busiest worker",
                      "all threads", "speed-up bound (1 thread / busiest)", "arena B", f"arena B, {n} threads"], rows)
    text = (f"### Threads on the emulated {get_board(args.board).core} (`--threads {n}`)\n\n"
            f"`python bench/threads.py --write`.\n\n{table}\n\n"
            "Instructions per inference of each guest thread (qemu-aarch64, the counting plugin's vcpus=1 mode; the "
            f"difference between runs of {1 + RUNS} and 1 inputs, over {RUNS}); outputs byte-identical to runtime_py. "
            "Convolutions and depthwise convolutions of at least 65,536 MACs run by rows on the threads; everything "
            "else stays on the calling thread. A threaded build re-plans the arena without the convolutions' in-place "
            "overlaps (codegen/thread_plan.py: rows written by one thread must not overwrite inputs another still "
            "reads), hence its larger arena. The speed-up column is what the split allows on free cores, from "
            "instruction counts, not a measured time.")
    print(text)
    if args.write:
        write_section("threads", text)


if __name__ == "__main__":
    main()
