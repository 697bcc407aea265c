# SPDX-License-Identifier: MIT
"""Builds the native module `_microtrain` for one arch: compile every C file, link a .mpy.

Sources are every *.c of natmod/{sdk,module,ops,kernels} (others add kernels and ops there, so
nothing is listed by hand). Flags come from `microtrain_tools.mpy.arches`; the libgcc helpers an
arch needs (soft float, division) are linked from the compiler's own libgcc.a.
"""

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from .arches import COMMON_CFLAGS, DEFAULT_OPT, OPT_FLAGS, Arch, build_name, check_opt, get_arch
from .build_cache import cached_file, digest
from ..errors import MicrotrainError
from .llvm_compile import compile_via_llvm
from ..paths import NATMOD_DIR, PACKAGE_DIR

# Compiled in this order; the order of objects does not matter to the linker.
SOURCE_DIRS = ("sdk", "module", "ops", "kernels")
MODULE_NAME = "_microtrain"


@dataclass
class CompileResult:
    source: Path
    object: Path
    warnings: str  # the compiler's stderr of a successful compile ("" when clean)


@dataclass
class BuildResult:
    arch: str
    out_path: Path
    objects: list[Path]
    libs: list[Path]
    warnings: dict[str, str]  # source (relative to natmod/) -> compiler stderr
    link: object  # microtrain_tools.mpy.linker.LinkResult


def natmod_sources(dirs=SOURCE_DIRS) -> list[Path]:
    return [path for d in dirs for path in sorted((NATMOD_DIR / d).glob("*.c"))]


def find_compiler(arch: Arch) -> str:
    """The compiler's path (and llc's, for LLVM arches, checked here), or a MicrotrainError
    that says which package provides it."""
    for tool in (arch.cc, arch.llc, arch.llvm_mc) if arch.llc else (arch.cc,):
        if shutil.which(tool) is None:
            if not arch.package:
                raise MicrotrainError(f"arch {arch.name}: compiler {tool} not found; {arch.note}")
            raise MicrotrainError(
                f"arch {arch.name}: {tool} not found; "
                f"install the Debian packages {arch.package} (apt-get install {arch.package})"
            )
    return shutil.which(arch.cc)


def compile_flags(arch: Arch) -> list[str]:
    return [
        *(f for f in COMMON_CFLAGS if arch.pic or f != "-fpic"),
        *arch.cflags,
        f'-DMT_ARCH_NAME="{arch.name}"',
        f'-DMT_VERSION="{__version__}"',
        f"-DMT_WORD_SIZE={arch.word_size}",
        f"-I{NATMOD_DIR}",
    ]


def object_path(source: Path, build_dir: Path) -> Path:
    # kernels/mt_x.c -> <build_dir>/kernels/mt_x.o: names stay unique across folders.
    rel = source.relative_to(NATMOD_DIR) if source.is_relative_to(NATMOD_DIR) else source
    return build_dir / rel.parent.name / (source.stem + ".o")


def compile_source(arch: Arch, source: Path, obj: Path, extra_flags=()) -> CompileResult:
    cc = find_compiler(arch)
    obj.parent.mkdir(parents=True, exist_ok=True)
    if arch.llc:
        flags = [*compile_flags(arch), *extra_flags]
        warnings = compile_via_llvm(arch, cc, flags, source, obj)
        return CompileResult(source, obj, warnings)
    cmd = [cc, *compile_flags(arch), *extra_flags, "-c", str(source), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise MicrotrainError(
            f"compiling {source} for {arch.name} failed:\n{proc.stderr.strip()}\n"
            f"command: {' '.join(cmd)}"
        )
    return CompileResult(source, obj, proc.stderr.strip())


def libgcc_path(arch: Arch) -> Path:
    """The libgcc.a matching the arch's flags (the multilib for its CPU and float ABI)."""
    cc = find_compiler(arch)
    proc = subprocess.run(
        [cc, *arch.cflags, "-print-libgcc-file-name"], capture_output=True, text=True, check=False
    )
    path = Path(proc.stdout.strip())
    if proc.returncode != 0 or not path.is_file():
        raise MicrotrainError(
            f"arch {arch.name}: {arch.cc} -print-libgcc-file-name gave no libgcc.a "
            f"({proc.stderr.strip() or path}); reinstall {arch.package}"
        )
    return path


def build_module(
    arch_name: str, out_path, *, build_dir=None, extra_cflags=(), externs=None, log=print,
    opt=DEFAULT_OPT,
) -> BuildResult:
    """Compile natmod/ for arch_name into build_dir (default: a temporary folder) and link
    out_path.

    extra_cflags are added after the arch's flags (tests use them for variant builds).
    opt: "size" (-Os, the default) or "speed" (-O2); arches.OPT_FLAGS.
    externs: symbols at fixed addresses outside the module, for xtensa the ESP8266 ROM's
    soft-float and division helpers that Debian's lx106 libgcc lacks (a name -> address
    mapping, or the path of eagle.rom.addr.v6.ld from the ESP8266 SDK).
    log(text) receives one line per step. Raises MicrotrainError (compiler missing, compile
    error, link error) with a message that names the problem.
    """
    arch = get_arch(arch_name)
    extra_cflags = (*OPT_FLAGS[check_opt(opt)], *extra_cflags)
    find_compiler(arch)
    out_path = Path(out_path)
    sources = natmod_sources()
    if not sources:
        raise MicrotrainError(f"no C sources found under {NATMOD_DIR}")
    if build_dir is None:  # objects are not kept: the linked module is what gets cached
        with tempfile.TemporaryDirectory(prefix=f"microtrain-{build_name(arch.name, opt)}-") as tmp:
            return _compile_and_link(arch, sources, out_path, Path(tmp), extra_cflags, externs, log)
    return _compile_and_link(arch, sources, out_path, Path(build_dir), extra_cflags, externs, log)


def _compile_and_link(arch, sources, out_path, build_dir, extra_cflags, externs, log):
    objects, warnings = [], {}
    for source in sources:
        rel = source.relative_to(NATMOD_DIR)
        log(f"  CC  [{arch.name}] natmod/{rel}")
        result = compile_source(arch, source, object_path(source, build_dir), extra_cflags)
        objects.append(result.object)
        if result.warnings:
            warnings[str(rel)] = result.warnings
            log(result.warnings)

    libs = [libgcc_path(arch)] if arch.needs_libgcc else []
    log(f"  LD  [{arch.name}] {out_path}" + (f" (+ {libs[0]})" if libs else ""))
    link_result = _link(objects, arch, out_path, libs, externs)
    log(
        f"  OK  [{arch.name}] {out_path}: {link_result.mpy_size} bytes, "
        f"text {link_result.text_size}, "
        + (f"rodata {link_result.rodata_size}, " if link_result.rodata_size else "")
        + f"bss {link_result.bss_size}"
    )
    return BuildResult(arch.name, out_path, objects, libs, warnings, link_result)


def _link(objects, arch: Arch, out_path: Path, libs, externs):
    from .linker import link

    return link(
        objects, arch, out_path, libs=libs, source_name=f"{MODULE_NAME}.mpy", externs=externs
    )


def module_key(arch_name: str, opt: str = DEFAULT_OPT, externs=None) -> str:
    """The cache key of a module build: arch, opt, compiler, this tool's version, and a hash of
    natmod/'s sources and headers and of the host code that compiles and links them."""
    arch = get_arch(arch_name)
    cc = find_compiler(arch)
    proc = subprocess.run([cc, "--version"], capture_output=True, text=True, check=False)
    natmod_files = [p for p in NATMOD_DIR.rglob("*") if p.suffix in (".c", ".h")]
    # arches, this file, llvm_compile, the linker: all of the mpy toolchain
    host_files = sorted((PACKAGE_DIR / "mpy").rglob("*.py"))
    parts = [arch.name, check_opt(opt), proc.stdout.partition("\n")[0], __version__,
             _externs_text(externs), digest([], host_files, PACKAGE_DIR)]
    return f"{build_name(arch.name, opt)}-{digest(parts, natmod_files, NATMOD_DIR)}"


def _externs_text(externs) -> str:
    if externs is None:
        return ""
    if isinstance(externs, dict):
        return repr(sorted(externs.items()))
    return Path(externs).read_text()


def cached_module(arch_name: str, opt: str = DEFAULT_OPT, *, externs=None, log=print):
    """(path, was_cached): the module for arch_name from the user cache (build_cache), built
    into it first when natmod/ or the build changed since."""
    key = module_key(arch_name, opt, externs)
    return cached_file("natmod", key, f"{MODULE_NAME}.mpy",
                       lambda tmp: build_module(arch_name, tmp, externs=externs, log=log, opt=opt))
