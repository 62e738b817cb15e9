"""A copy of this repository in a temporary folder, and Python run against the copy's own edgenn
(not the installed one), for tests that change the tree: the operator contract on a damaged copy,
a new operator stamped from the template."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Makes ``import edgenn`` load the package from ROOT (argv[1]) in the layout of pyproject's
# package-dir mapping (edgenn.converter = converter/, ...), bypassing the installed editable finder.
BOOTSTRAP = r"""
import importlib.util, sys
root = sys.argv.pop(1)
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")]
spec = importlib.util.spec_from_file_location("edgenn", root + "/edgenn/__init__.py",
                                              submodule_search_locations=[root + "/edgenn", root])
mod = importlib.util.module_from_spec(spec)
sys.modules["edgenn"] = mod
spec.loader.exec_module(mod)
if "edgenn.templates" not in sys.modules:
    import edgenn.templates, edgenn.boards  # noqa: E401  (package data folders)
sys.argv = sys.argv[1:] or [""]
code = sys.argv[0]
sys.argv = sys.argv[1:]
exec(compile(code, "<repo-copy>", "exec"), {"__name__": "__main__"})
"""


def copy_repo(dst: Path) -> Path:
    """Copy the files git knows (tracked and untracked, not ignored) into ``dst``."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = ROOT / f
        if src.is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / f)
    return dst


def run_in(root: Path, code: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run Python ``code`` (sys.argv = args) with ``root``'s edgenn, from ``root``."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-c", BOOTSTRAP, str(root), code, *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout)
