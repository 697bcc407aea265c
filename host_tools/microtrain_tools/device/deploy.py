# SPDX-License-Identifier: MIT
"""Copy a packed dist/ folder (`microtrain pack`) to a board through its raw REPL."""

import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..mpy.arches import ARCHES, arch_by_code
from ..errors import MicrotrainError
from ..mpy.reader import read_mpy
from ..bundle.romfs import ROMFS_IMAGE
from .link import DEFAULT_CHUNK, DeviceLink, PutResult, remote_join

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
    skipped = {s.name for s in build_outputs(root)} | {ROMFS_IMAGE}  # deploy --romfs sends it
    files = sorted(p.relative_to(root) for p in root.rglob("*")
                   if p.is_file() and p.relative_to(root).parts[0] not in skipped)
    if not files:
        raise MicrotrainError(f"{root}: empty folder, nothing to deploy")
    return files


THUMB_FIRST, THUMB_LAST = 4, 8  # armv6m .. armv7emdp: a Thumb runtime takes older Thumb code


def board_arch_code(repl: DeviceLink):
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
        if rel.name == MODULE_FILE:
            check_module_bytes(rel.as_posix(), (root / rel).read_bytes(), board_arch)


def check_module_bytes(name: str, data: bytes, board_arch) -> None:
    try:
        mpy = read_mpy(data)
    except MicrotrainError as err:
        raise MicrotrainError(f"deploy: {name} is damaged: {err}") from None
    if board_arch is not None and not loadable(mpy.arch_code, board_arch):
        board = arch_by_code(board_arch)
        raise MicrotrainError(
            f"deploy: {name} is built for {mpy.arch} but the board runs "
            f"{board.name if board else f'arch {board_arch}'} firmware: pack for the "
            "board's arch (microtrain pack --board ...)")


def _rate(size: int, seconds: float) -> str:
    rate = size / seconds if seconds > 0 else 0.0
    return f"{rate / 1024:.1f} KB/s" if rate >= 1024 else f"{rate:.0f} B/s"


def deploy_folder(repl: DeviceLink, dist_dir, *, target: str = "", chunk_size: int = DEFAULT_CHUNK,
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


ROM_CHUNK = 4096  # image bytes per write command (base64 on the wire)


def _rom_partition(repl: DeviceLink, partition: int) -> tuple[bool, int, int]:
    """(block-device object?, size, erase block size) of the board's ROMFS partition."""
    repl.exec("import vfs")
    if not repl.eval("hasattr(vfs, 'rom_ioctl')"):
        raise MicrotrainError("deploy --romfs: the board's firmware has no ROMFS (vfs.rom_ioctl;"
                              " MicroPython 1.25+ built with MICROPY_VFS_ROM): deploy the "
                              "files instead (microtrain deploy without --romfs)")
    repl.exec(f"_mt_dev = vfs.rom_ioctl(2, {partition})")
    if repl.eval("isinstance(_mt_dev, int)"):
        raise MicrotrainError(f"deploy --romfs: the board has no ROMFS partition {partition}")
    if repl.eval("hasattr(_mt_dev, 'ioctl')"):
        block = repl.eval("_mt_dev.ioctl(5, 0)")
        return True, repl.eval("_mt_dev.ioctl(4, 0)") * block, block
    size = repl.eval("len(_mt_dev)")
    block = repl.eval(f"vfs.rom_ioctl(6, {partition})")
    return False, size, block if block > 0 else size


def deploy_romfs(repl: DeviceLink, image: bytes, *, partition: int = 0, log=print,
                 progress=None) -> float:
    """Write a ROMFS image (romfs.img from `microtrain pack --romfs`) into the board's ROMFS
    partition with the firmware's vfs.rom_ioctl (the protocol `mpremote romfs deploy` uses),
    check it by CRC32 where the partition is memory-mapped, and mount it at /rom.
    Returns the seconds taken."""
    import base64

    from ..bundle.romfs import read_image

    start = time.monotonic()
    # A damaged image, or one with a module the board cannot load, is refused before the
    # board's flash is erased.
    for f in read_image(image):
        if f.path.rsplit("/", 1)[-1] == MODULE_FILE:
            check_module_bytes(f.path, image[f.offset:f.offset + f.size], board_arch_code(repl))
    is_object, size, block = _rom_partition(repl, partition)
    if len(image) > size:
        raise MicrotrainError(f"deploy --romfs: the image has {len(image)} bytes but ROMFS "
                              f"partition {partition} holds {size}")
    log(f"deploy --romfs: {len(image)} bytes -> partition {partition} ({size} bytes) of "
        f"{repl.name}")
    repl.exec("import binascii\ntry:\n    vfs.umount('/rom')\nexcept OSError:\n    pass")
    chunk = ROM_CHUNK
    if is_object:
        for offset in range(0, len(image), block):
            repl.exec(f"_mt_dev.ioctl(6, {offset // block})")  # erase the block
        chunk = min(chunk, block)
    else:
        min_write = repl.eval(f"vfs.rom_ioctl(3, {partition}, {len(image)})", timeout=60)
        if not isinstance(min_write, int) or min_write < 0:
            raise MicrotrainError(f"deploy --romfs: the board refused to erase the partition "
                                  f"({min_write})")
        chunk = max(chunk, min_write)
    for offset in range(0, len(image), chunk):
        part = image[offset:offset + chunk]
        part += bytes(-len(part) % chunk)
        data = base64.b64encode(part).decode("ascii")
        if is_object:
            repl.exec(f"_mt_dev.writeblocks({offset // block}, binascii.a2b_base64('{data}'), "
                      f"{offset % block})")
        else:
            repl.exec(f"vfs.rom_ioctl(4, {partition}, {offset}, "
                      f"binascii.a2b_base64('{data}'))")
        if progress:
            progress(min(offset + chunk, len(image)), len(image))
    if not is_object:
        repl.eval(f"vfs.rom_ioctl(5, {partition})")
        crc = repl.eval(f"binascii.crc32(_mt_dev[:{len(image)}]) "
                        "if hasattr(binascii, 'crc32') else None")
        if crc is not None and crc != zlib.crc32(image):
            raise MicrotrainError(f"deploy --romfs: the partition reads back CRC32 {crc:#010x}, "
                                  f"the image has {zlib.crc32(image):#010x}: deploy again")
        repl.exec("vfs.mount(vfs.VfsRom(_mt_dev), '/rom')")
        log("  written, " + ("CRC32 checked, " if crc is not None else "") + "mounted at /rom")
    else:
        log("  written; soft-reset the board to mount it at /rom")
    repl.exec("del _mt_dev")
    return time.monotonic() - start
