"""What a ``--kernel-tree`` value means, decided in one place.

``default`` (or nothing): the default 6.1 tree, built into the cache;
``debian-cloud`` and ``debian-cloud-6.12``: Debian 12's cloud kernels (6.1,
and 6.12 from its security archive) with their -dbg vmlinux
(:mod:`guestdbg.images.distro`); ``debug``: the default tree with KASAN,
UBSAN, lockdep and kmemleak (the console corpus's sanitizer captures);
anything else: the path of a built tree.
"""

from __future__ import annotations

from pathlib import Path

from guestdbg.errors import GuestdbgError
from guestdbg.images import distro
from guestdbg.images.cache import cache_dir
from guestdbg.images.default_kernel import (
    build_debug_kernel,
    build_default_kernel,
    default_kernel_key,
)
from guestdbg.images.guest_image import GuestImage, guest_image
from guestdbg.images.trees import KernelTree
from guestdbg.recipes import DEBUG_FRAGMENT

DEFAULT_TREE = "default"
DISTRO_TREE = "debian-cloud"
DISTRO_612_TREE = "debian-cloud-6.12"
DEBUG_TREE = "debug"
NAMED_TREES = {
    DEFAULT_TREE: "the 6.1 tree built from linux-source-6.1 into the cache",
    DISTRO_TREE: "Debian's cloud kernel with its -dbg vmlinux",
    DISTRO_612_TREE: "Debian 12's 6.12 cloud kernel with its -dbg vmlinux",
    DEBUG_TREE: "the default tree plus KASAN, UBSAN, lockdep and kmemleak",
}


def is_named(name: str | Path | None) -> bool:
    return name is None or str(name) in NAMED_TREES


def kernel_tree(name: str | Path | None) -> KernelTree:
    """The tree a ``--kernel-tree`` value names (building or installing what
    is missing). InputError naming what a path tree lacks, or both builds
    when its vmlinux is not the build of its bzImage."""
    if name is None or str(name) == DEFAULT_TREE:
        tree = build_default_kernel()
    elif str(name) in distro.SERIES:
        tree = distro.debian_cloud_kernel(distro.SERIES[str(name)])
    elif str(name) == DEBUG_TREE:
        tree = build_debug_kernel()
    else:
        tree = KernelTree.at(name)
    tree.check_vmlinux()
    return tree


def image_for(name: str | Path | None) -> GuestImage:
    """The guest image of a ``--kernel-tree`` value (building what is missing)."""
    return guest_image(kernel_tree(name))


def label(name: str | Path | None) -> str:
    """A short name for test ids: ``default``, ``debian-cloud`` or the tree's folder name."""
    if name is None:
        return DEFAULT_TREE
    return str(name) if str(name) in NAMED_TREES else Path(name).name


def problems(name: str | Path | None) -> list[str]:
    """Why a path tree cannot be tested, as sentences (named trees are checked
    when they are built)."""
    if is_named(name):
        return []
    try:
        tree = KernelTree.at(name)  # type: ignore[arg-type]
    except GuestdbgError as err:
        return [err.message]
    return [f"kernel tree {tree.root}: {p}" for p in tree.missing_options()]


def release_of(name: str | Path | None) -> str:
    """The kernel release a value names, without building anything (report headers)."""
    try:
        if str(name) in distro.SERIES:
            found = distro.installed_kernel(distro.SERIES[str(name)])
            return (
                f"{found.release} (Debian cloud kernel)"
                if found
                else "Debian cloud kernel, not installed yet"
            )
        if not is_named(name):
            return KernelTree.at(name).release  # type: ignore[arg-type]
        which = "debug" if str(name) == DEBUG_TREE else "default"
        extra = (DEBUG_FRAGMENT,) if which == "debug" else ()
        entry = cache_dir() / f"kernel-{default_kernel_key(extra)}"
        release = entry / "linux" / "include" / "config" / "kernel.release"
        if (entry / ".complete").exists():
            return release.read_text().strip() + f" ({which} tree)"
        return f"{which} tree, not built yet"
    except GuestdbgError as err:
        return f"unusable: {err.message}"
