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
