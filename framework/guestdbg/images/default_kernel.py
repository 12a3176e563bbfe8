"""The default guest kernel: Debian's linux-source-6.1 with tinyconfig and
the project's fragment (``images/kernel/guestdbg.config``), built into the
cache; and the ``debug`` kernel: the same plus ``guestdbg-debug.config``
(KASAN, UBSAN, lockdep, kmemleak), whose reports the console corpus needs."""

from __future__ import annotations

import os
import subprocess
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
from guestdbg.images.trees import KernelTree, config_options
from guestdbg.recipes import CONFIG_FRAGMENT, DEBUG_FRAGMENT

LINUX_SOURCE_TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")


def _dpkg_version(package: str) -> str | None:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def _gcc_version() -> str:
    try:
        return subprocess.run(
            ["gcc", "--version"], capture_output=True, text=True, check=False
        ).stdout.splitlines()[0]
    except (OSError, IndexError):
        raise BuildError(
            "gcc is not installed: the default kernel cannot be built "
            "(apt-get install build-essential flex bison bc libelf-dev libssl-dev)"
        ) from None


def default_kernel_key(extra: tuple[Path, ...] = ()) -> str:
    if not LINUX_SOURCE_TARBALL.exists():
        raise BuildError(
            f"{LINUX_SOURCE_TARBALL} is missing: the default kernel is built from Debian's "
            "linux-source-6.1 package (apt-get install linux-source-6.1), "
            "or pass --kernel-tree PATH to use your own built tree"
        )
    version = _dpkg_version("linux-source-6.1") or str(LINUX_SOURCE_TARBALL.stat().st_size)
    return content_key(
        "kernel",
        RECIPE_VERSION,
        version,
        _gcc_version(),
        CONFIG_FRAGMENT,
        *extra,
    )


def build_default_kernel() -> KernelTree:
    """The default tree: linux-source-6.1 + tinyconfig + the project fragment."""
    return _build_tree("the default kernel", ())


def build_debug_kernel() -> KernelTree:
    """The debug tree: the default tree's recipe plus guestdbg-debug.config
    (KASAN, UBSAN, lockdep, kmemleak); several minutes to build on 2 cores."""
    return _build_tree("the debug kernel", (DEBUG_FRAGMENT,))


def _build_tree(what: str, extra: tuple[Path, ...]) -> KernelTree:
    key = default_kernel_key(extra)
    fragments = (CONFIG_FRAGMENT, *extra)
    with cache_entry(f"kernel-{key}") as (path, complete):
        if complete:
            return KernelTree.at(path / "linux")
        progress = Progress(f"building {what} (linux-source-6.1)")
        path.mkdir(parents=True)
        log = path / "build.log"
        progress.update("extracting the source", force=True)
        run_logged(["tar", "-xf", str(LINUX_SOURCE_TARBALL), "-C", str(path)], log, progress)
        (path / "linux-source-6.1").rename(path / "linux")
        src = path / "linux"
        jobs = str(os.cpu_count() or 1)
        run_logged(["make", "tinyconfig"], log, progress, cwd=src)
        run_logged(
            ["scripts/kconfig/merge_config.sh", "-m", ".config", *map(str, fragments)],
            log,
            progress,
            cwd=src,
        )
        run_logged(["make", "olddefconfig"], log, progress, cwd=src)
        wanted: dict[str, str] = {}
        for fragment in fragments:
            wanted.update(config_options(fragment.read_text()))
        got = config_options((src / ".config").read_text())
        lost = [f"{k}={v}" for k, v in wanted.items() if got.get(k, "n") != v]
        if lost:
            raise BuildError(
                "the config fragment did not take: Kconfig dropped "
                + ", ".join(lost)
                + f" (a dependency is missing); see {src / '.config'}"
            )
        # Under nice 19, as the other builds of the cache: a shared machine's
        # guests and tests keep the CPU they need while a kernel builds.
        build = ["nice", "-n", "19", "make", f"-j{jobs}", "bzImage", "modules", "scripts_gdb"]
        run_logged(build, log, progress, cwd=src)
        tree = KernelTree.at(src)
        mark_complete(path)
        progress.done(f"kernel {tree.release} ready in {path}")
        return tree
