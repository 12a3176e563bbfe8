"""A built kernel tree, as the suite uses it, and the options it must have."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from guestdbg.errors import InputError
from guestdbg.images.elf import elf_symbol_string
from guestdbg.recipes import CONFIG_FRAGMENT


def config_options(text: str) -> dict[str, str]:
    """Parse a Kconfig .config or fragment into {CONFIG_X: value}, 'n' for 'is not set'."""
    opts = {}
    for line in text.splitlines():
        m = re.match(r"^(CONFIG_\w+)=(.*)$", line)
        if m:
            opts[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^# (CONFIG_\w+) is not set", line)
        if m:
            opts[m.group(1)] = "n"
    return opts


# What the suite needs from any kernel under test; each with why.
REQUIRED_OPTIONS: dict[str, str] = {
    "CONFIG_DEBUG_INFO": "gdb needs DWARF to resolve symbols, frames and module variables",
    "CONFIG_GDB_SCRIPTS": "lx-symbols comes from the tree's scripts/gdb (vmlinux-gdb.py)",
    "CONFIG_MODULES": "the test module is inserted at run time",
    "CONFIG_MODULE_UNLOAD": "the lx-symbols reload scenario removes and re-inserts the module",
    "CONFIG_SERIAL_8250_CONSOLE": "the console on ttyS0 is how the suite reads the kernel",
    "CONFIG_BLK_DEV_INITRD": "the guest's userspace is an initramfs",
    "CONFIG_KALLSYMS": "call traces and /proc/kallsyms need symbol names",
    "CONFIG_SMP": "the matrix runs 1 and 2 vCPUs",
}


def missing_options(config_text: str) -> list[str]:
    """Sentences naming each required option that ``config_text`` lacks."""
    opts = config_options(config_text)
    return [
        f"{name} is not set ({why}); add it, e.g. by merging {CONFIG_FRAGMENT.name}"
        for name, why in REQUIRED_OPTIONS.items()
        if opts.get(name, "n") == "n"
    ]


@dataclass(frozen=True)
class KernelTree:
    """A built kernel tree as the suite uses it: bzImage to boot, vmlinux for
    gdb, vmlinux-gdb.py + scripts/gdb for lx-symbols, the tree to build
    modules against."""

    root: Path
    bzimage: Path
    vmlinux: Path
    gdb_script: Path
    release: str
    config: Path

    @classmethod
    def at(cls, root: Path | str) -> KernelTree:
        """Check a built tree; InputError with one sentence naming what is missing."""
        root = Path(root).expanduser().resolve()
        if not root.is_dir():
            raise InputError(f"kernel tree {root} does not exist or is not a directory")
        bzimage = root / "arch" / "x86" / "boot" / "bzImage"
        need = [
            (bzimage, "no arch/x86/boot/bzImage: build the tree first ('make bzImage')"),
            (root / "vmlinux", "no vmlinux: build the tree first ('make vmlinux')"),
            (
                root / "vmlinux-gdb.py",
                "no vmlinux-gdb.py: build with CONFIG_GDB_SCRIPTS=y and run 'make scripts_gdb'",
            ),
            (
                root / "scripts" / "gdb" / "linux" / "constants.py",
                "no scripts/gdb/linux/constants.py: run 'make scripts_gdb' in the tree",
            ),
            (root / "include" / "config" / "kernel.release", "no include/config/kernel.release"),
            (root / ".config", "no .config"),
        ]
        for path, why in need:
            if not path.exists():
                raise InputError(f"kernel tree {root} is not usable: {why}")
            if not os.access(path, os.R_OK):
                raise InputError(f"kernel tree {root} is not usable: {path} is not readable")
        release = (root / "include" / "config" / "kernel.release").read_text().strip()
        return cls(
            root, bzimage, root / "vmlinux", root / "vmlinux-gdb.py", release, root / ".config"
        )

    def missing_options(self) -> list[str]:
        problems = missing_options(self.config.read_text(errors="replace"))
        if self.gdb_script.exists() and self.root not in self.gdb_script.parents:
            # gdb scripts prepared outside the build (a distribution kernel)
            problems = [p for p in problems if not p.startswith("CONFIG_GDB_SCRIPTS ")]
        return problems

    def banner(self) -> str | None:
        """``linux_banner`` of the vmlinux (what /proc/version prints)."""
        return elf_symbol_string(self.vmlinux, "linux_banner")

    def check_vmlinux(self) -> None:
        """InputError naming both builds when the vmlinux is not the build of
        the bzImage (release and ``#N SMP … date`` must match)."""
        booted = bzimage_version(self.bzimage)
        banner = self.banner()
        if booted is None or banner is None:
            return  # nothing to compare (an unusual format); checked after boot
        if build_of(booted) != build_of(banner):
            raise InputError(
                f"the vmlinux {self.vmlinux} ({' '.join(build_of(banner))}) is not the build "
                f"of the bzImage {self.bzimage} ({' '.join(build_of(booted))}): rebuild the "
                "tree or give a matching pair"
            )

    def check_running(self, proc_version: str) -> None:
        """InputError when the guest's /proc/version is not this vmlinux's banner."""
        banner = self.banner()
        if banner is None or not proc_version.strip():
            return
        if build_of(proc_version) != build_of(banner):
            raise InputError(
                f"the guest runs {' '.join(build_of(proc_version))}, but the vmlinux "
                f"{self.vmlinux} is {' '.join(build_of(banner))}: gdb would judge the guest "
                "with the wrong symbols"
            )

    def identity(self) -> str:
        """What makes two builds of a tree different, for cache keys."""
        st = self.vmlinux.stat()
        return f"{self.root}:{self.release}:{st.st_size}:{st.st_mtime_ns}"


# -- which build a file is ------------------------------------------------------
def bzimage_version(path: Path) -> str | None:
    """The kernel_version string of a bzImage's setup header (boot protocol
    2.00+: a pointer at 0x20E, relative to 0x200), e.g.
    ``6.1.192-guestdbg (root@host) #1 SMP PREEMPT_DYNAMIC Wed Nov 25 …``."""
    try:
        with open(path, "rb") as f:
            head = f.read(0x8000)
    except OSError:
        return None
    if head[0x202:0x206] != b"HdrS":
        return None
    ptr = int.from_bytes(head[0x20E:0x210], "little")
    start = 0x200 + ptr
    if not 0x200 < start < len(head):
        return None
    return head[start : head.index(b"\0", start)].decode(errors="replace")


def build_of(version: str) -> tuple[str, str]:
    """(release, "#N …" build string) of a bzImage version or a linux_banner /
    /proc/version line: the parts both carry."""
    text = version.strip().removeprefix("Linux version ").strip()
    release = text.split(" ", 1)[0]
    hash_at = text.rfind(" #")
    return release, text[hash_at + 1 :] if hash_at >= 0 else ""
