"""The initramfs of the KVM-capable VM that runs one command on this
machine's root (``guestdbg vm-run``, :mod:`guestdbg.runtime.kvm_vm`).

Its kernel is Debian 12's cloud kernel (the nested host's ``debian-6.1``,
:mod:`guestdbg.images.host_kernels`): it has KVM as modules but no 9p, so
the root is shared over virtiofs. The initramfs holds static busybox,
``images/vm/init`` (stage 1: modules, mounts, switch_root) and
``images/vm/run-command`` (stage 2: the command), and the kernel's modules
for virtio-pci, virtiofs (with fuse), overlay and KVM, dependencies first.
Uncompressed (an outer TCG would spend seconds inflating it): a few MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from guestdbg.errors import BuildError
from guestdbg.images.cache import RECIPE_VERSION, cache_entry, content_key, mark_complete
from guestdbg.images.guest_image import BUSYBOX
from guestdbg.images.host_image import make_cpio
from guestdbg.images.host_kernels import HostKernel, debian_modules, host_kernel
from guestdbg.recipes import VM_INIT_SCRIPT, VM_RUN_SCRIPT

# The VM's kernel: a --host-kernel name (Debian 12's 6.1 cloud kernel).
VM_KERNEL = "debian-6.1"
# What the VM loads, each with what it depends on (kvm_amd or kvm_intel:
# the init loads the one the CPU has).
VM_MODULES = ("virtio_pci", "virtiofs", "overlay", "kvm", "kvm_amd", "kvm_intel")


@dataclass(frozen=True)
class VmImage:
    """The VM's kernel and initramfs."""

    kernel: HostKernel
    initrd: Path
    modules: tuple[Path, ...]


def _listing(modules: tuple[Path, ...], load_order: Path) -> str:
    lines = ["dir /dev 0755 0 0", "nod /dev/console 0600 0 0 c 5 1"]
    for d in ("/bin", "/proc", "/sys", "/lib", "/lib/modules", "/lib/modules/vm"):
        lines.append(f"dir {d} 0755 0 0")
    lines.append(f"file /bin/busybox {BUSYBOX.resolve()} 0755 0 0")
    lines.append(f"file /init {VM_INIT_SCRIPT.resolve()} 0755 0 0")
    lines.append(f"file /run-command {VM_RUN_SCRIPT.resolve()} 0755 0 0")
    for ko in modules:
        lines.append(f"file /lib/modules/vm/{ko.name} {ko.resolve()} 0644 0 0")
    lines.append(f"file /lib/modules/vm/load-order {load_order} 0644 0 0")
    return "\n".join(lines) + "\n"


def vm_image() -> VmImage:
    """The VM's kernel (fetched on first use) and its initramfs, built into the cache."""
    if not BUSYBOX.exists():
        raise BuildError(f"{BUSYBOX} is missing: apt-get install busybox-static")
    kernel = host_kernel(VM_KERNEL)
    modules = debian_modules(kernel, VM_MODULES)
    key = content_key(
        "vm-initramfs",
        RECIPE_VERSION,
        kernel.identity(),
        *[f"{m.name}:{m.stat().st_size}" for m in modules],
        VM_INIT_SCRIPT,
        VM_RUN_SCRIPT,
        BUSYBOX,
    )
    with cache_entry(f"vm-initramfs-{key}") as (path, complete):
        out = path / "initramfs.cpio"
        if complete:
            return VmImage(kernel, out, modules)
        path.mkdir(parents=True)
        load_order = path / "load-order"
        load_order.write_text("".join(f"{ko.name}\n" for ko in modules))
        (path / "initramfs.list").write_text(_listing(modules, load_order))
        make_cpio(path / "initramfs.list", out)
        mark_complete(path)
        return VmImage(kernel, out, modules)
