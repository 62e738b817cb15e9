#!/usr/bin/env python3
"""Coverage-guided fuzzing (atheris, libFuzzer) of edgenn's readers of untrusted files.

    python tests/fuzz/run.py TARGET [--seconds S] [--runs N] [--seed K] [--work DIR]

TARGET is one of enn, tflite, onnx, npy (tests/fuzz/targets.py). The seeds are
tests/fuzz/corpus/<TARGET>/ (real files) plus tests/fuzz/regressions/<TARGET>/ (inputs that once
crashed a reader); new interesting inputs go to --work (a temporary folder by default), crashing
inputs to <work>/crash-*. libFuzzer's -rss_limit_mb and -timeout make an unbounded allocation or
a hang a failure too. Exit status 0: no crash, no hang, no out-of-memory.

The CI run (tests/test_fuzz.py) gives each target a few seconds; the long run that docs/fuzzing.md
reports is `--runs 1000000` per target.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
RSS_LIMIT_MB = 2048
# Pure-Python parsers a target goes through besides edgenn's own code, instrumented too so that
# the fuzzer sees their branches (numpy's .npy header parser, the generated TFLite schema reader).
INSTRUMENT = {"npy": ["numpy.lib.format"], "tflite": ["tflite"], "enn": [], "onnx": []}
TIMEOUT_S = 20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", choices=["enn", "tflite", "onnx", "npy"])
    ap.add_argument("--seconds", type=int, default=None, help="stop after this many seconds")
    ap.add_argument("--runs", type=int, default=None, help="stop after this many executions")
    ap.add_argument("--work", type=Path, default=None, help="corpus folder for new inputs and crashes")
    ap.add_argument("--seed", type=int, default=0, help="libFuzzer's random seed (0: a new one each run)")
    args = ap.parse_args()

    import atheris

    with atheris.instrument_imports(include=["edgenn"] + INSTRUMENT[args.target]):
        import targets  # noqa: F401  (instrumented: edgenn's readers)
        from targets import TARGETS
        import edgenn.converter.onnx_import  # noqa: F401
        import edgenn.converter.tflite_import  # noqa: F401
        import edgenn.format.enn  # noqa: F401
        import edgenn.runtime_py.dataio  # noqa: F401
        import edgenn.runtime_py.interpreter  # noqa: F401
        import numpy.lib.format  # noqa: F401
        import tflite.Model  # noqa: F401
    fn = TARGETS[args.target]

    def one(data: bytes) -> None:
        fn(bytes(data))

    work = args.work or Path(tempfile.mkdtemp(prefix=f"edgenn-fuzz-{args.target}-"))
    work.mkdir(parents=True, exist_ok=True)
    seeds = work / "seeds"
    seeds.mkdir(exist_ok=True)
    for d in (HERE / "corpus" / args.target, HERE / "regressions" / args.target):
        for f in sorted(d.glob("*")) if d.exists() else []:
            shutil.copy(f, seeds / f.name)
    # libFuzzer's RSS limit compares the process's peak RSS, which Linux carries over from the parent
    # across fork + exec (a test worker that once held 2 GB would make every input an "oom"): the
    # limit is RSS_LIMIT_MB above the peak this process starts with.
    inherited_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    flags = [sys.argv[0], str(seeds), f"-rss_limit_mb={RSS_LIMIT_MB + inherited_mb}", f"-timeout={TIMEOUT_S}",
             f"-artifact_prefix={work}/", "-print_final_stats=1"]
    if args.seconds:
        flags.append(f"-max_total_time={args.seconds}")
    if args.runs:
        flags.append(f"-runs={args.runs}")
    if args.seed:
        flags.append(f"-seed={args.seed}")
    atheris.Setup(flags, one)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main())
