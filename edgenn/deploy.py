"""`edgenn deploy`: a ready-to-use package of a model for a board, as one .tar.gz.

The archive holds one folder, ``<name>/``: the generated project (the drop-in library
``lib/<name>/``, the test application ``test_app/``, Makefile, CMakeLists.txt, toolchain file,
README.md and, for Linux boards, the Python binding ``<name>.py``) and ``bin/`` with binaries
cross-compiled here:

- Linux boards (Raspberry Pi): ``lib<name>.so`` (for the binding), ``runner`` (static) and
  ``lib<name>.a``;
- bare-metal boards: ``lib<name>.a`` and the test firmware (``firmware.elf``, plus
  ``firmware-qemu.elf`` for a product emulated by another machine's memory map).

With ``host`` the archive is copied there with ``scp`` (``user@pi`` or ``user@pi:dir``); nothing
is run on the remote side.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from edgenn.boards import Board, get_board
from edgenn.codegen.generate import MARKER, render_model
from edgenn.errors import EdgennError, FitError, ToolchainError
from edgenn.format import enn

#: Time limit of the copy to the board.
SCP_TIMEOUT = 300


def binaries(board: Board, name: str) -> list[str]:
    """Files ``deploy`` prebuilds for ``board`` (Makefile targets)."""
    if board.kind == "baremetal":
        res = [f"lib{name}.a", "firmware.elf"]
        if board.separate_emu_firmware:
            res.append(board.emu_firmware)
        return res
    return [f"lib{name}.a", f"lib{name}.so", "runner"]


def _tar(src: Path, arcname: str, out: Path) -> None:
    """A gzip'ed tar of ``src`` as ``arcname/``: sorted, owner-neutral, written atomically."""
    def clean(ti: tarfile.TarInfo) -> tarfile.TarInfo:
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        if ti.isdir():
            ti.mode = 0o755
        return ti

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f, tarfile.open(fileobj=f, mode="w:gz") as tar:
            for p in [src] + sorted(q for q in src.rglob("*") if q.name != MARKER):
                tar.add(p, arcname=str(Path(arcname) / p.relative_to(src)), recursive=False, filter=clean)
        os.replace(tmp, out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def scp(archive: Path, host: str) -> str:
    """Copy ``archive`` to ``host`` (user@host or user@host:dir) with scp; returns the destination."""
    if not host or host.startswith("-") or any(c.isspace() for c in host):
        raise EdgennError(f"--host {host!r}: expected user@host or user@host:directory")
    dest = host if ":" in host else host + ":"
    exe = shutil.which("scp")
    if exe is None:
        raise ToolchainError("scp not found: install openssh-client to copy the package (or copy it yourself)")
    cmd = [exe, "-q", "-o", "BatchMode=yes", "-o", "ConnectTimeout=20", str(archive), dest]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=SCP_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise EdgennError(f"copying {archive.name} to {dest} took more than {SCP_TIMEOUT} s") from None
    if r.returncode != 0:
        why = (r.stderr.strip().splitlines() or [f"status {r.returncode}"])[-1]
        raise EdgennError(f"copying {archive.name} to {dest} with scp failed: {why}")
    return dest


def deploy(enn_path: str | os.PathLike, board: str | Board, output: str | os.PathLike, name: str | None = None,
           host: str | None = None, build: bool = True, command: str = "") -> dict[str, Any]:
    """Write the package for ``board`` to ``output`` (.tar.gz); copy it to ``host`` if given."""
    from edgenn.emulation.backends import require_tool, make

    b = get_board(board) if isinstance(board, str) else board
    model = enn.load(enn_path)
    if name:
        model.name = name
    out = Path(output)
    if out.is_dir():
        raise EdgennError(f"{out} is a directory; give the .tar.gz file to write")
    if not (out.name.endswith(".tar.gz") or out.name.endswith(".tgz")):
        raise EdgennError(f"{out}: the package is a .tar.gz (or .tgz) file")
    import hashlib

    sha = hashlib.sha256(Path(enn_path).read_bytes()).hexdigest()
    command = command or f"edgenn deploy --board {b.name}"
    prebuilt = binaries(b, model.name) if build else []
    ctx = {"prebuilt": prebuilt, "archive_name": out.name}
    with tempfile.TemporaryDirectory(prefix="edgenn-deploy-") as tmp:
        work = Path(tmp)
        pkg = work / "pkg" / model.name
        render_model(model, pkg, b, command=command, sha256=sha, context=ctx)
        if build:
            require_tool(b.cc, f"install {b.cc} (make setup), or use --no-build for sources only")
            bld = work / "build" / model.name
            render_model(model, bld, b, command=command, sha256=sha, context=ctx)
            try:
                make(bld, prebuilt)
            except FitError as e:
                from edgenn.fit import overflow_error

                raise overflow_error(model, b, e) from None
            (pkg / "bin").mkdir()
            for target in prebuilt:
                shutil.copy2(bld / target, pkg / "bin" / target)
        _tar(pkg, model.name, out)
    res: dict[str, Any] = {"archive": str(out), "bytes": out.stat().st_size, "board": b.name,
                           "name": model.name, "prebuilt": [f"bin/{p}" for p in prebuilt]}
    if host:
        res["copied_to"] = scp(out, host)
    return res


def list_archive(path: str | os.PathLike) -> list[str]:
    """Names in a package (for tests and `tar tzf`-like checks)."""
    with tarfile.open(path, "r:gz") as tar:
        return tar.getnames()


__all__ = ["deploy", "scp", "binaries", "list_archive"]
