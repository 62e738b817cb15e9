"""The operator contract, checked: every operator of format/operators.py has every piece, and
every piece belongs to an operator.

    python tests/operator_contract.py      # prints each problem, exits 1 if there is one

``problems(root)`` names the missing or malformed piece (file, function, trait) for each operator.
It imports the operator modules through the ``edgenn`` package, so run it with the ``edgenn`` of
``root`` on the path (tests/repo_copy.py does that for a copy of the repository).
"""
from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Per-operator files; {op} is the operator's name.
FILES = {
    "options table": "format/schema/ops/{op}.fbs",
    "quantization rule": "converter/ops/{op}.py",
    "numpy kernel": "runtime_py/kernels/{op}.py",
    "C kernel header": "templates/kernels/{op}.h",
    "C kernel": "templates/kernels/{op}.c",
    "call template": "templates/ops/{op}.c.j2",
    "op test (Python == C)": "tests/ops/test_{op}.py",
    "op test on emulated boards": "tests/ops/test_{op}_qemu.py",
}
# Files in those folders that are shared, not an operator's.
SHARED = {
    "converter/ops": {"__init__.py", "common.py"},
    "runtime_py/kernels": {"__init__.py", "common.py"},
    "templates/kernels": {"edgenn_fixedpoint.h", "edgenn_simd.h", "edgenn_neon.h", "edgenn_window.h", "edgenn_broadcast.h", "edgenn_copy.h", "edgenn_arith.h",
                          "edgenn_recurrent.h", "edgenn_reduce.h", "edgenn_types.h", "edgenn_prefix.h", "edgenn_decode.h",
                          "edgenn_decode.c", "edgenn_threads.h", "edgenn_threads.c"},
    "templates/ops": set(),
    "format/schema/ops": set(),
}
MIN_RANDOM_CASES = 200
# Every numpy kernel declares check(op, model): what its kernels need of a loaded model beyond the
# arity its TRAITS state (runtime_py/kernels/__init__.py check_op).


def _operators(root: Path) -> dict[str, int]:
    tree = ast.parse((root / "format" / "operators.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "OPERATORS":
            return ast.literal_eval(node.value)
    return {}


def _file_problems(root: Path, ops: dict[str, int]) -> list[str]:
    out = []
    for op in ops:
        for what, pattern in FILES.items():
            if not (root / pattern.format(op=op)).is_file():
                out.append(f"{op}: no {what} ({pattern.format(op=op)})")
    for folder, shared in SHARED.items():
        for p in sorted((root / folder).glob("*")):
            if p.name in shared or p.name.startswith(".") or p.name == "__pycache__":
                continue
            stem = p.name.split(".")[0]
            if stem not in ops:
                out.append(f"{folder}/{p.name} belongs to no operator of format/operators.py")
    for p in sorted((root / "tests" / "ops").glob("test_*.py")):
        stem = p.stem[len("test_"):]
        stem = stem[: -len("_qemu")] if stem.endswith("_qemu") else stem
        if stem not in ops and stem not in ("requant", "softmax_fixedpoint"):
            out.append(f"tests/ops/{p.name} belongs to no operator of format/operators.py")
    return out


def _schema_problems(root: Path, ops: dict[str, int]) -> list[str]:
    out = []
    r = subprocess.run([sys.executable, str(root / "scripts" / "gen_schema.py"), "--check"], capture_output=True,
                       text=True)
    if r.returncode != 0:
        out.append(f"format/schema/operators.fbs is not generated from format/operators.py and ops/*.fbs: "
                   f"{(r.stderr or r.stdout).strip().splitlines()[-1] if (r.stderr or r.stdout).strip() else ''} "
                   "(run make schema)")
    optype = root / "format" / "schema" / "fb" / "OpType.py"
    have = dict(re.findall(r"^\s+(\w+) = (\d+)$", optype.read_text(), flags=re.M)) if optype.exists() else {}
    for op, n in ops.items():
        if have.get(op.upper()) != str(n):
            out.append(f"{op}: the generated OpType has {op.upper()} = {have.get(op.upper())}, the registry {n} "
                       "(run make schema)")
    for op in ops:
        fbs = root / "format" / "schema" / "ops" / f"{op}.fbs"
        tables = re.findall(r"^\s*table\s+(\w+)", fbs.read_text(), flags=re.M) if fbs.exists() else []
        if len(tables) == 1 and not (root / "format" / "schema" / "fb" / f"{tables[0]}.py").exists():
            out.append(f"{op}: no generated code for {tables[0]} (run make schema)")
    return out


def _module_problems(ops: dict[str, int]) -> list[str]:
    from edgenn.converter.ops import check_traits as rule_traits_problems
    from edgenn.runtime_py.kernels import check_traits as kernel_traits_problems

    out = []
    claimed: dict[tuple[str, str], str] = {}
    for op in ops:
        try:
            rule = importlib.import_module(f"edgenn.converter.ops.{op}")
        except Exception as e:  # noqa: BLE001 - a broken module is a problem to report
            out.append(f"{op}: converter/ops/{op}.py does not import ({type(e).__name__}: {e})")
            rule = None
        if rule is not None:
            for fn in ("prepare", "float_run"):
                if not callable(getattr(rule, fn, None)):
                    out.append(f"{op}: converter/ops/{op}.py has no {fn}()")
            t = getattr(rule, "TRAITS", None)
            if t is None:
                out.append(f"{op}: converter/ops/{op}.py declares no TRAITS (RuleTraits)")
            else:
                out += rule_traits_problems(op, t)
                if getattr(t, "output_quant", None) == "fixed" and not callable(getattr(rule, "fixed_output_qparams", None)):
                    out.append(f"{op}: output_quant is 'fixed' but there is no fixed_output_qparams()")
                if getattr(t, "weight_axis", None) is not None:
                    for fn in ("quantize_constants", "mean_output"):
                        if not callable(getattr(rule, fn, None)):
                            out.append(f"{op}: weighted (weight_axis {t.weight_axis}) but no {fn}()")
                if getattr(t, "channels", None) == "dense" and not callable(getattr(rule, "design_rows", None)):
                    out.append(f"{op}: channels 'dense' but no design_rows()")
                if hasattr(rule, "keeps_channels") and getattr(t, "channels", None) != "elementwise":
                    out.append(f"{op}: keeps_channels() refines only channels 'elementwise'")
            for table in ("ONNX", "TFLITE"):
                handlers = getattr(rule, table, None)
                if not isinstance(handlers, dict):
                    out.append(f"{op}: converter/ops/{op}.py has no {table} handler table (a dict, maybe empty)")
                    continue
                for src, fn in handlers.items():
                    if not callable(fn):
                        out.append(f"{op}: {table} handler of {src} is not callable")
                    if (table, src) in claimed:
                        out.append(f"{op}: {table} operator {src} is also handled by {claimed[(table, src)]}")
                    claimed[(table, src)] = op
        try:
            kern = importlib.import_module(f"edgenn.runtime_py.kernels.{op}")
        except Exception as e:  # noqa: BLE001
            out.append(f"{op}: runtime_py/kernels/{op}.py does not import ({type(e).__name__}: {e})")
            continue
        if not callable(getattr(kern, "run", None)):
            out.append(f"{op}: runtime_py/kernels/{op}.py has no run()")
        if not callable(getattr(kern, "check", None)):
            out.append(f"{op}: runtime_py/kernels/{op}.py has no check(op, model) (load-time shape and option checks)")
        t = getattr(kern, "TRAITS", None)
        if t is None:
            out.append(f"{op}: runtime_py/kernels/{op}.py declares no TRAITS (KernelTraits)")
        else:
            out += kernel_traits_problems(op, t)
    return out


def _c_problems(root: Path, ops: dict[str, int]) -> list[str]:
    out = []
    for op in ops:
        h = root / "templates" / "kernels" / f"{op}.h"
        if h.exists() and not re.search(rf"\benn_{op}\s*\(", h.read_text()):
            out.append(f"{op}: templates/kernels/{op}.h declares no function enn_{op}(...)")
        j2 = root / "templates" / "ops" / f"{op}.c.j2"
        if j2.exists() and not re.search(r"\{%-?\s*macro\s+call\(L\)", j2.read_text()):
            out.append(f"{op}: templates/ops/{op}.c.j2 defines no macro call(L)")
    return out


def _test_problems(root: Path, ops: dict[str, int]) -> list[str]:
    out = []
    for op in ops:
        t = root / "tests" / "ops" / f"test_{op}.py"
        if not t.exists():
            continue
        text = t.read_text()
        if "check_cases(" not in text:
            out.append(f"{op}: tests/ops/test_{op}.py runs no cases through harness.check_cases (Python == C)")
        counts = [int(n) for n in re.findall(r"for _ in range\((\d+)\)", text)]
        counts += [int(n) for n in re.findall(r'stats\["cases"\] (?:==|>=) (\d+)', text)]
        if not counts or max(counts) < MIN_RANDOM_CASES:
            out.append(f"{op}: tests/ops/test_{op}.py should run at least {MIN_RANDOM_CASES} random cases "
                       "(and assert the count)")
        q = root / "tests" / "ops" / f"test_{op}_qemu.py"
        if q.exists() and "board=" not in q.read_text():
            out.append(f"{op}: tests/ops/test_{op}_qemu.py runs no cases on a board")
    return out


def problems(root: Path = ROOT) -> list[str]:
    """Every breach of the operator contract in the repository at ``root``."""
    ops = _operators(root)
    if not ops:
        return ["format/operators.py: no OPERATORS table"]
    return (_file_problems(root, ops) + _schema_problems(root, ops) + _module_problems(ops)
            + _c_problems(root, ops) + _test_problems(root, ops))


if __name__ == "__main__":
    found = problems(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT)
    for line in found:
        print(line)
    sys.exit(1 if found else 0)
