"""Just enough ELF64 to read symbols out of a vmlinux or a module (.ko)
without debug info or binutils: section headers, ``.symtab``, its strings."""

from __future__ import annotations

import functools
import struct
from pathlib import Path
from typing import BinaryIO, NamedTuple

SHT_SYMTAB = 2
SHF_ALLOC = 0x2
STT_OBJECT = 1
STT_FUNC = 2


class Section(NamedTuple):
    name: str
    addr: int
    offset: int
    size: int


class Symbol(NamedTuple):
    """A symbol's value and the section it lives in (for a module, the value
    is its offset in that section: the kernel decides the address at load)."""

    value: int
    section: Section


def _sections(f: BinaryIO) -> tuple[list[tuple[int, ...]], bytes] | None:
    ident = f.read(64)
    if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:  # ELF64, little-endian
        return None
    (shoff,) = struct.unpack_from("<Q", ident, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", ident, 0x3A)
    f.seek(shoff)
    raw = f.read(shentsize * shnum)
    headers = [struct.unpack_from("<IIQQQQIIQQ", raw, i * shentsize) for i in range(shnum)]
    shstr = headers[shstrndx] if 0 < shstrndx < shnum else None
    names = b""
    if shstr is not None:
        f.seek(shstr[4])
        names = f.read(shstr[5])
    return headers, names


def _cstr(table: bytes, offset: int) -> str:
    return table[offset : table.index(b"\0", offset)].decode(errors="replace")


def _symbols(path: Path, wanted: set[bytes]) -> dict[str, Symbol]:
    with open(path, "rb") as f:
        parsed = _sections(f)
        if parsed is None:
            return {}
        headers, shnames = parsed
        symtab = next((h for h in headers if h[1] == SHT_SYMTAB), None)
        if symtab is None:
            return {}
        strtab = headers[symtab[6]]  # sh_link
        f.seek(strtab[4])
        names = f.read(strtab[5])
        f.seek(symtab[4])
        syms = f.read(symtab[5])
    found: dict[str, Symbol] = {}
    for i in range(0, len(syms) - 23, 24):
        st_name, _, _, st_shndx, st_value, _ = struct.unpack_from("<IBBHQQ", syms, i)
        if not 0 < st_shndx < len(headers):
            continue
        end = names.find(b"\0", st_name)
        name = names[st_name:end]
        if name not in wanted:
            continue
        h = headers[st_shndx]
        section = Section(_cstr(shnames, h[0]) if shnames else "", h[3], h[4], h[5])
        found[name.decode()] = Symbol(st_value, section)
    return found


def elf_symbol(path: Path, symbol: str) -> Symbol | None:
    """``symbol`` in the ELF file's symbol table, or None (no such symbol, not
    an ELF64 file, unreadable)."""
    try:
        return _cached_symbol(str(path), path.stat().st_mtime_ns, symbol)
    except (OSError, struct.error, ValueError):
        return None


@functools.lru_cache(maxsize=256)
def _cached_symbol(path: str, mtime_ns: int, symbol: str) -> Symbol | None:
    return _symbols(Path(path), {symbol.encode()}).get(symbol)


def elf_symbol_string(path: Path, symbol: str, limit: int = 512) -> str | None:
    """The NUL-terminated string a symbol of an ELF64 file points at (read
    through its section: sh_offset + value - sh_addr)."""
    try:
        sym = _symbols(path, {symbol.encode()}).get(symbol)
        if sym is None:
            return None
        with open(path, "rb") as f:
            f.seek(sym.section.offset + sym.value - sym.section.addr)
            data = f.read(limit)
        return data.split(b"\0", 1)[0].decode(errors="replace")
    except (OSError, struct.error, ValueError):
        return None


def elf_sections(path: Path) -> list[Section]:
    """The sections of an ELF64 file that are loaded (SHF_ALLOC), in file
    order; [] when it is not one. In a module (.ko, a relocatable file) every
    ``addr`` should be 0: the kernel places each section at load."""
    try:
        with open(path, "rb") as f:
            parsed = _sections(f)
    except (OSError, struct.error, ValueError):
        return []
    if parsed is None:
        return []
    headers, names = parsed
    return [
        Section(_cstr(names, h[0]) if names else "", h[3], h[4], h[5])
        for h in headers
        if h[2] & SHF_ALLOC
    ]


def elf_code_and_data_symbols(path: Path) -> dict[str, Symbol]:
    """Named functions and variables of an ELF64 file (STT_FUNC, STT_OBJECT)
    in loaded sections, without the compiler's and kbuild's own ``__`` names
    (``__pfx_`` padding, ``__param_``, ``__UNIQUE_ID_``)."""
    try:
        with open(path, "rb") as f:
            parsed = _sections(f)
            if parsed is None:
                return {}
            headers, shnames = parsed
            symtab = next((h for h in headers if h[1] == SHT_SYMTAB), None)
            if symtab is None:
                return {}
            strtab = headers[symtab[6]]
            f.seek(strtab[4])
            names = f.read(strtab[5])
            f.seek(symtab[4])
            syms = f.read(symtab[5])
    except (OSError, struct.error, ValueError):
        return {}
    found: dict[str, Symbol] = {}
    for i in range(0, len(syms) - 23, 24):
        st_name, st_info, _, st_shndx, st_value, _ = struct.unpack_from("<IBBHQQ", syms, i)
        if st_info & 0xF not in (STT_FUNC, STT_OBJECT) or not 0 < st_shndx < len(headers):
            continue
        h = headers[st_shndx]
        name = _cstr(names, st_name)
        if not name or name.startswith("__") or not h[2] & SHF_ALLOC:
            continue
        section = Section(_cstr(shnames, h[0]) if shnames else "", h[3], h[4], h[5])
        found[name] = Symbol(st_value, section)
    return found
