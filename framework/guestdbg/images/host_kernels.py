"""Host kernels for the nested KVM host (``--host-kernel``): the KVM under test.

``debian-6.1``: bookworm's ``linux-image-<abi>-cloud-amd64`` (KVM with
``KVM_GUESTDBG_BLOCKIRQ``); ``debian-6.12``: bookworm's 6.12 (its security
archive's ``linux-6.12``, the newest KVM Debian 12 has); ``debian-5.10``:
bullseye's (no BLOCKIRQ: the positive control of the bug this project exists
for). They are downloaded and extracted into the cache through a private apt
configuration (:mod:`guestdbg.images.apt`). Anything else is the path of a
built kernel tree (``make bzImage modules``) with KVM as modules or built in.

A host kernel is booted as L1 with an initramfs of its own
(:mod:`guestdbg.images.host_image`); what that needs from it is the bzImage,
the .config and the modules to load: kvm, kvm_amd/kvm_intel, virtio-net,
each with what it depends on, in load order.
"""

from __future__ import annotations

import lzma
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from guestdbg.errors import BuildError, InputError
from guestdbg.images.apt import PrivateApt
from guestdbg.images.trees import config_options

# --host-kernel names: Debian release of the private apt configuration.
DEBIAN_HOSTS = {
    "debian-6.1": "bookworm",
    "debian-6.12": "bookworm",
    "debian-5.10": "bullseye",
}
NAMED_HOSTS = {
    "debian-6.1": "Debian 12's cloud kernel (6.1, KVM with BLOCKIRQ)",
    "debian-6.12": "Debian 12's 6.12 cloud kernel (the newest KVM in Debian 12)",
    "debian-5.10": "Debian 11's cloud kernel (5.10, KVM without BLOCKIRQ)",
}
META_PACKAGE = "linux-image-cloud-amd64"
# The meta package naming each host's kernel image (default: META_PACKAGE).
META_PACKAGES = {"debian-6.12": "linux-image-6.12-cloud-amd64"}

# Modules the host loads (when they are modules): KVM, and the network.
ROOT_MODULES = ("kvm", "kvm_amd", "kvm_intel", "virtio_pci", "virtio_net")

# What a host kernel needs, each with why: (option, why, alternatives).
REQUIRED: tuple[tuple[str, str], ...] = (
    ("CONFIG_KVM", "it is the KVM under test"),
    ("CONFIG_VIRTIO_PCI", "the host reaches guestdbg through a virtio-net NIC"),
    ("CONFIG_VIRTIO_NET", "the host reaches guestdbg through a virtio-net NIC"),
    ("CONFIG_SERIAL_8250_CONSOLE", "the host is driven through its serial console"),
    ("CONFIG_BLK_DEV_INITRD", "the host's userspace is an initramfs"),
    ("CONFIG_DEVTMPFS", "/dev/kvm and the console nodes come from devtmpfs"),
)


def _norm(name: str) -> str:
    return name.replace("-", "_")


@dataclass(frozen=True)
class HostKernel:
    """A kernel to boot as the nested KVM host.

    name: the ``--host-kernel`` value's label (``debian-6.1``, or the tree's
        folder name). release: ``uname -r``. origin: one line for reports.
    modules: the .ko files to load, in load order (built-in ones are absent).
    """

    name: str
    release: str
    bzimage: Path
    config: Path
    origin: str
    modules: tuple[Path, ...] = field(default=())

    def options(self) -> dict[str, str]:
        return config_options(self.config.read_text(errors="replace"))

    def identity(self) -> str:
        st = self.bzimage.stat()
        mods = ",".join(f"{m.name}:{m.stat().st_size}" for m in self.modules)
        return f"{self.name}:{self.release}:{st.st_size}:{st.st_mtime_ns}:{mods}"


def kvm_problems(options: dict[str, str]) -> list[str]:
    """Sentences naming what a host kernel's config lacks (empty: usable)."""
    problems = []
    for name, why in REQUIRED:
        if options.get(name, "n") == "n":
            problems.append(f"{name} is not set ({why})")
    if options.get("CONFIG_KVM", "n") != "n" and all(
        options.get(o, "n") == "n" for o in ("CONFIG_KVM_AMD", "CONFIG_KVM_INTEL")
    ):
        problems.append("neither CONFIG_KVM_AMD nor CONFIG_KVM_INTEL is set (KVM has no backend)")
    return problems


def _module_index(files: list[Path]) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for f in files:
        base = f.name.split(".ko")[0]
        index.setdefault(_norm(base), f)
    return index


def _depends(ko: Path) -> list[str]:
    try:
        out = subprocess.run(
            ["modinfo", "-F", "depends", str(ko)],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        ).stdout
    except OSError:
        raise BuildError("modinfo is missing: apt-get install kmod") from None
    return [_norm(d) for d in out.strip().split(",") if d.strip()]


def load_order(
    index: dict[str, Path],
    options: dict[str, str],
    where: str,
    roots: tuple[str, ...] = ROOT_MODULES,
) -> tuple[Path, ...]:
    """The modules ``roots`` need, dependencies first; built-in ones are
    skipped, a module the config wants but the tree lacks is one sentence."""
    order: list[Path] = []
    seen: set[str] = set()

    def visit(name: str, wanted_by: str | None) -> None:
        if name in seen:
            return
        seen.add(name)
        ko = index.get(name)
        if ko is None:
            option = "CONFIG_" + name.upper()
            if wanted_by is None and options.get(option, "m") != "m":
                return  # built in (or not configured: kvm_problems says so)
            if wanted_by is None and name in ("kvm_amd", "kvm_intel"):
                return
            raise InputError(
                f"host kernel {where}: module {name} is not built"
                + (f" (needed by {wanted_by})" if wanted_by else "")
                + ": run 'make modules' in the tree"
            )
        for dep in _depends(ko):
            visit(dep, name)
        order.append(ko)

    for root in roots:
        visit(root, None)
    return tuple(order)


def _decompressed(ko: Path, into: Path) -> Path:
    """A .ko.xz as a plain .ko in ``into`` (busybox insmod takes plain ones)."""
    if not ko.name.endswith(".xz"):
        return ko
    into.mkdir(parents=True, exist_ok=True)
    out = into / ko.name.removesuffix(".xz")
    if not out.exists():
        out.write_bytes(lzma.decompress(ko.read_bytes()))
    return out


def debian_host(name: str) -> HostKernel:
    """A Debian cloud kernel (``debian-6.1``, ``debian-6.12``, ``debian-5.10``) fetched
    into the cache."""
    apt = PrivateApt(DEBIAN_HOSTS[name])
    meta_package = META_PACKAGES.get(name, META_PACKAGE)
    meta = apt.candidate(meta_package)
    if meta is None:
        raise BuildError(f"the private apt lists of Debian {apt.release} have no {meta_package}")
    m = re.search(
        r"\b(linux-image-(\S+-cloud-amd64))(?:-unsigned)? \(= (\S+)\)",
        apt.depends(meta_package, meta),
    )
    if not m:
        raise BuildError(f"{meta_package} {meta} of Debian {apt.release} names no kernel image")
    package, release, version = m.group(1), m.group(2), m.group(3)
    root = apt.fetch(package, version)
    bzimage = root / "boot" / f"vmlinuz-{release}"
    config = root / "boot" / f"config-{release}"
    moddir = root / "lib" / "modules" / release
    if not bzimage.exists() or not config.exists() or not moddir.is_dir():
        raise BuildError(
            f"{package} {version} extracted in {root} has no vmlinuz, config or modules"
        )
    index = _module_index(sorted(moddir.rglob("*.ko*")))
    options = config_options(config.read_text(errors="replace"))
    problems = kvm_problems(options)
    if problems:
        raise BuildError(f"{package} {version} cannot be a nested KVM host: {problems[0]}")
    order = load_order(index, options, f"{package} {version}")
    plain = tuple(_decompressed(ko, root.parent / "plain-modules") for ko in order)
    return HostKernel(name, release, bzimage, config, f"{package} {version}", plain)


def debian_modules(host: HostKernel, roots: tuple[str, ...]) -> tuple[Path, ...]:
    """The modules ``roots`` need from a Debian host kernel (``debian_host``),
    dependencies first, as plain .ko files: for a VM that boots it with other
    modules than a nested host's (:mod:`guestdbg.images.vm_image`)."""
    root = host.bzimage.parent.parent
    moddir = root / "lib" / "modules" / host.release
    index = _module_index(sorted(moddir.rglob("*.ko*")))
    order = load_order(index, host.options(), host.origin, roots)
    return tuple(_decompressed(ko, root.parent / "plain-modules") for ko in order)


def tree_host(path: Path | str) -> HostKernel:
    """A built kernel tree as the host; InputError with one sentence for what it lacks."""
    root = Path(path).expanduser().resolve()
    if not root.is_dir():
        raise InputError(f"host kernel tree {root} does not exist or is not a directory")
    bzimage = root / "arch" / "x86" / "boot" / "bzImage"
    config = root / ".config"
    release_file = root / "include" / "config" / "kernel.release"
    for p, why in (
        (config, "no .config"),
        (bzimage, "no arch/x86/boot/bzImage: build it first ('make bzImage modules')"),
        (release_file, "no include/config/kernel.release: build it first"),
    ):
        if not p.exists():
            raise InputError(f"host kernel tree {root} is not usable: {why}")
    options = config_options(config.read_text(errors="replace"))
    if options.get("CONFIG_KVM", "n") == "n":
        raise InputError(
            f"host kernel tree {root} has no KVM (CONFIG_KVM is not set), so it cannot run "
            f"a guest: enable CONFIG_KVM and CONFIG_KVM_AMD/CONFIG_KVM_INTEL (=m or =y), e.g. "
            f"by merging the fragment 'guestdbg images --host-fragment' names, and rebuild"
        )
    problems = kvm_problems(options)
    if problems:
        raise InputError(f"host kernel tree {root} cannot be a nested KVM host: {problems[0]}")
    ordered = root / "modules.order"
    if ordered.exists():
        files = [
            root / re.sub(r"\.o$", ".ko", ln.strip())
            for ln in ordered.read_text().splitlines()
            if ln.strip()
        ]
        files = [f for f in files if f.exists()]
    else:
        files = sorted(root.rglob("*.ko"))
    order = load_order(_module_index(files), options, str(root))
    release = release_file.read_text().strip()
    return HostKernel(root.name, release, bzimage, config, f"kernel tree {root}", order)


def host_kernel(name: str | Path) -> HostKernel:
    """What a ``--host-kernel`` value names (fetching what is missing)."""
    if str(name) in DEBIAN_HOSTS:
        return debian_host(str(name))
    return tree_host(name)


def label(name: str | Path) -> str:
    """A short name for test ids: ``debian-6.1`` or the tree's folder name."""
    return str(name) if str(name) in NAMED_HOSTS else Path(name).name
