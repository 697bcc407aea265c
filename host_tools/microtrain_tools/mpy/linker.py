# SPDX-License-Identifier: MIT
"""Links ELF relocatable objects into a natmod .mpy v6.3 (NATMOD_FACTS sections 1, 4, 6).

The whole image (code, rodata, const pointer tables, GOT) is one text blob that the loader
copies; BSS is a separate zeroed block. On xtensawin (ESP32) code memory allows only 32-bit
loads, so rodata and const pointer tables go to the separate rodata blob instead. Only the
sections reachable from `mpy_init` are kept, and library members are pulled only when a kept
section needs one of their symbols.
Per-arch relocation rules live in relocs/<arch family>.py.
"""

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .arches import Arch, get_arch
from .ar_archive import read_archive
from .elf_objects import SHF_EXECINSTR, SHF_TLS, SHF_WRITE, ElfObject, Section, load_object
from .errors import LinkError
from .mpy_format import LoaderReloc
from .reader import read_mpy
from .relocs import rules_for
from .site import Placed, RelocSite
from .symbols import GOT_SYMBOL, Target, missing_symbol_advice, special_target
from .writer import write_mpy

ENTRY_SYMBOL = "mpy_init"
# `PROVIDE ( name = 0x40001234 );` or `name = 0x40001234;` in a linker script
EXTERN_LINE = re.compile(r"([A-Za-z_.$][\w.$]*)\s*=\s*(0x[0-9a-fA-F]+|\d+)\s*\)?\s*;")


@dataclass
class LinkResult:
    out_path: Path
    arch: str
    text_size: int
    bss_size: int
    qstrs: list[str]
    n_loader_relocs: int
    got_size: int
    symbols: dict[str, Target]  # every kept global and local symbol, by name (first wins)
    sections: dict[str, int] = field(default_factory=dict)  # "obj:section" -> image offset
    members: list[str] = field(default_factory=list)  # library members that were pulled
    mpy_size: int = 0
    rodata_size: int = 0  # the separate rodata blob (xtensawin), 0 elsewhere


class _Linker:
    def __init__(self, arch: Arch, source_name: str):
        self.arch = arch
        self.rules = rules_for(arch)
        self.objects: list[ElfObject] = []
        self.libs = []
        self.externs: dict[str, int] = {}
        self.defs: dict[str, tuple[ElfObject, object]] = {}
        self.qstrs = [source_name]
        self.kept: dict[tuple[int, int], Placed] = {}
        self.missing: dict[str, str] = {}
        self.members: list[str] = []
        self.image = bytearray()
        self.rodata_image = bytearray()
        self.rodata_order: list[Placed] = []
        self.got: dict[Target, int] = {}
        self.got_start = 0
        self.loader_relocs: dict[tuple[str, int], LoaderReloc] = {}
        self.bss_size = 0

    # -- inputs --------------------------------------------------------------------------
    def add_object(self, obj: ElfObject, from_lib: bool) -> None:
        self.rules.check_object(obj, self.arch, from_lib)
        self.objects.append(obj)
        for sym in obj.defined_globals():
            if sym.shndx == "SHN_COMMON":
                raise LinkError(
                    f"{obj.name}: `{sym.name}` is a COMMON symbol (an uninitialised global "
                    "compiled without -fno-common); compile with -fno-common"
                )
            old = self.defs.get(sym.name)
            if old is None or (old[1].bind == "STB_WEAK" and sym.bind != "STB_WEAK"):
                self.defs[sym.name] = (obj, sym)
            elif sym.bind != "STB_WEAK" and old[1].bind != "STB_WEAK" and not from_lib:
                raise LinkError(
                    f"`{sym.name}` is defined twice: in {old[0].name} and in {obj.name}"
                )

    def qstr_index(self, name: str) -> int:
        if name not in self.qstrs[1:]:
            self.qstrs.append(name)
        return self.qstrs.index(name, 1)

    def pull_from_libs(self, name: str) -> bool:
        for lib in self.libs:
            offset = lib.member_for(name)
            if offset is None:
                continue
            member = lib.load_member(offset, self.arch)
            if member not in self.objects:
                self.add_object(member, from_lib=True)
                self.members.append(member.name)
            return name in self.defs
        return False

    # -- resolution ----------------------------------------------------------------------
    def resolve(self, obj: ElfObject, sym) -> tuple[ElfObject, object] | Target | None:
        """(object, defining symbol), or a runtime Target, or None if missing."""
        if sym.bind == "STB_LOCAL" and sym.defined:
            return obj, sym
        if sym.name in self.defs:
            return self.defs[sym.name]
        if sym.defined and sym.shndx != "SHN_COMMON":
            return obj, sym
        if sym.name == GOT_SYMBOL:
            return Target("got")
        special = special_target(sym.name, self.qstr_index)
        if special is not None:
            return special
        if sym.name in self.externs:
            return Target("absolute", self.externs[sym.name])
        if self.pull_from_libs(sym.name):
            return self.defs[sym.name]
        if sym.bind == "STB_WEAK":
            return Target("null")
        self.missing.setdefault(sym.name, obj.name)
        return None

    def keep(self, obj: ElfObject, section: Section, referrer: str) -> None:
        key = (id(obj), section.index)
        if key in self.kept:
            return
        region = classify(obj, section, referrer, self.arch.separate_rodata)
        if region is None:
            return
        self.kept[key] = Placed(obj, section, region)
        self._queue.append(self.kept[key])

    def collect(self) -> Placed:
        entry = self.defs.get(ENTRY_SYMBOL)
        if entry is None:
            raise LinkError(
                f"no object defines `{ENTRY_SYMBOL}`, the module's entry point: define "
                f"`mp_obj_t {ENTRY_SYMBOL}(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, "
                "mp_obj_t *args)` as a non-static function"
            )
        obj, sym = entry
        self._queue: list[Placed] = []
        section = obj.sections.get(sym.shndx)
        if section is not None:
            self.keep(obj, section, ENTRY_SYMBOL)
        entry_placed = self.kept.get((id(obj), sym.shndx))
        if (
            entry_placed is None
            or entry_placed.region != "text"
            or not (entry_placed.section.flags & SHF_EXECINSTR)
        ):
            raise LinkError(f"{obj.name}: `{ENTRY_SYMBOL}` is not in a code section")
        while self._queue:
            placed = self._queue.pop()
            for reloc in placed.obj.relocs.get(placed.section.index, []):
                if reloc.type in self.rules.ignored:
                    continue
                found = self.resolve(placed.obj, reloc.symbol)
                if isinstance(found, tuple):
                    dobj, dsym = found
                    if dsym.shndx == "SHN_ABS":
                        raise LinkError(
                            f"{dobj.name}: absolute symbol `{dsym.name}` is not supported"
                        )
                    label = self.symbol_label(dobj, dsym, reloc.addend or 0)
                    self.keep(dobj, dobj.sections[dsym.shndx], label)
        if self.missing:
            lines = [
                f"undefined symbol `{name}`, needed by {needer}: "
                f"{missing_symbol_advice(name, self.arch.name, bool(self.libs))}"
                for name, needer in self.missing.items()
            ]
            raise LinkError("\n".join(lines))
        return entry_placed

    def target_of(self, obj: ElfObject, sym) -> Target:
        found = self.resolve(obj, sym)
        if isinstance(found, Target):
            return found
        dobj, dsym = found
        placed = self.kept.get((id(dobj), dsym.shndx))
        if placed is None:
            section = dobj.sections[dsym.shndx]
            raise LinkError(
                f"{obj.name}: `{self.symbol_label(dobj, dsym, 0)}` is in {section.name}, which "
                "is not loaded with the module (not an allocated section)"
            )
        return Target(placed.region, placed.offset + dsym.value)

    def symbol_label(self, obj: ElfObject, sym, addend: int) -> str:
        """A name for messages: a section symbol becomes the variable at that offset (x64
        pc-relative addends are a few bytes short of the target, hence the small slack)."""
        if sym.type != "STT_SECTION" and not sym.name.startswith(".L"):
            return sym.name
        if sym.type != "STT_SECTION":
            addend += sym.value  # an assembler label (.LANCHOR0) inside the section
        named = [
            s for s in obj.symbols if s.shndx == sym.shndx and s.type in ("STT_OBJECT", "STT_FUNC")
        ]
        for slack in (0, 4, 5, 6, 8):
            for s in named:
                if s.value <= addend + slack < s.value + max(s.size, 1):
                    return s.name
        return f"{sym.name}{addend:+#x}"

    # -- layout --------------------------------------------------------------------------
    def layout(self, entry: Placed) -> None:
        order = self.rules.order_text([p for p in self._ordered() if p.region == "text"], entry)
        self.text_end = self._place(order, self.rules.entry_stub_size(entry))
        self.text_order = order
        self.rodata_order = [p for p in self._ordered() if p.region == "rodata"]
        rodata_end = self._place(self.rodata_order, 0)
        self.rodata_image = bytearray(align_up(rodata_end, self.arch.word_size))
        for p in self.rodata_order:
            self.rodata_image[p.offset : p.offset + p.section.size] = p.section.data
        bss_end = self._place([p for p in self._ordered() if p.region == "bss"], 0)
        self.bss_size = align_up(bss_end, self.arch.word_size)

    def _place(self, order: list[Placed], offset: int) -> int:
        """Give each section its offset in its blob, in order from `offset`; returns the end."""
        max_align = 16 if self.arch.word_size == 4 else 32
        for p in order:
            check_align(p, max_align)
            offset = align_up(offset, self.rules.section_align(p.section))
            p.offset = offset
            offset += p.section.size
        return offset

    def _ordered(self) -> list[Placed]:
        # Input order: objects as given, then library members as pulled; sections by index.
        rank = {id(o): i for i, o in enumerate(self.objects)}
        return sorted(self.kept.values(), key=lambda p: (rank[id(p.obj)], p.section.index))

    def build_got(self) -> None:
        word = self.arch.word_size
        targets = []
        for p in self.text_order:
            for reloc in p.obj.relocs.get(p.section.index, []):
                if reloc.type in self.rules.got_types:
                    t = self.target_of(p.obj, reloc.symbol)
                    if t not in targets:
                        targets.append(t)
        self.got_start = self.rules.got_position(self, align_up(self.text_end, word), targets)
        for i, t in enumerate(targets):
            self.got[t] = self.got_start + i * word
        end = max(self.text_end, self.got_start + len(targets) * word)
        self.image = bytearray(align_up(end, word))
        for p in self.text_order:
            self.image[p.offset : p.offset + p.section.size] = p.section.data
        for t, slot in self.got.items():
            self.image[slot : slot + word] = t.stored_offset.to_bytes(word, "little")
            if t.loader_kind is not None:
                self.add_loader_reloc(slot, t.loader_kind, None)
        self.got_size = len(targets) * word

    def got_offset(self, target: Target, site: RelocSite) -> int:
        if target not in self.got:
            site.fail("internal: no GOT slot was made for this symbol")
        return self.got[target]

    def add_loader_reloc(self, offset: int, kind: int, site: RelocSite | None) -> None:
        blob = site.placed.region if site is not None else "text"
        if offset % self.arch.word_size:
            msg = f"pointer word at {blob}+{offset:#x} is not {self.arch.word_size}-byte aligned"
            if site is not None:
                site.fail(msg, "align pointer tables (do not pack them)")
            raise LinkError(msg)
        if (blob, offset) in self.loader_relocs:
            raise LinkError(f"internal: two loader relocations on the word at {blob}+{offset:#x}")
        self.loader_relocs[blob, offset] = LoaderReloc(offset, kind, blob)

    def apply_relocations(self) -> None:
        self.rules.prepare(self)
        for p in self.text_order + self.rodata_order:
            for reloc in p.obj.relocs.get(p.section.index, []):
                if reloc.type in self.rules.ignored:
                    continue
                site = RelocSite(self, p, reloc, self.target_of(p.obj, reloc.symbol))
                self.rules.apply(site)

    def symbol_map(self) -> dict[str, Target]:
        result = {}
        for p in self.kept.values():
            for s in p.obj.symbols:
                if s.shndx == p.section.index and s.type != "STT_SECTION" and _named(s.name):
                    result.setdefault(s.name, Target(p.region, p.offset + s.value))
        return result


def _named(name: str) -> bool:
    # Skip ARM/RISC-V mapping symbols ($t, $d, $x) and assembler-local labels.
    return bool(name) and not name.startswith(("$", ".L"))


def classify(obj: ElfObject, section: Section, referrer: str, separate_rodata=False) -> str | None:
    """Which blob a section belongs to; refuses sections a natmod cannot have."""
    if not section.alloc:
        return None
    if section.flags & SHF_TLS:
        raise LinkError(
            f"{obj.name}: `{referrer}` is thread-local ({section.name}); natmods have no TLS"
        )
    if section.kind == "SHT_NOBITS":
        return "bss"
    if section.kind in ("SHT_INIT_ARRAY", "SHT_FINI_ARRAY", "SHT_PREINIT_ARRAY"):
        raise LinkError(
            f"{obj.name}: constructors/destructors ({section.name}) are not run by the loader; "
            "do the work in mpy_init"
        )
    if not section.flags & SHF_WRITE or section.name.startswith(".data.rel.ro"):
        code = section.flags & SHF_EXECINSTR  # Xtensa literal pools live in code sections
        return "rodata" if separate_rodata and not code else "text"
    if section.size == 0:
        return None
    raise LinkError(
        f"{obj.name}: `{referrer}` is initialised writable data ({section.name}), which the "
        "loader cannot provide: make it `const` (pointer tables then go to .data.rel.ro), or "
        "make it a non-static global without initialiser and set it in mpy_init"
    )


def check_align(p: Placed, max_align: int) -> None:
    if p.section.align > max_align:
        raise LinkError(
            f"{p.obj.name}: {p.section.name} needs {p.section.align}-byte alignment, but the "
            f"loader only guarantees {max_align}: reduce the alignment of that data"
        )


def align_up(value: int, align: int) -> int:
    return (value + align - 1) // align * align


def link(objects, arch, out_path, *, libs=(), source_name=None, externs=None) -> LinkResult:
    """Links `objects` (ELF .o paths) and `libs` (.a paths) for `arch` into `out_path`.

    externs: symbols at fixed addresses outside the module (ESP8266 ROM): a mapping of
    name -> address, or the path of a linker script of `PROVIDE(name = 0x...);` lines.
    """
    arch = get_arch(arch) if isinstance(arch, str) else arch
    if arch.note and not _has_rules(arch):
        raise LinkError(f"arch {arch.name}: {arch.note}")
    out_path = Path(out_path)
    linker = _Linker(arch, source_name or out_path.name)
    if not objects:
        raise LinkError("no object files to link")
    for path in objects:
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as err:
            raise LinkError(f"cannot read object {path}: {err.strerror}") from None
        linker.add_object(load_object(data, path.name, arch), from_lib=False)
    linker.libs = [read_archive(lib) for lib in libs]
    linker.externs = read_externs(externs) if externs is not None else {}
    entry = linker.collect()
    linker.layout(entry)
    linker.build_got()
    linker.rules.write_entry_stub(linker, entry)
    linker.apply_relocations()
    relocs = list(linker.loader_relocs.values())
    blob = write_mpy(arch, linker.qstrs, bytes(linker.image), relocs, linker.bss_size,
                     bytes(linker.rodata_image))
    _self_check(blob, linker, relocs)
    _write_atomically(out_path, blob)
    return LinkResult(
        out_path=out_path,
        arch=arch.name,
        text_size=len(linker.image),
        bss_size=linker.bss_size,
        qstrs=list(linker.qstrs),
        n_loader_relocs=len(relocs),
        got_size=linker.got_size,
        symbols=linker.symbol_map(),
        sections={f"{p.obj.name}:{p.section.name}": p.offset for p in linker.kept.values()},
        members=list(linker.members),
        mpy_size=len(blob),
        rodata_size=len(linker.rodata_image),
    )


def _self_check(blob: bytes, linker: _Linker, relocs: list[LoaderReloc]) -> None:
    # Decode what is about to be written: a writer bug must not reach a board.
    mpy = read_mpy(blob)
    if (
        mpy.text != bytes(linker.image)
        or mpy.rodata != bytes(linker.rodata_image)
        or mpy.bss_size != linker.bss_size
        or sorted(mpy.relocs, key=_reloc_key) != sorted(relocs, key=_reloc_key)
    ):
        raise LinkError("internal: the written .mpy does not decode to what was linked")


def _reloc_key(r: LoaderReloc):
    return r.blob, r.offset


def read_externs(source) -> dict[str, int]:
    if isinstance(source, dict):
        return dict(source)
    try:
        text = Path(source).read_text()
    except OSError as err:
        raise LinkError(f"cannot read externs file {source}: {err.strerror}") from None
    found = {name: int(value, 0) for name, value in EXTERN_LINE.findall(text)}
    if not found:
        raise LinkError(f"{source}: no `name = 0x...;` lines found")
    return found


def _has_rules(arch: Arch) -> bool:
    try:
        rules_for(arch)
    except LinkError:
        return False
    return True


def _write_atomically(path: Path, data: bytes) -> None:
    # A failed link never leaves a half-written .mpy behind.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
