"""Fuzzing in CI: every reader of untrusted files (tests/fuzz/targets.py: .enn, .tflite, .onnx,
.npy) runs under atheris (libFuzzer) for a bounded number of executions from the committed seed
corpus, and every input that once crashed a reader (tests/fuzz/regressions/<target>/) is replayed:
each must be refused with an EdgennError or accepted, never raise anything else.

The long run (>= 10^6 executions per reader) is documented in docs/fuzzing.md.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgenn.errors import EdgennError

FUZZ = Path(__file__).resolve().parent / "fuzz"
sys.path.insert(0, str(FUZZ))
from targets import TARGETS  # noqa: E402

# Executions per target in CI (libFuzzer -runs), and a time cap on a busy machine: about a minute in all.
CI_RUNS = {"npy": 20000, "enn": 2000, "onnx": 2000, "tflite": 2000}
CI_SECONDS = 15
CI_SEED = 16  # a fixed libFuzzer seed: a CI failure replays the same mutations
REGRESSIONS = sorted((p.parent.name, p) for p in (FUZZ / "regressions").glob("*/*") if p.is_file())


def _load_exact(target: str):
    """The target's reader without the target's EdgennError catch-all (a seed must be accepted)."""
    if target == "enn":
        from edgenn.format.enn import from_bytes
        from edgenn.runtime_py.interpreter import Interpreter

        return lambda data: Interpreter(from_bytes(data, "<seed>"))
    if target == "tflite":
        from edgenn.converter.tflite_import import convert_tflite_bytes

        return lambda data: convert_tflite_bytes(data, "seed", "<seed>")
    if target == "npy":
        from edgenn.runtime_py.dataio import read_npy

        return lambda data: read_npy(data, "seed", "<seed>")
    return None


def test_targets_cover_every_reader():
    assert set(TARGETS) == {"enn", "tflite", "onnx", "npy"} == set(CI_RUNS)
    for t in TARGETS:
        assert len(list((FUZZ / "corpus" / t).glob("*"))) >= 2, f"seed corpus of {t} is too small"


@pytest.mark.parametrize("target,path", REGRESSIONS, ids=[f"{t}/{p.name}" for t, p in REGRESSIONS])
def test_regression_input_gives_a_clean_error(target, path):
    data = path.read_bytes()
    try:
        TARGETS[target](data)  # an EdgennError is caught inside: anything else escapes and fails here
    except EdgennError as e:  # pragma: no cover - targets catch it; kept for clarity
        assert "\n" not in str(e)


@pytest.mark.parametrize("target", ["enn", "tflite", "npy"])
def test_seed_corpus_is_accepted(target):
    """Seeds are real, valid files: the fuzzer starts from inputs that get past the first checks."""
    read = _load_exact(target)
    for p in sorted((FUZZ / "corpus" / target).glob("*")):
        read(p.read_bytes())


@pytest.mark.slow
@pytest.mark.parametrize("target", list(CI_RUNS))
def test_bounded_fuzz_run_finds_no_crash(target, tmp_path):
    if importlib.util.find_spec("atheris") is None:
        msg = "atheris is not installed (pip install -e '.[test]')"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    work = tmp_path / "work"
    r = subprocess.run([sys.executable, str(FUZZ / "run.py"), target, "--runs", str(CI_RUNS[target]),
                        "--seconds", str(CI_SECONDS), "--seed", str(CI_SEED), "--work", str(work)],
                       capture_output=True, text=True, timeout=CI_SECONDS + 900)  # start-up is slow on a busy machine
    crashes = sorted(p.name for p in work.glob("*") if p.name.startswith(("crash-", "timeout-", "oom-", "leak-")))
    log = r.stdout + r.stderr
    if "Uncaught Python exception" in log:  # the traceback, not libFuzzer's statistics
        log = log[log.index("Uncaught Python exception"):]
    log = log[:4000] + (f"\n(inputs kept in {work})" if crashes else "")
    assert r.returncode == 0 and not crashes, f"fuzzing {target} found {crashes}:\n{log}"
    assert "stat::number_of_executed_units" in r.stdout + r.stderr, log
    executed = int((r.stdout + r.stderr).split("stat::number_of_executed_units:")[1].split()[0])
    assert executed >= 50, f"only {executed} executions of {target}"


def test_structured_onnx_mutations_are_answered():
    """tests/fuzz/onnx_mutate.py: valid models with one field changed, through the whole conversion;
    each converts or is refused with a one-line error (its longer runs: docs/fuzzing.md)."""
    r = subprocess.run([sys.executable, str(FUZZ / "onnx_mutate.py"), "--runs", "150", "--seed", "7"],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "150 cases:" in r.stdout and ", 0 findings" in r.stdout, r.stdout[-2000:]
