#!/usr/bin/env python3
"""Add an operator: stamp its files from docs/operator_template/ and register it.

    python scripts/new_operator.py NAME [--root DIR] [--no-schema]

Writes format/schema/ops/NAME.fbs, converter/ops/NAME.py, runtime_py/kernels/NAME.py,
templates/kernels/NAME.{h,c}, templates/ops/NAME.c.j2, tests/ops/test_NAME.py and
tests/ops/test_NAME_qemu.py, adds "NAME": <next number> to format/operators.py, and (unless
--no-schema) regenerates the schema code (scripts/gen_schema.py, needs flatc). The new operator
is a working int8 requantizing copy that passes the contract test; then make it compute what it
should. Nothing is written when NAME is invalid or any target exists.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path("docs") / "operator_template"
TARGETS = {
    "options.fbs.tmpl": "format/schema/ops/{op}.fbs",
    "rule.py.tmpl": "converter/ops/{op}.py",
    "kernel.py.tmpl": "runtime_py/kernels/{op}.py",
    "kernel.h.tmpl": "templates/kernels/{op}.h",
    "kernel.c.tmpl": "templates/kernels/{op}.c",
    "call.c.j2.tmpl": "templates/ops/{op}.c.j2",
    "test_op.py.tmpl": "tests/ops/test_{op}.py",
    "test_op_qemu.py.tmpl": "tests/ops/test_{op}_qemu.py",
}
RESERVED = {"common", "__init__"}


def camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


def register(operators_py: Path, name: str) -> int:
    """Add ``"name": N,`` at the end of OPERATORS (N = one more than the largest); returns N."""
    text = operators_py.read_text()
    m = re.search(r"OPERATORS: dict\[str, int\] = \{\n(.*?)\n\}", text, flags=re.S)
    if m is None:
        raise SystemExit(f"{operators_py}: no OPERATORS table found")
    numbers = [int(v) for v in re.findall(r":\s*(\d+),", m.group(1))]
    n = max(numbers, default=-1) + 1
    body = m.group(1) + f'\n    "{name}": {n},'
    operators_py.write_text(text[:m.start(1)] + body + text[m.end(1):])
    return n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", help="the operator's name, snake_case (e.g. resize_bilinear)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the repository to write into")
    ap.add_argument("--no-schema", action="store_true", help="do not run scripts/gen_schema.py")
    args = ap.parse_args()
    name, root = args.name, args.root.resolve()
    if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name) or name in RESERVED:
        raise SystemExit(f"{name!r} is not a valid operator name (snake_case, letters and digits)")
    if re.search(rf'^\s*"{name}":', (root / "format" / "operators.py").read_text(), flags=re.M):
        raise SystemExit(f"operator {name!r} is already registered in format/operators.py")
    subs = {"{{op}}": name, "{{Op}}": camel(name), "{{OP}}": name.upper()}
    files = {}
    for src, dst in TARGETS.items():
        target = root / dst.format(op=name)
        if target.exists():
            raise SystemExit(f"{target.relative_to(root)} exists already")
        text = (root / TEMPLATE / src).read_text()
        for k, v in subs.items():
            text = text.replace(k, v)
        files[target] = text
    for target, text in files.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {target.relative_to(root)}")
    n = register(root / "format" / "operators.py", name)
    print(f"registered {name!r} as OpType {n} in format/operators.py")
    if not args.no_schema:
        subprocess.run([sys.executable, str(root / "scripts" / "gen_schema.py")], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
