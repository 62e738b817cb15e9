"""The Raspberry Pi anchor: LiteRT's int8 path (XNNPACK) and edgenn on the MLPerf Tiny models,
under the same instruction counter on an emulated Cortex-A72 (qemu-aarch64 -cpu cortex-a72).

    python bench/litert_pi.py [--models kws,vww,ic,ad] [--runs 3] [--write]

LiteRT runs in Debian's arm64 python3.11 + numpy (the sysroot `make setup` unpacks for the Pi
tests) from the ai-edge-litert aarch64 wheel, downloaded once from PyPI into the cache. Its
instructions per inference are the difference between a process that invokes the model
1 + RUNS times and one that invokes it once (so start-up, model loading and XNNPACK's weight
packing on the first invoke cancel out), divided by RUNS. edgenn's are the rpi4 runner's counts
between its markers (emulation/profile.py), as in bench/instructions.py. Single thread for both.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import MLPERF, MLPERF_DIR, convert_mlperf, md_table, write_section  # noqa: E402

from edgenn.boards import get_board  # noqa: E402
from edgenn.emulation.profile import cache_dir, process_instructions, profile  # noqa: E402
from edgenn.runtime_py import dataio  # noqa: E402

#: The manylinux tags Debian 12's glibc (2.36) loads.
PLATFORMS = [f"manylinux_2_{v}_aarch64" for v in (17, 24, 27, 28, 31, 34, 35, 36)]
#: 1.4.0: ai-edge-litert 2.3.0's aarch64 wheel stops with SIGSEGV under qemu-aarch64 -cpu cortex-a72.
LITERT = "ai-edge-litert==1.4.0"

RUNNER = r"""
import sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter
model, x_file, out_file, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
it = Interpreter(model_path=model, num_threads=1)
it.allocate_tensors()
d = it.get_input_details()[0]
it.set_tensor(d["index"], np.load(x_file).reshape(d["shape"]).astype(d["dtype"]))
for _ in range(1 + runs):
    it.invoke()
np.save(out_file, it.get_tensor(it.get_output_details()[0]["index"]))
"""


def litert_site() -> tuple[Path, str]:
    """The unpacked ai-edge-litert aarch64 wheel (downloaded once) and its version."""
    base = cache_dir() / "litert-aarch64"
    pattern = f"ai_edge_litert-{LITERT.split('==')[1]}-*.whl"
    wheels = sorted(base.glob(pattern))
    if not wheels:
        base.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                        *[a for p in PLATFORMS for a in ("--platform", p)], "--python-version", "3.11",
                        "-d", str(base), LITERT], check=True)
        wheels = sorted(base.glob(pattern))
    wheel = wheels[-1]
    site = base / wheel.stem
    if not (site / "ai_edge_litert").is_dir():
        with zipfile.ZipFile(wheel) as z:
            z.extractall(site)
    return site, wheel.name.split("-")[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="kws,vww,ic,ad")
    ap.add_argument("--runs", type=int, default=10, help="invocations counted after the first")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()
    sysroot = cache_dir() / "pi-python" / "arm64"
    if not (sysroot / "usr" / "bin" / "python3.11").exists():
        raise SystemExit(f"no arm64 Python in {sysroot}: run `make setup`")
    site, version = litert_site()
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgenn-litert-") as tmp:
        t = Path(tmp)
        (t / "runner.py").write_text(RUNNER)
        # A fixed hash seed: the two runs must differ only by the invocations.
        env = dict(os.environ, PYTHONPATH=str(site), QEMU_LD_PREFIX=str(sysroot), PYTHONHASHSEED="0")
        for key in [k.strip().upper() for k in args.models.split(",") if k.strip()]:
            m = convert_mlperf(key)
            x = dataio.random_values(np.random.default_rng(0), "int8",
                                     (1,) + tuple(m.tensors[m.inputs[0].tensor].shape))
            np.save(t / "x.npy", x)
            path = MLPERF_DIR / MLPERF[key]

            def litert(runs: int) -> int:
                return process_instructions(["qemu-aarch64", "-cpu", "cortex-a72",
                                             str(sysroot / "usr" / "bin" / "python3.11"), str(t / "runner.py"),
                                             str(path), str(t / "x.npy"), str(t / "y.npy"), str(runs)], env=env)

            per_inference = (litert(args.runs) - litert(0)) / args.runs
            y_litert = np.load(t / "y.npy")
            p = profile(m, [x], "rpi4", layers=False)
            diff = np.abs(y_litert.astype(np.int32).ravel() - p["outputs"][0].astype(np.int32).ravel())
            rows.append([key, f"{p['instructions']:,}", f"{per_inference:,.0f}",
                         f"{p['instructions'] / per_inference:.2f}", f"{int(diff.max())} ({int((diff > 0).sum())} of {diff.size})"])
            print(rows[-1], file=sys.stderr)
    text = (f"### Raspberry Pi anchor: LiteRT {version} (XNNPACK, int8) on the emulated Cortex-A72\n\n"
            "`python bench/litert_pi.py --write`.\n\n"
            + md_table(["model", "edgenn instructions", "LiteRT instructions", "edgenn / LiteRT",
                        "output difference, max (count)"], rows)
            + "\n\nBoth under qemu-aarch64 -cpu cortex-a72 with edgenn's counting plugin, one thread, one random "
            "int8 input (seed 0). LiteRT: the ai-edge-litert aarch64 wheel in Debian's arm64 python3.11; its count "
            f"is the difference between {1 + args.runs} invocations and 1, over {args.runs} (start-up, loading and "
            "XNNPACK's weight packing excluded; run to run, the process varies by a few thousand instructions even "
            "without address randomization, i.e. a few hundred per inference). edgenn: the generated C for rpi4 "
            f"({get_board('rpi4').opt}), between its markers. "
            "XNNPACK's int8 kernels requantize differently from TFLM (edgenn's outputs are TFLM's), hence the "
            "differences in the last column, in output units.")
    print(text)
    if args.write:
        write_section("litert_pi", text)


if __name__ == "__main__":
    main()
