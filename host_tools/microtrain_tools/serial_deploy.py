# SPDX-License-Identifier: MIT
"""Copy a packed dist/ folder (`microtrain pack`) to a board through its raw REPL."""

import time
from dataclasses import dataclass
from pathlib import Path

from .arches import ARCHES, arch_by_code
from .errors import MicrotrainError
from .mpy.reader import read_mpy
from .serial_transport import DEFAULT_CHUNK, PutResult, RawRepl, remote_join

MODULE_FILE = "_microtrain.mpy"


@dataclass
class DeployReport:
    files: list[PutResult]
    seconds: float

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def build_outputs(root: Path) -> list[Path]:
    """Top-level <arch>/ folders holding only _microtrain.mpy: where `microtrain natmod build`
    and the packer build the module for each arch, not part of what goes on a board."""
    return sorted(p.relative_to(root) for p in root.iterdir()
                  if p.is_dir() and p.name in ARCHES
                  and [f.name for f in p.iterdir()] == [MODULE_FILE])


def dist_files(dist_dir) -> list[Path]:
    """Every file of the folder (but arch build outputs), relative to it, in a stable order."""
    root = Path(dist_dir)
    if not root.is_dir():
        raise MicrotrainError(f"{root}: not a folder (expected the dist/ of `microtrain pack`)")
    skipped = build_outputs(root)
    files = sorted(p.relative_to(root) for p in root.rglob("*")
                   if p.is_file() and p.relative_to(root).parts[0] not in
                   {s.name for s in skipped})
    if not files:
        raise MicrotrainError(f"{root}: empty folder, nothing to deploy")
    return files


THUMB_FIRST, THUMB_LAST = 4, 8  # armv6m .. armv7emdp: a Thumb runtime takes older Thumb code


def board_arch_code(repl: RawRepl):
    """The .mpy arch code of the board's firmware (sys.implementation._mpy), or None if the
    firmware does not say (no native code support, or an old MicroPython)."""
    value = repl.eval("getattr(__import__('sys').implementation, '_mpy', None)")
    if not isinstance(value, int):
        return None
    return (value >> 10) & 0x0F


def loadable(file_arch: int, board_arch: int) -> bool:
    """The loader's rule: the same arch, or older Thumb code on a Thumb runtime."""
    if THUMB_FIRST <= board_arch <= THUMB_LAST:
        return THUMB_FIRST <= file_arch <= board_arch
    return file_arch == board_arch


def check_native_module(root: Path, files, board_arch) -> None:
    """Refuse, before copying anything, a damaged module or one the board cannot load (a
    wrong-arch or cut .mpy can hang or crash the board's loader instead of raising)."""
    for rel in files:
        if rel.name != MODULE_FILE:
            continue
        try:
            mpy = read_mpy((root / rel).read_bytes())
        except MicrotrainError as err:
            raise MicrotrainError(f"deploy: {rel.as_posix()} is damaged: {err}") from None
        if board_arch is not None and not loadable(mpy.arch_code, board_arch):
            board = arch_by_code(board_arch)
            raise MicrotrainError(
                f"deploy: {rel.as_posix()} is built for {mpy.arch} but the board runs "
                f"{board.name if board else f'arch {board_arch}'} firmware: pack for the "
                "board's arch (microtrain pack --board ...)")


def _rate(size: int, seconds: float) -> str:
    rate = size / seconds if seconds > 0 else 0.0
    return f"{rate / 1024:.1f} KB/s" if rate >= 1024 else f"{rate:.0f} B/s"


def deploy_folder(repl: RawRepl, dist_dir, *, target: str = "", chunk_size: int = DEFAULT_CHUNK,
                  log=print, progress=None) -> DeployReport:
    """Copy every file of dist_dir under `target` on the board ("" = its current folder),
    then check that the board lists each one with the right size.

    progress(name, sent, total), if given, is called after each chunk (for a live display)."""
    root = Path(dist_dir)
    files = dist_files(root)
    check_native_module(root, files, board_arch_code(repl))
    total = sum((root / f).stat().st_size for f in files)
    log(f"deploy: {len(files)} files, {total} bytes -> {repl.name}")
    for folder in build_outputs(root):
        log(f"  (skipped {folder.as_posix()}/: the module built for that arch, not the bundle)")
    start = time.monotonic()
    folders = sorted({f.parent.as_posix() for f in files} - {"."})
    for folder in folders:
        repl.mkdir(remote_join(target, folder))
    width = max(len(f.as_posix()) for f in files)
    results = []
    for rel in files:
        data = (root / rel).read_bytes()
        step = (lambda sent, n, name=rel.as_posix(): progress(name, sent, n)) if progress else None
        result = repl.put_file(data, remote_join(target, rel.as_posix()), chunk_size=chunk_size,
                               progress=step)
        results.append(result)
        log(f"  {rel.as_posix():<{width}}  {result.size:>8} bytes  {result.seconds:6.2f} s  "
            f"{_rate(result.size, result.seconds):>11}" + ("  crc ok" if result.crc_checked
                                                          else ""))
    on_board = repl.list_files(target)
    wrong = [(rel.as_posix(), r.size, on_board.get(rel.as_posix()))
             for rel, r in zip(files, results) if on_board.get(rel.as_posix()) != r.size]
    if wrong:
        detail = ", ".join(f"{p}: {got} bytes on the board, {want} sent" for p, want, got in wrong)
        raise MicrotrainError(f"deploy: size check failed after copying: {detail}")
    seconds = time.monotonic() - start
    log(f"verified {len(files)} file sizes on the board; {total} bytes in {seconds:.2f} s "
        f"({_rate(total, seconds)})")
    return DeployReport(results, seconds)
