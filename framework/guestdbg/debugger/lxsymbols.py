"""The kernel's own lx-symbols, run the way users run it.

Sources the tree's ``vmlinux-gdb.py`` (with the tree added to gdb's
auto-load safe path), runs ``lx-symbols`` with module search paths, and
reports which module symbol files gdb then has. lx-symbols re-loads the
kernel by objfile name and falls back to ``vmlinux`` in gdb's working
directory; for a vmlinux under another name (Debian's
``vmlinux-6.1.0-…-amd64``) a ``vmlinux`` link is made there so it works anyway.

lx-symbols plants an internal breakpoint on ``do_init_module``: while the
guest runs, every module load stops there, gdb loads the module's symbols
and resumes by itself. That resume is what the breakpoint ledger checks.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from pathlib import Path

from guestdbg.debugger.gdb import Debugger
from guestdbg.errors import DebuggerError, InputError


@dataclass(frozen=True)
class LxSymbolsRun:
    """One ``lx-symbols`` run: its output, the modules it loaded, how long it took."""

    output: str
    loaded: tuple[str, ...]
    seconds: float


class LxSymbols:
    """lx-symbols for one Debugger session.

    debugger: a Debugger with the vmlinux already loaded.
    gdb_script: the tree's ``vmlinux-gdb.py`` (beside ``scripts/gdb``).
    module_dirs: where lx-symbols looks for ``.ko`` files.
    """

    def __init__(self, debugger: Debugger, gdb_script: Path, module_dirs: list[Path]) -> None:
        self.dbg = debugger
        self.gdb_script = Path(gdb_script)
        self.module_dirs = [Path(d) for d in module_dirs]
        self.loaded_scripts = False

    def load_scripts(self) -> None:
        """Source vmlinux-gdb.py; InputError with the reason if the scripts do not load."""
        script = self.gdb_script
        if not script.exists():
            raise InputError(
                f"{script} does not exist: build the tree with CONFIG_GDB_SCRIPTS=y and "
                "'make scripts_gdb'"
            )
        root = script.resolve().parent if script.is_symlink() else script.parent
        self.dbg.console(f"add-auto-load-safe-path {script.parent}")
        self.dbg.console(f"add-auto-load-safe-path {root}")
        out = self.dbg.source(script)
        help_text = ""
        with contextlib.suppress(DebuggerError):
            help_text = self.dbg.console("help lx-symbols")
        if "(Re-)load symbols" not in help_text:
            raise InputError(
                f"sourcing {script} did not define lx-symbols (are scripts/gdb/linux/"
                f"constants.py and the Python modules there?): {out.strip()[-300:]}"
            )
        self._link_vmlinux()
        self.loaded_scripts = True

    def _link_vmlinux(self) -> None:
        """lx-symbols reloads the kernel as 'vmlinux' when the objfile is named
        otherwise: give it one in gdb's working directory."""
        name = self.main_objfile()
        if name is None or Path(name).name.endswith("vmlinux"):
            return
        cwd = self.dbg.cwd or self.dbg.artifacts
        assert cwd is not None
        link = Path(cwd) / "vmlinux"
        if not link.exists():
            link.symlink_to(name)

    def main_objfile(self) -> str | None:
        out = self.dbg.console("python print('OBJ', gdb.objfiles()[0].filename)")
        m = re.search(r"^OBJ (.+)$", out, re.M)
        return m.group(1) if m else None

    def run(self, timeout: float = 120.0) -> LxSymbolsRun:
        """Run ``lx-symbols`` (the guest must be stopped)."""
        if not self.loaded_scripts:
            self.load_scripts()
        start = time.monotonic()
        paths = " ".join(str(d) for d in self.module_dirs)
        out = self.dbg.console(f"lx-symbols {paths}".strip(), timeout=timeout)
        seconds = time.monotonic() - start
        loaded = tuple(re.findall(r"loading @0x[0-9a-f]+: .*/([^/\s]+)\.ko", out))
        if "loading vmlinux" not in out:
            raise DebuggerError(
                f"lx-symbols failed: {out.strip()[-400:]}", evidence=self.dbg.evidence()
            )
        return LxSymbolsRun(out, loaded, seconds)

    def symbol_files(self) -> list[str]:
        """Files gdb has symbols from (vmlinux first, then modules)."""
        out = self.dbg.console("python print('OBJS', '|'.join(o.filename for o in gdb.objfiles()))")
        m = re.search(r"^OBJS (.*)$", out, re.M)
        return [f for f in m.group(1).split("|") if f] if m else []

    def has_module(self, name: str) -> bool:
        return any(Path(f).name in (f"{name}.ko", f"{name}.ko.debug") for f in self.symbol_files())

    def module_objfile(self, name: str) -> str | None:
        """gdb's objfile name of module ``name`` (None: not loaded)."""
        return next(
            (f for f in self.symbol_files() if Path(f).name in (f"{name}.ko", f"{name}.ko.debug")),
            None,
        )

    def section_map(self, objfile: str) -> dict[str, int]:
        """Where gdb put each loaded section of ``objfile`` (``maint info
        sections``): {section name: start address}."""
        out = self.dbg.console("maint info sections -all-objects ALLOC")
        return parse_section_map(out, objfile)

    def symbol_addresses(self, objfile: str, names: list[str]) -> dict[str, int | None]:
        """The address gdb gives each of ``names`` in ``objfile`` (its
        functions and variables, looked up in that objfile only: a module's
        ``hot`` is not the kernel's); None when gdb has no such symbol there."""
        code = (
            "import gdb\n"
            f"ko = {objfile!r}\n"
            f"for name in {names!r}:\n"
            "    found = None\n"
            "    cands = list(gdb.lookup_static_symbols(name))\n"
            "    cands.append(gdb.lookup_global_symbol(name))\n"
            "    for s in cands:\n"
            "        if s is None or s.symtab is None or s.symtab.objfile.filename != ko:\n"
            "            continue\n"
            "        try:\n"
            "            found = int(s.value().address)\n"
            "        except gdb.error:\n"
            "            continue\n"
            "        break\n"
            "    print('ADDR', name, found)\n"
        )
        out = self.dbg.console(f"python exec({code!r})")
        addresses: dict[str, int | None] = dict.fromkeys(names)
        for name, value in re.findall(r"^ADDR (\S+) (\S+)$", out, re.M):
            addresses[name] = None if value == "None" else int(value)
        return addresses


def parse_section_map(text: str, objfile: str) -> dict[str, int]:
    """{section: start} of ``objfile`` in gdb's ``maint info sections
    -all-objects`` output (gdb 13 to 16: an ``Object file:`` line, then one
    `` [N] 0xSTART->0xEND at 0xOFF: NAME FLAGS`` line per section)."""
    sections: dict[str, int] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"\s*Object file: [`']?(.+?)'?, file type", line)
        if m:
            current = m.group(1)
            continue
        m = re.match(r"\s*\[\s*\d+\]\s+(0x[0-9a-f]+)->0x[0-9a-f]+ at 0x[0-9a-f]+: (\S+)", line)
        if m and current == objfile:
            sections.setdefault(m.group(2), int(m.group(1), 16))
    return sections
