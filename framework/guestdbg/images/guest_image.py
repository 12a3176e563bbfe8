"""What a guest boots: a kernel tree plus an initramfs with the test module.

The test module (``images/modules``) is built against whichever tree is
under test; the initramfs (static busybox, ``images/initramfs/init``, the
module) is made with the tree's own ``usr/gen_init_cpio``, so no root is
needed. Both live in the content-addressed cache (:mod:`guestdbg.images.cache`).
"""

from __future__ import annotations

import gzip
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
from guestdbg.images.trees import KernelTree
from guestdbg.recipes import INIT_SCRIPT, MODULE_SOURCES, TEST_MODULE

BUSYBOX = Path("/bin/busybox")


@dataclass(frozen=True)
class GuestImage:
    """What a guest boots: a kernel tree plus an initramfs with the test module."""

    tree: KernelTree
    initrd: Path
    module_dir: Path  # host-side directory of the .ko files (for lx-symbols)
    modules: dict[str, str] = field(default_factory=dict)  # name -> path inside the guest

    @property
    def kernel(self) -> Path:
        return self.tree.bzimage


def build_test_module(tree: KernelTree) -> Path:
    """Build images/modules against ``tree``; return the directory holding the .ko."""
    key = content_key("module", RECIPE_VERSION, tree.identity(), MODULE_SOURCES)
    with cache_entry(f"module-{key}") as (path, complete):
        if complete:
            return path
        progress = Progress(f"building {TEST_MODULE}.ko against {tree.release}")
        shutil.copytree(MODULE_SOURCES, path)
        run_logged(
            ["make", "-C", str(tree.root), f"M={path}", "modules"], path / "build.log", progress
        )
        if not (path / f"{TEST_MODULE}.ko").exists():
            raise BuildError(f"building the test module produced no {TEST_MODULE}.ko in {path}")
        mark_complete(path)
        progress.done(f"{TEST_MODULE}.ko ready")
        return path


def _initramfs_list(module_dir: Path) -> str:
    kos = sorted(module_dir.glob("*.ko"))
    lines = [
        "dir /dev 0755 0 0",
        "nod /dev/console 0600 0 0 c 5 1",
        "dir /bin 0755 0 0",
        "dir /sbin 0755 0 0",
        "dir /proc 0755 0 0",
        "dir /sys 0755 0 0",
        "dir /tmp 1777 0 0",
        "dir /lib 0755 0 0",
        "dir /lib/modules 0755 0 0",
        f"file /bin/busybox {BUSYBOX} 0755 0 0",
        f"file /init {INIT_SCRIPT} 0755 0 0",
    ]
    lines += [f"file /lib/modules/{ko.name} {ko} 0644 0 0" for ko in kos]
    return "\n".join(lines) + "\n"


def build_initramfs(tree: KernelTree, module_dir: Path) -> Path:
    """A gzipped newc cpio: static busybox, the init script, the test module."""
    if not BUSYBOX.exists():
        raise BuildError(f"{BUSYBOX} is missing: apt-get install busybox-static")
    kos = sorted(module_dir.glob("*.ko"))
    key = content_key("initramfs", RECIPE_VERSION, BUSYBOX, INIT_SCRIPT, *kos)
    with cache_entry(f"initramfs-{key}") as (path, complete):
        out = path / "initramfs.cpio.gz"
        if complete:
            return out
        path.mkdir(parents=True)
        gen = tree.root / "usr" / "gen_init_cpio"
        if not gen.exists():
            gen = build_default_kernel().root / "usr" / "gen_init_cpio"
        listing = path / "initramfs.list"
        listing.write_text(_initramfs_list(module_dir))
        cpio = subprocess.run([str(gen), str(listing)], capture_output=True, check=False)
        if cpio.returncode != 0:
            raise BuildError(f"{gen} failed: {cpio.stderr.decode(errors='replace').strip()}")
        out.write_bytes(gzip.compress(cpio.stdout, compresslevel=1, mtime=0))
        mark_complete(path)
        return out


def guest_image(tree: KernelTree | None = None) -> GuestImage:
    """Everything to boot a guest of ``tree`` (default: build the default tree)."""
    tree = tree or build_default_kernel()
    module_dir = build_test_module(tree)
    initrd = build_initramfs(tree, module_dir)
    modules = {ko.stem: f"/lib/modules/{ko.name}" for ko in sorted(module_dir.glob("*.ko"))}
    return GuestImage(tree, initrd, module_dir, modules)
