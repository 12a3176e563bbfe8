"""The judge of gdb's map of a module: two of its symbols at one address.

lx-symbols loads a module's symbols with ``add-symbol-file KO TEXT -s
SECTION ADDR ...``, naming only some sections (``.text``, ``.data``,
``.data..read_mostly``, ``.rodata``, ``.bss``, ``.text.hot``,
``.text.unlikely``: 6.1, 6.12 and upstream in 2025; not ``.exit.text``
or ``.init.text``). gdb places the others itself, at
addresses of its own choosing. And when the .ko has a loaded section with a
nonzero address (6.12's module linker script leaves ``.data`` (6.10's
codetags) and ``__patchable_function_entries`` without the ``0`` the other
sections have), gdb relocates the module's debug info by .text's offset for
every section: ``.exit.text``'s first function then lands on ``.text``'s
first function (at 0, or 0x10 with function padding), and a stop in
``guestdbg_tick`` is named ``guestdbg_test_exit``.
See docs/lx-symbols-exit-text.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from guestdbg.judges.findings import Finding

WHERE = "docs/lx-symbols-exit-text.md; scripts/gdb/linux/symbols.py and scripts/module.lds.S"
# Sections whose symbols a debugger user names: code and variables (not
# .note.* or .orc_header, which nothing looks up by address).
SECTION_KINDS = ("text", "data", "bss", "rodata")


@dataclass(frozen=True)
class ModuleSymbol:
    """A module symbol: its section and offset there (from the .ko), the
    address gdb gives it (``info address``; None: gdb has none)."""

    name: str
    section: str
    offset: int
    gdb_address: int | None


def module_symbols_overlap(
    module: str,
    symbols: Sequence[ModuleSymbol],
    loaded_sections: Mapping[str, int],
    gdb_sections: Mapping[str, int],
    nonzero_sections: Mapping[str, int] | None = None,
    where: str = WHERE,
) -> list[Finding]:
    """Two symbols of ``module`` from different places of the module (another
    section or offset: not aliases such as ``cleanup_module``) at one address
    in gdb's map.

    loaded_sections: where the kernel loaded each section
    (``/sys/module/M/sections``); gdb_sections: where gdb put them (``maint
    info sections``); nonzero_sections: the .ko's loaded sections whose ELF
    address is not 0. Only symbols of sections the kernel loaded count."""
    by_address: dict[int, list[ModuleSymbol]] = defaultdict(list)
    for sym in symbols:
        if (
            sym.gdb_address is not None
            and sym.section in loaded_sections
            and any(kind in sym.section for kind in SECTION_KINDS)
        ):
            by_address[sym.gdb_address].append(sym)
    clashes = {
        addr: syms
        for addr, syms in sorted(by_address.items())
        if len({(s.section, s.offset) for s in syms}) > 1
    }
    if not clashes:
        return []
    # The title names the clash with the most code in it (a misnamed stop).
    addr, syms = max(clashes.items(), key=lambda c: sum("text" in s.section for s in c[1]))
    named = sorted(
        {(s.section, s.name) for s in syms}, key=lambda n: (n[0] != ".text", "text" not in n[0], n)
    )
    pair = " and ".join(f"{name} ({section})" for section, name in named[:2])
    # Sections of the .ko (gdb has them) that gdb does not place where the
    # kernel loaded them; sysfs also lists the kernel's own .symtab/.strtab.
    misplaced = {
        name: (gdb_sections[name], kernel)
        for name, kernel in sorted(loaded_sections.items())
        if name in gdb_sections and gdb_sections[name] != kernel
    }
    code = [name for name in misplaced if "text" in name]
    shown = code or list(misplaced)[:4]
    left_out = ", ".join(shown) or "none"
    if len(misplaced) > len(shown):
        left_out += f" (and {len(misplaced) - len(shown)} data sections)"
    evidence = {
        "symbols at one address in gdb's map": "\n".join(
            f"{a:#x}: " + ", ".join(f"{s.name} ({s.section}+{s.offset:#x})" for s in ss)
            for a, ss in clashes.items()
        ),
        "sections gdb does not place where the kernel loaded them": "\n".join(
            f"{name}: kernel {kernel:#x}, gdb " + (f"{gdb:#x}" if gdb is not None else "none")
            for name, (gdb, kernel) in misplaced.items()
        )
        or "none",
        "symbols gdb places elsewhere than the kernel loaded them": "\n".join(
            f"{s.name} ({s.section}+{s.offset:#x}): gdb {s.gdb_address:#x}, kernel "
            f"{loaded_sections[s.section] + s.offset:#x}"
            for s in symbols
            if s.gdb_address is not None
            and s.section in loaded_sections
            and s.gdb_address != loaded_sections[s.section] + s.offset
        )
        or "none",
    }
    if nonzero_sections:
        evidence["loaded .ko sections with a nonzero address (gdb then relocates all debug "
                 "info by .text's offset)"] = "\n".join(
            f"{name}: {addr:#x}" for name, addr in nonzero_sections.items()
        )  # fmt: skip
    return [
        Finding(
            "module_symbols",
            "module-symbols-overlap",
            f"gdb maps {pair} of {module} at one address, {addr:#x}: it names one by the "
            f"other; sections gdb does not place where the kernel loaded them: {left_out}",
            evidence,
            where,
        )
    ]
