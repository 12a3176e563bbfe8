"""The nested KVM host's initramfs: everything L1 runs, in one cpio.

Static busybox and ``images/nested/init``; the host kernel's KVM and
virtio-net modules (in load order); the QEMU under test (this machine's
``qemu-system-x86_64``, or ``--qemu``) with every library ``ldd`` names and
the firmware it loads (``/usr/share/qemu``, ``/usr/share/seabios``, symlinks
followed); ``kvmcaps`` (built static from ``images/nested/kvmcaps.c``); and
the guests' (L2's) kernels and initramfs, each under ``/guest/<key>/``.
Uncompressed (the outer TCG would spend seconds inflating it): about 60 MB,
built in about a second with the default tree's ``usr/gen_init_cpio``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from guestdbg.errors import BuildError
from guestdbg.images.cache import (
    RECIPE_VERSION,
    Progress,
    cache_entry,
    content_key,
    mark_complete,
    run_logged,
)
from guestdbg.images.default_kernel import build_default_kernel
from guestdbg.images.guest_image import BUSYBOX
from guestdbg.images.host_kernels import HostKernel
from guestdbg.recipes import HOST_INIT_SCRIPT, KVMCAPS_SOURCE

FIRMWARE_DIRS = (Path("/usr/share/qemu"), Path("/usr/share/seabios"))
L1_QEMU = "/usr/bin/qemu-system-x86_64"
L1_KVMCAPS = "/usr/bin/kvmcaps"


@dataclass(frozen=True)
class HostImage:
    """The nested host's initramfs, and where the guests' files are inside it."""

    host: HostKernel
    initrd: Path
    qemu: str  # the QEMU under test, on this machine
    guest_files: dict[str, str] = field(default_factory=dict)  # host path -> path in L1

    def path_in_host(self, path: Path | str) -> str:
        """Where a guest file (kernel, initrd) is inside L1; BuildError when it
        was not put there."""
        try:
            return self.guest_files[str(Path(path).resolve())]
        except KeyError:
            raise BuildError(
                f"{path} is not in the nested host's initramfs (it was built for "
                f"{', '.join(sorted(self.guest_files)) or 'no guest'})"
            ) from None


def build_kvmcaps() -> Path:
    """``kvmcaps``, static, in the cache."""
    key = content_key("kvmcaps", RECIPE_VERSION, KVMCAPS_SOURCE)
    with cache_entry(f"kvmcaps-{key}") as (path, complete):
        out = path / "kvmcaps"
        if complete:
            return out
        path.mkdir(parents=True)
        progress = Progress("building kvmcaps (static)")
        run_logged(
            ["gcc", "-static", "-O2", "-Wall", "-o", str(out), str(KVMCAPS_SOURCE)],
            path / "build.log",
            progress,
        )
        mark_complete(path)
        return out


def libraries(binary: Path) -> list[Path]:
    """The shared libraries ``ldd`` names for ``binary``, and the loader."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise BuildError(f"ldd {binary} failed: {out.stderr.strip()}")
    libs = []
    for line in out.stdout.splitlines():
        if "not found" in line:
            raise BuildError(f"{binary} needs a library that is not installed: {line.strip()}")
        m = re.search(r"(/\S+) \(0x", line)
        if m:
            libs.append(Path(m.group(1)))
    return libs


def _file_key(path: Path) -> str:
    st = path.stat()
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def _guest_dir(kernel: Path, initrd: Path | None) -> str:
    h = hashlib.sha256(f"{_file_key(kernel)}|{_file_key(initrd) if initrd else ''}".encode())
    return f"/guest/{h.hexdigest()[:12]}"


def _listing(
    host: HostKernel,
    qemu: Path,
    kvmcaps: Path,
    guests: list[tuple[Path, Path | None]],
    load_order: Path,
) -> tuple[str, dict[str, str]]:
    dirs: set[str] = set()
    lines: list[str] = []

    def mkdir(path: str) -> None:
        parts = Path(path).parts[1:]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            if d not in dirs:
                dirs.add(d)
                lines.append(f"dir {d} 0755 0 0")

    def add(target: str, source: Path, mode: str = "0644") -> None:
        mkdir(str(Path(target).parent))
        lines.append(f"file {target} {source.resolve()} {mode} 0 0")

    lines += ["dir /dev 0755 0 0", "nod /dev/console 0600 0 0 c 5 1"]
    dirs.add("/dev")
    for d in ("/proc", "/sys", "/tmp", "/run", "/sbin"):
        mkdir(d)
    add("/bin/busybox", BUSYBOX, "0755")
    add("/init", HOST_INIT_SCRIPT, "0755")
    add(L1_QEMU, qemu, "0755")
    add(L1_KVMCAPS, kvmcaps, "0755")
    for lib in libraries(qemu):
        add(str(lib), lib, "0755")
    for fw_dir in FIRMWARE_DIRS:
        for f in sorted(fw_dir.rglob("*")):
            if f.is_file():  # follows symlinks: the firmware itself goes in
                add(str(f), f)
    for ko in host.modules:
        add(f"/lib/modules/host/{ko.name}", ko)
    add("/lib/modules/host/load-order", load_order)
    files: dict[str, str] = {}
    for kernel, initrd in guests:
        where = _guest_dir(kernel, initrd)
        add(f"{where}/bzImage", kernel)
        files[str(kernel.resolve())] = f"{where}/bzImage"
        if initrd is not None:
            add(f"{where}/initrd", initrd)
            files[str(initrd.resolve())] = f"{where}/initrd"
    return "\n".join(lines) + "\n", files


def host_initramfs(
    host: HostKernel, guests: list[tuple[Path, Path | None]], qemu: str = "qemu-system-x86_64"
) -> HostImage:
    """The nested host's initramfs for ``host``, carrying the (kernel, initrd)
    pairs of ``guests`` and the QEMU under test ``qemu``; built into the cache."""
    if not BUSYBOX.exists():
        raise BuildError(f"{BUSYBOX} is missing: apt-get install busybox-static")
    found = shutil.which(qemu)
    if not found:
        raise BuildError(
            f"the QEMU under test {qemu} is not installed (apt-get install qemu-system-x86)"
        )
    qemu_path = Path(found).resolve()
    kvmcaps = build_kvmcaps()
    key = content_key(
        "host-initramfs",
        RECIPE_VERSION,
        host.identity(),
        _file_key(qemu_path),
        *[_file_key(k) + (_file_key(i) if i else "") for k, i in guests],
        HOST_INIT_SCRIPT,
        BUSYBOX,
        kvmcaps,
    )
    with cache_entry(f"host-initramfs-{host.name}-{key}") as (path, complete):
        out = path / "initramfs.cpio"
        load_order = path / "load-order"
        if not complete:
            path.mkdir(parents=True)
            load_order.write_text("".join(f"{ko.name}\n" for ko in host.modules))
        text, files = _listing(host, qemu_path, kvmcaps, guests, load_order)
        if complete:
            return HostImage(host, out, str(qemu_path), files)
        progress = Progress(f"building the nested host's initramfs ({host.name})")
        (path / "initramfs.list").write_text(text)
        make_cpio(path / "initramfs.list", out)
        mark_complete(path)
        progress.done(f"{out.stat().st_size / 1e6:.0f} MB in {path}")
        return HostImage(host, out, str(qemu_path), files)


def make_cpio(listing: Path, out: Path) -> None:
    """An uncompressed initramfs from a gen_init_cpio listing, with the
    default tree's own ``usr/gen_init_cpio`` (no root needed)."""
    gen = build_default_kernel().root / "usr" / "gen_init_cpio"
    with open(out, "wb") as cpio:
        proc = subprocess.run(
            [str(gen), str(listing)], stdout=cpio, stderr=subprocess.PIPE, check=False
        )
    if proc.returncode != 0:
        raise BuildError(f"{gen} failed: {proc.stderr.decode(errors='replace').strip()}")
