"""Guest artifacts: the kernel tree, the test module and the initramfs.

The default guest is built from Debian's ``linux-source-6.1`` with the
fragment ``images/kernel/guestdbg.config`` into a content-addressed cache:
every entry's name carries a hash of its recipe and inputs, so an unchanged
recipe is never rebuilt and a changed one never reuses a stale build.

The cache lives outside the repository: ``$GUESTDBG_CACHE``, else
``$XDG_CACHE_HOME/guestdbg``, else ``~/.cache/guestdbg``.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from framework.errors import BuildError, InputError

REPO_IMAGES = Path(__file__).resolve().parent.parent / "images"
CONFIG_FRAGMENT = REPO_IMAGES / "kernel" / "guestdbg.config"
INIT_SCRIPT = REPO_IMAGES / "initramfs" / "init"
MODULE_SOURCES = REPO_IMAGES / "modules"
TEST_MODULE = "guestdbg_test"
LINUX_SOURCE_TARBALL = Path("/usr/src/linux-source-6.1.tar.xz")
BUSYBOX = Path("/bin/busybox")

# Bump when a build recipe changes in a way the hashed inputs do not show.
RECIPE_VERSION = "1"


def cache_dir() -> Path:
    """Where built images live (created on demand)."""
    env = os.environ.get("GUESTDBG_CACHE")
    if env:
        base = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) / "guestdbg" if xdg else Path.home() / ".cache" / "guestdbg"
    base.mkdir(parents=True, exist_ok=True)
    return base


def content_key(*parts: str | bytes | Path) -> str:
    """A short hash over strings, bytes and file contents (or directory trees)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            paths = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
            for p in paths:
                h.update(str(p.relative_to(part) if part.is_dir() else p.name).encode())
                h.update(p.read_bytes())
        elif isinstance(part, str):
            h.update(part.encode())
        else:
            h.update(part)
        h.update(b"\0")
    return h.hexdigest()[:16]


@contextlib.contextmanager
def cache_entry(name: str) -> Iterator[tuple[Path, bool]]:
    """Lock the cache entry ``name``; yield (path, complete).

    The caller builds into ``path`` when ``complete`` is false and calls
    :func:`mark_complete`. The lock keeps parallel workers (pytest-xdist) from
    building the same entry twice; an entry left half-built by a killed build
    has no marker and is wiped.
    """
    root = cache_dir()
    path = root / name
    lock_path = root / f"{name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        complete = (path / ".complete").exists()
        if not complete and path.exists():
            shutil.rmtree(path)
        yield path, complete


def mark_complete(path: Path) -> None:
    (path / ".complete").write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))


class Progress:
    """One progress line while a long step runs: rewritten in place on a
    terminal, a line every 20 s otherwise (CI logs)."""

    def __init__(self, what: str, stream: TextIO | None = None) -> None:
        self.what = what
        self.stream: TextIO = stream or sys.stderr
        self.start = time.monotonic()
        self.last = 0.0
        self.tty = self.stream.isatty()

    def update(self, detail: str, force: bool = False) -> None:
        now = time.monotonic()
        interval = 0.5 if self.tty else 20.0
        if not force and now - self.last < interval:
            return
        self.last = now
        line = f"guestdbg: {self.what}: {detail} ({now - self.start:.0f}s)"
        if self.tty:
            self.stream.write("\r\033[K" + line[:200])
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def done(self, detail: str) -> None:
        self.update(detail, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def run_logged(
    argv: Sequence[str],
    log: Path,
    progress: Progress,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run a build step, appending its output to ``log``; BuildError with the
    tail of the log when it fails."""
    count = 0
    with open(log, "a") as out:
        out.write(f"$ {' '.join(argv)}\n")
        out.flush()
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            count += 1
            progress.update(f"{count} lines of output, last: {line.strip()[:60]}")
        rc = proc.wait()
    if rc != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-30:])
        raise BuildError(
            f"{progress.what} failed: '{' '.join(argv)}' exited with {rc}; full log: {log}",
            evidence={"build log tail": tail},
        )


def config_options(text: str) -> dict[str, str]:
    """Parse a Kconfig .config or fragment into {CONFIG_X: value}, 'n' for 'is not set'."""
    opts = {}
    for line in text.splitlines():
        m = re.match(r"^(CONFIG_\w+)=(.*)$", line)
        if m:
            opts[m.group(1)] = m.group(2)
            continue
        m = re.match(r"^# (CONFIG_\w+) is not set", line)
        if m:
            opts[m.group(1)] = "n"
    return opts


# What the suite needs from any kernel under test; each with why.
REQUIRED_OPTIONS: dict[str, str] = {
    "CONFIG_DEBUG_INFO": "gdb needs DWARF to resolve symbols, frames and module variables",
    "CONFIG_GDB_SCRIPTS": "lx-symbols comes from the tree's scripts/gdb (vmlinux-gdb.py)",
    "CONFIG_MODULES": "the test module is inserted at run time",
    "CONFIG_MODULE_UNLOAD": "the lx-symbols reload scenario removes and re-inserts the module",
    "CONFIG_SERIAL_8250_CONSOLE": "the console on ttyS0 is how the suite reads the kernel",
    "CONFIG_BLK_DEV_INITRD": "the guest's userspace is an initramfs",
    "CONFIG_KALLSYMS": "call traces and /proc/kallsyms need symbol names",
    "CONFIG_SMP": "the matrix runs 1 and 2 vCPUs",
}


def missing_options(config_text: str) -> list[str]:
    """Sentences naming each required option that ``config_text`` lacks."""
    opts = config_options(config_text)
    return [
        f"{name} is not set ({why}); add it, e.g. by merging {CONFIG_FRAGMENT.name}"
        for name, why in REQUIRED_OPTIONS.items()
        if opts.get(name, "n") == "n"
    ]


@dataclass(frozen=True)
class KernelTree:
    """A built kernel tree as the suite uses it: bzImage to boot, vmlinux for
    gdb, vmlinux-gdb.py + scripts/gdb for lx-symbols, the tree to build
    modules against."""

    root: Path
    bzimage: Path
    vmlinux: Path
    gdb_script: Path
    release: str
    config: Path

    @classmethod
    def at(cls, root: Path | str) -> KernelTree:
        """Check a built tree; InputError with one sentence naming what is missing."""
        root = Path(root).expanduser().resolve()
        if not root.is_dir():
            raise InputError(f"kernel tree {root} does not exist or is not a directory")
        bzimage = root / "arch" / "x86" / "boot" / "bzImage"
        need = [
            (bzimage, "no arch/x86/boot/bzImage: build the tree first ('make bzImage')"),
            (root / "vmlinux", "no vmlinux: build the tree first ('make vmlinux')"),
            (
                root / "vmlinux-gdb.py",
                "no vmlinux-gdb.py: build with CONFIG_GDB_SCRIPTS=y and run 'make scripts_gdb'",
            ),
            (
                root / "scripts" / "gdb" / "linux" / "constants.py",
                "no scripts/gdb/linux/constants.py: run 'make scripts_gdb' in the tree",
            ),
            (root / "include" / "config" / "kernel.release", "no include/config/kernel.release"),
            (root / ".config", "no .config"),
        ]
        for path, why in need:
            if not path.exists():
                raise InputError(f"kernel tree {root} is not usable: {why}")
            if not os.access(path, os.R_OK):
                raise InputError(f"kernel tree {root} is not usable: {path} is not readable")
        release = (root / "include" / "config" / "kernel.release").read_text().strip()
        return cls(
            root, bzimage, root / "vmlinux", root / "vmlinux-gdb.py", release, root / ".config"
        )

    def missing_options(self) -> list[str]:
        problems = missing_options(self.config.read_text(errors="replace"))
        if self.gdb_script.exists() and self.root not in self.gdb_script.parents:
            # gdb scripts prepared outside the build (a distribution kernel)
            problems = [p for p in problems if not p.startswith("CONFIG_GDB_SCRIPTS ")]
        return problems

    def identity(self) -> str:
        """What makes two builds of a tree different, for cache keys."""
        st = self.vmlinux.stat()
        return f"{self.root}:{self.release}:{st.st_size}:{st.st_mtime_ns}"


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


def default_kernel_key() -> str:
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
    )


def build_default_kernel(progress_stream: TextIO | None = None) -> KernelTree:
    """The default tree: linux-source-6.1 + tinyconfig + the project fragment."""
    key = default_kernel_key()
    with cache_entry(f"kernel-{key}") as (path, complete):
        if complete:
            return KernelTree.at(path / "linux")
        progress = Progress("building the default kernel (linux-source-6.1)", progress_stream)
        path.mkdir(parents=True)
        log = path / "build.log"
        progress.update("extracting the source", force=True)
        run_logged(["tar", "-xf", str(LINUX_SOURCE_TARBALL), "-C", str(path)], log, progress)
        (path / "linux-source-6.1").rename(path / "linux")
        src = path / "linux"
        jobs = str(os.cpu_count() or 1)
        run_logged(["make", "tinyconfig"], log, progress, cwd=src)
        run_logged(
            ["scripts/kconfig/merge_config.sh", "-m", ".config", str(CONFIG_FRAGMENT)],
            log,
            progress,
            cwd=src,
        )
        run_logged(["make", "olddefconfig"], log, progress, cwd=src)
        wanted = config_options(CONFIG_FRAGMENT.read_text())
        got = config_options((src / ".config").read_text())
        lost = [f"{k}={v}" for k, v in wanted.items() if got.get(k, "n") != v]
        if lost:
            raise BuildError(
                "the config fragment did not take: Kconfig dropped "
                + ", ".join(lost)
                + f" (a dependency is missing); see {src / '.config'}"
            )
        run_logged(
            ["make", f"-j{jobs}", "bzImage", "modules", "scripts_gdb"], log, progress, cwd=src
        )
        tree = KernelTree.at(src)
        mark_complete(path)
        progress.done(f"kernel {tree.release} ready in {path}")
        return tree


def build_test_module(tree: KernelTree, progress_stream: TextIO | None = None) -> Path:
    """Build images/modules against ``tree``; return the directory holding the .ko."""
    key = content_key("module", RECIPE_VERSION, tree.identity(), MODULE_SOURCES)
    with cache_entry(f"module-{key}") as (path, complete):
        if complete:
            return path
        progress = Progress(f"building {TEST_MODULE}.ko against {tree.release}", progress_stream)
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


def build_initramfs(
    tree: KernelTree, module_dir: Path, progress_stream: TextIO | None = None
) -> Path:
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
            gen = build_default_kernel(progress_stream).root / "usr" / "gen_init_cpio"
        listing = path / "initramfs.list"
        listing.write_text(_initramfs_list(module_dir))
        cpio = subprocess.run([str(gen), str(listing)], capture_output=True, check=False)
        if cpio.returncode != 0:
            raise BuildError(f"{gen} failed: {cpio.stderr.decode(errors='replace').strip()}")
        out.write_bytes(gzip.compress(cpio.stdout, compresslevel=1, mtime=0))
        mark_complete(path)
        return out


DEFAULT_TREE = "default"
DISTRO_TREE = "debian-cloud"


def kernel_tree(name: str | Path | None) -> KernelTree | None:
    """A --kernel-tree value: ``default`` (or None) for the default tree
    (returned as None: guest_image builds it), ``debian-cloud`` for Debian's
    cloud kernel (framework.distro), else the path of a built tree."""
    if name is None or str(name) == DEFAULT_TREE:
        return None
    if str(name) == DISTRO_TREE:
        from framework import distro

        return distro.debian_cloud_kernel()
    return KernelTree.at(name)


def guest_image(
    tree: KernelTree | None = None, progress_stream: TextIO | None = None
) -> GuestImage:
    """Everything to boot a guest of ``tree`` (default: build the default tree)."""
    tree = tree or build_default_kernel(progress_stream)
    module_dir = build_test_module(tree, progress_stream)
    initrd = build_initramfs(tree, module_dir, progress_stream)
    modules = {ko.stem: f"/lib/modules/{ko.name}" for ko in sorted(module_dir.glob("*.ko"))}
    return GuestImage(tree, initrd, module_dir, modules)
