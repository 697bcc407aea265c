# SPDX-License-Identifier: MIT
"""What every arch's relocation rules provide; defaults fit arches whose GOT follows the code."""


class ArchRules:
    names: dict[int, str] = {}
    got_types: frozenset = frozenset()  # relocation types that need a GOT slot for their symbol
    ignored: frozenset = frozenset()  # types with nothing to do (markers, hints)

    def name_of(self, rtype: int) -> str:
        return f"{self.names.get(rtype, 'unknown relocation')} (type {rtype})"

    def order_text(self, order, entry):
        return order

    def entry_stub_size(self, entry) -> int:
        return 0

    def write_entry_stub(self, linker, entry) -> None:
        entry_sym_offset = _entry_offset(entry)
        if entry.offset + entry_sym_offset != 0:
            from ..errors import LinkError

            raise LinkError(
                f"{entry.obj.name}: mpy_init is not at the start of its section "
                f"({entry.section.name}); compile with -ffunction-sections"
            )

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


def _entry_offset(entry) -> int:
    for s in entry.obj.symbols:
        if s.name == "mpy_init" and s.shndx == entry.section.index:
            return s.value & ~1  # the Thumb bit is not part of the offset
    return 0
