"""What a snapshot of a booted guest depends on: its key.

One snapshot per image x QEMU binary x machine: the key hashes the kernel
and initramfs contents, the QEMU binary (path, version and contents), the
whole QEMU command line but its per-guest paths (accelerator, vCPUs, memory,
-cpu, kernel command line, extra arguments, …), the preparation commands
and, under KVM, the host kernel and CPU. Anything else is another snapshot,
so one is never restored by another QEMU or into another machine.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from guestdbg.errors import GuestError
from guestdbg.images.cache import content_key
from guestdbg.runtime import host
from guestdbg.runtime.spec import GuestSpec

# Bump when what a snapshot holds changes in a way the key does not show.
RECIPE = "1"


@functools.cache
def _digest_of(path: str, identity: tuple[int, int, int, int]) -> str:
    """sha256 of a file, once per process per (device, inode, size, mtime)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def file_digest(path: Path) -> str:
    st = os.stat(path)
    return _digest_of(str(path), (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))


def _host_cpu() -> str:
    """The host CPU's model and flags (a KVM guest's -cpu host depends on them)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    wanted = ("model name", "flags")
    lines = [ln for ln in text.splitlines() if ln.split(":", 1)[0].strip() in wanted]
    return content_key("\n".join(sorted(set(lines))))


def key_fields(spec: GuestSpec, prepare: Sequence[str]) -> dict[str, Any]:
    """Everything a snapshot depends on, as data (hashed into its key and kept
    in its metadata): GuestError when QEMU is missing, OSError when an image is."""
    qemu = host.probe_qemu(spec.qemu)
    if not qemu.path or not qemu.version:
        raise GuestError(qemu.problem or f"cannot tell the version of {spec.qemu}")
    # The command line with the per-guest parts neutral: sockets, logs, name
    # and the gdbstub (not guest state) are the same for every guest.
    neutral = dataclasses.replace(
        spec,
        name="guest",
        paused=False,
        incoming=False,
        log_append=False,
        gdbstub="unix",
        qemu=qemu.path,
    )
    command = (Path("CMD"), Path("CMD.LOG")) if spec.command_port else (None, None)
    argv = neutral.argv(Path("QMP"), Path("CONSOLE"), Path("CONSOLE.LOG"), "GDBSTUB", *command)
    files = {str(spec.kernel): "kernel"}
    if spec.initrd is not None:
        files[str(spec.initrd)] = "initrd"
    argv = [
        f"{files[a]}:{file_digest(Path(a))}" if a in files else a
        for a in argv[:1] + argv[3:]  # without -name NAME
    ]
    fields: dict[str, Any] = {
        "recipe": RECIPE,
        "qemu": {
            "path": qemu.path,
            "version": qemu.version,
            "sha256": file_digest(Path(qemu.path)),
        },
        "argv": argv,
        "prepare": list(prepare),
    }
    if spec.accel != "tcg":
        fields["host"] = {"kernel": platform.release(), "cpu": _host_cpu()}
    return fields


def snapshot_key(spec: GuestSpec, prepare: Sequence[str] = ()) -> str:
    """The key: 16 hex digits of the sha256 of the fields as sorted JSON (the
    same digest the cache's ``content_key`` makes of one string)."""
    text = json.dumps(key_fields(spec, prepare), sort_keys=True)
    return hashlib.sha256(text.encode() + b"\0").hexdigest()[:16]
