# SPDX-License-Identifier: MIT
"""What every arch's relocation rules provide; defaults fit arches whose GOT follows the code."""

from ..errors import LinkError


class ArchRules:
    names: dict[int, str] = {}
    got_types: frozenset = frozenset()  # relocation types that need a GOT slot for their symbol
    ignored: frozenset = frozenset()  # types with nothing to do (markers, hints)

    def name_of(self, rtype: int) -> str:
        return f"{self.names.get(rtype, 'unknown relocation')} (type {rtype})"

    def order_text(self, order, entry):
        """The text sections in image order; `order` is input order. Default: mpy_init's
        section first, so that text offset 0 is the entry."""
        return [entry] + [p for p in order if p is not entry]

    def section_align(self, section) -> int:
        return section.align

    # Bytes of the jump to mpy_init that goes at text offset 0 when mpy_init is not the start
    # of its section (objects built without -ffunction-sections); 0: no such jump.
    stub_size = 0

    def entry_stub_size(self, entry) -> int:
        return 0 if entry_offset(entry) == 0 else self.stub_size

    def write_entry_stub(self, linker, entry) -> None:
        target = entry.offset + entry_offset(entry)
        if target == 0:
            return
        if not self.stub_size:
            raise LinkError(
                f"{entry.obj.name}: mpy_init is not at the start of its section "
                f"({entry.section.name}); compile with -ffunction-sections"
            )
        linker.image[0 : self.stub_size] = self.entry_stub(target)

    def entry_stub(self, target: int) -> bytes:
        """Code at text offset 0 that jumps to `target` (a text offset)."""
        raise NotImplementedError

    def check_object(self, obj, arch, from_lib: bool) -> None:
        """Refuses an object built for another CPU or calling convention of the arch family."""

    def got_position(self, linker, after_code: int, targets) -> int:
        return after_code

    def prepare(self, linker) -> None:
        pass

    def apply(self, site) -> None:
        self.unsupported(site)

    def unsupported(self, site) -> None:
        site.fail(
            "relocation type not supported by the microtrain linker",
            "avoid the construct that makes it (see docs/linker.md), or report the type",
        )


def entry_offset(entry) -> int:
    """Offset of mpy_init inside its section."""
    for s in entry.obj.symbols:
        if s.name == "mpy_init" and s.shndx == entry.section.index:
            return s.value & ~1  # the Thumb bit is not part of the offset
    return 0
