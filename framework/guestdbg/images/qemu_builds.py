"""The QEMU under test: the host's own, a path, or a named newer QEMU fetched
into the cache.

``debian-10.0`` is bookworm-backports' QEMU 10.0.x, the same download the
nested host's outer level uses (:mod:`guestdbg.images.outer_qemu`): it
runs with Debian 12's libraries and needs its own firmware first (``-L``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from guestdbg.errors import InputError
from guestdbg.images.outer_qemu import _version, outer_qemu

NAMES = ("system", "debian-10.0")


@dataclass(frozen=True)
class QemuBinary:
    """A QEMU to run guests with: the binary, the arguments it needs besides
    the usual ones (its data directory), its version."""

    binary: Path
    args: tuple[str, ...]
    version: str


def resolve_qemu(name: str) -> QemuBinary:
    """The QEMU a ``--qemu`` value names: ``system`` (qemu-system-x86_64 on
    PATH), ``debian-10.0`` (fetched into the cache on first use) or a path."""
    if name == "system":
        found = shutil.which("qemu-system-x86_64")
        if found is None:
            raise InputError("no qemu-system-x86_64 on PATH (apt-get install qemu-system-x86)")
        return QemuBinary(Path(found), (), _version(Path(found)))
    if name == "debian-10.0":
        fetched = outer_qemu()
        return QemuBinary(fetched.binary, fetched.args(), fetched.version)
    path = Path(name).expanduser()
    if path.is_file() and os.access(path, os.X_OK):
        return QemuBinary(path.resolve(), (), _version(path))
    raise InputError(f"--qemu {name!r} is neither a QEMU binary nor one of {', '.join(NAMES)}")
