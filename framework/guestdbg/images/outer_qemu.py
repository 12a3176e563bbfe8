"""The QEMU of the nested KVM host's outer level, when that level is TCG.

Under an outer TCG, QEMU 7.2 (Debian 12's) never fires a hardware
breakpoint of the nested guest: DR7 is not armed on VM entry, fixed upstream
in QEMU 9.1 ("target/i386: disable/enable breakpoints on vmentry/vmexit").
So the outer level uses QEMU 10.0.2 from bookworm-backports, downloaded and
extracted into the cache with a private apt configuration (it runs with
Debian 12's libraries). It is the outer level only: the QEMU under test is
the one inside the nested host (this machine's, or ``--qemu``).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from guestdbg.errors import BuildError
from guestdbg.images.apt import PrivateApt

RELEASE = "bookworm"
SUITE = "bookworm-backports"
PACKAGES = ("qemu-system-x86", "qemu-system-data")


@dataclass(frozen=True)
class OuterQemu:
    """A QEMU for the outer level: the binary, its data directory (``-L``) and version."""

    binary: Path
    data_dir: Path
    version: str

    def args(self) -> tuple[str, ...]:
        """Arguments it needs besides the usual ones: its own firmware first
        (option ROMs of its version), the system's seabios after."""
        return ("-L", str(self.data_dir))


def _version(binary: Path) -> str:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as err:
        raise BuildError(f"{binary} does not run: {err.strerror}") from None
    m = re.search(r"version (\S+)", out.stdout)
    if not m:
        missing = subprocess.run(
            ["ldd", str(binary)], capture_output=True, text=True, check=False
        ).stdout
        libs = [ln.split()[0] for ln in missing.splitlines() if "not found" in ln]
        why = f"libraries missing: {', '.join(libs)}" if libs else out.stderr.strip()[:200]
        raise BuildError(f"the outer-level QEMU {binary} does not run here ({why})")
    return m.group(1)


def outer_qemu() -> OuterQemu:
    """QEMU from bookworm-backports (10.0.2 when this was written), fetched
    into the cache on first use."""
    apt = PrivateApt(RELEASE)
    version = apt.candidate(PACKAGES[0], SUITE)
    if version is None:
        raise BuildError(f"{SUITE} offers no {PACKAGES[0]} (the outer level needs QEMU >= 9.1)")
    roots = [apt.fetch(p, version) for p in PACKAGES]
    binary = roots[0] / "usr" / "bin" / "qemu-system-x86_64"
    data_dir = roots[1] / "usr" / "share" / "qemu"
    if not binary.exists() or not data_dir.is_dir():
        raise BuildError(f"{PACKAGES[0]} {version} has no qemu-system-x86_64 or data directory")
    return OuterQemu(binary, data_dir, _version(binary))
