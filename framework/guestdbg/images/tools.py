"""The QEMU and gdb under test, by the name a user gives (``--qemu``, ``--gdb``).

A value is a name guestdbg resolves (``system``: the host's own; for QEMU
``debian-10.0``: bookworm-backports' QEMU 10.0.2 as Debian ships it, fetched
into the cache; for gdb ``debian-16``: trixie's gdb 16 built from its source
package into the cache, :mod:`guestdbg.images.gdb_builds`) or a binary (a
path, or a name on PATH).
Each value of a repeated option is a matrix axis value; its label goes into
test ids when more than one is given.
"""

from __future__ import annotations

import argparse
import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

SYSTEM = "system"
QEMU_NAMES = (SYSTEM, "debian-10.0")
GDB_NAMES = (SYSTEM, "debian-16")  # debian-16: images.gdb_builds


@dataclass(frozen=True)
class Tool:
    """A QEMU or gdb binary under test: its label (for ids), the binary, and
    the arguments it needs besides the usual ones (a QEMU's own firmware)."""

    label: str
    binary: str
    args: tuple[str, ...] = ()


def _binary(value: str, what: str) -> Tool:
    path = Path(value).expanduser()
    if "/" in value:
        if not path.is_file():
            raise argparse.ArgumentTypeError(f"the {what} {value!r} does not exist")
        return Tool(label(value), str(path.absolute()))  # as given: a symlink is the name tested
    if shutil.which(value) is None:
        raise argparse.ArgumentTypeError(f"the {what} {value!r} is not on PATH")
    return Tool(value, value)


def label(value: str) -> str:
    """A value as test ids show it (a path's slashes become underscores)."""
    return re.sub(r"[^A-Za-z0-9_.+-]+", "_", value).strip("_")


@functools.cache
def qemu_named(value: str) -> Tool:
    """The QEMU a ``--qemu`` value names (fetching ``debian-10.0`` on first use)."""
    if value == SYSTEM:
        return Tool(SYSTEM, "qemu-system-x86_64")
    if value == "debian-10.0":
        from guestdbg.images.outer_qemu import debian_qemu

        q = debian_qemu()
        return Tool(value, str(q.binary), q.args())
    return _binary(value, "qemu-system-x86_64")


@functools.cache
def gdb_named(value: str) -> Tool:
    """The gdb a ``--gdb`` value names."""
    if value == SYSTEM:
        return Tool(SYSTEM, "gdb")
    if value in GDB_NAMES:
        from guestdbg.images.gdb_builds import resolve_gdb

        return Tool(value, str(resolve_gdb(value)))
    return _binary(value, "gdb")


def check_qemu(value: str) -> str:
    """A ``--qemu`` value, checked without fetching anything."""
    return value if value in QEMU_NAMES else _binary(value, "qemu-system-x86_64").binary


def check_gdb(value: str) -> str:
    """A ``--gdb`` value, checked without building anything."""
    return value if value in GDB_NAMES else _binary(value, "gdb").binary
