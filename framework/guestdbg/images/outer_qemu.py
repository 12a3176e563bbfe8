"""The QEMU of the nested KVM host's outer level, when that level is TCG.

Under an outer TCG, QEMU 7.2 (Debian 12's) never fires a hardware
breakpoint of the nested guest: DR7 is not armed on VM entry, fixed upstream
in QEMU 9.1 ("target/i386: disable/enable breakpoints on vmentry/vmexit").
So the outer level uses QEMU 10.0.2 from bookworm-backports: its source
package, fetched with a private apt configuration, built for
x86_64-softmmu with the fixes of ``images/nested/qemu-patches/`` (git
format-patch files, fit to send to QEMU) into the cache, keyed by the
patches' code. Its firmware comes from the matching ``qemu-system-data``
binary package. It is the outer level only: the QEMU under test is the one
inside the nested host (this machine's, or ``--qemu``).

The fixes, and which outer-level limit each lifts
(:data:`guestdbg.runtime.nested.TCG_LIMITS`), are in :data:`FIXES`.
"""

from __future__ import annotations

import bz2
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from guestdbg.errors import BuildError
from guestdbg.images.apt import PrivateApt
from guestdbg.images.cache import (
    Progress,
    cache_entry,
    content_key,
    mark_complete,
    run_logged,
)
from guestdbg.recipes import QEMU_PATCHES

RELEASE = "bookworm"
SUITE = "bookworm-backports"
PACKAGES = ("qemu-system-x86", "qemu-system-data")
SOURCE_PACKAGE = "qemu"
# Where Debian's QEMU finds the firmware qemu-system-data does not ship
# (bios-256k.bin from seabios, NIC option ROMs from ipxe-qemu).
SYSTEM_FIRMWARE = (Path("/usr/share/seabios"), Path("/usr/lib/ipxe/qemu"))

# Each patch of images/nested/qemu-patches/ and the outer-level limit it lifts.
FIXES = {
    "0001-target-i386-intercept-INT3-and-INTO-as-BP-and-OF-exc.patch": "sw-breakpoints",
}

# The outer level needs one target and slirp; everything else only costs
# build time (about 2,500 objects instead of 10,000).
CONFIGURE_ARGS = (
    "--target-list=x86_64-softmmu",
    "--disable-docs",
    "--disable-werror",
    "--disable-debug-info",
    "--disable-tools",
    "--disable-guest-agent",
    "--disable-user",
    "--disable-modules",
    "--disable-gtk",
    "--disable-sdl",
    "--disable-vnc",
    "--disable-opengl",
    "--disable-spice",
    "--disable-xen",
    "--disable-capstone",
    "--disable-curses",
    "--disable-gio",
    "--disable-plugins",
    "--disable-install-blobs",
    "--enable-slirp",
)
# QEMU's configure takes Meson from python/wheels, which Debian's +ds tarball
# leaves empty (Debian builds with its own meson); Debian 12's is too old.
BUILD_WHEELS = ("meson==1.5.0", "pycotap==1.3.1")
# The build tools it needs (Debian packages), checked before building.
BUILD_TOOLS = {
    "ninja": "ninja-build",
    "patch": "patch",
    "pkg-config": "pkg-config",
    "flex": "flex",
    "bison": "bison",
    "gcc": "build-essential",
}
BUILD_LIBRARIES = {
    "glib-2.0": "libglib2.0-dev",
    "pixman-1": "libpixman-1-dev",
    "slirp": "libslirp-dev",
    "zlib": "zlib1g-dev",
}


@dataclass(frozen=True)
class OuterQemu:
    """A QEMU for the outer level: the binary, its data directory (``-L``) and version."""

    binary: Path
    data_dir: Path
    version: str
    # The outer-level limits (keys of TCG_LIMITS) its patches lift.
    fixed: frozenset[str] = frozenset()

    def args(self) -> tuple[str, ...]:
        """Arguments it needs besides the usual ones: its own firmware first
        (option ROMs of its version), then the system's seabios and iPXE ROMs,
        where Debian's own build looks (its ``--firmwarepath``)."""
        dirs = [self.data_dir, *(d for d in SYSTEM_FIRMWARE if d.is_dir())]
        return tuple(arg for d in dirs for arg in ("-L", str(d)))


def _version(binary: Path) -> str:
    try:
        out = subprocess.run(
            [str(binary), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as err:
        raise BuildError(f"{binary} does not run: {err.strerror}") from None
    m = re.search(r"version (\S+)", out.stdout)
    if not m:
        missing = subprocess.run(
            ["ldd", str(binary)], capture_output=True, text=True, check=False
        ).stdout
        libs = [ln.split()[0] for ln in missing.splitlines() if "not found" in ln]
        why = f"libraries missing: {', '.join(libs)}" if libs else out.stderr.strip()[:200]
        raise BuildError(f"the outer-level QEMU {binary} does not run here ({why})")
    return m.group(1)


def patch_code(patch: Path) -> str:
    """The code a format-patch file changes (from its first ``diff --git``):
    what the build is keyed by, so a reworded commit message keeps the build."""
    text = patch.read_text()
    start = text.find("diff --git ")
    if start < 0:
        raise BuildError(f"{patch} is not a patch (no 'diff --git' line)")
    return text[start:]


def patches(directory: Path = QEMU_PATCHES) -> list[Path]:
    return sorted(directory.glob("*.patch"))


def missing_build_dependencies() -> list[str]:
    """The Debian packages the outer QEMU's build needs and this machine lacks."""
    missing = [pkg for tool, pkg in BUILD_TOOLS.items() if shutil.which(tool) is None]
    if shutil.which("pkg-config"):
        for lib, pkg in BUILD_LIBRARIES.items():
            found = subprocess.run(["pkg-config", "--exists", lib], check=False).returncode == 0
            if not found:
                missing.append(pkg)
    else:
        missing += list(BUILD_LIBRARIES.values())
    if subprocess.run(["python3", "-c", "import venv, ensurepip"], check=False,
                      capture_output=True).returncode != 0:  # fmt: skip
        missing.append("python3-venv")
    return sorted(set(missing))


def build_patched(source: Path, origin: str, version: str, fixes: list[Path]) -> Path:
    """QEMU from ``source`` with ``fixes`` applied, built for x86_64-softmmu
    at nice 19 into a cache entry keyed by the version and the patches' code;
    return the binary. The first build takes 20-40 minutes on 2 busy cores."""
    key = content_key(
        "outer-qemu", version, *CONFIGURE_ARGS, *(f.name + patch_code(f) for f in fixes)
    )
    safe = re.sub(r"[^A-Za-z0-9.+~-]", "_", version)
    with cache_entry(f"outer-qemu-{safe}-{key}") as (path, complete):
        binary = path / "bin" / "qemu-system-x86_64"
        if complete:
            return binary
        missing = missing_build_dependencies()
        if missing:
            raise BuildError(
                "building the outer level's QEMU needs these Debian packages: "
                f"{' '.join(missing)} (scripts/setup installs them; as root: "
                f"apt-get install {' '.join(missing)})"
            )
        path.mkdir(parents=True)
        log = path / "build.log"
        progress = Progress(
            f"building QEMU {version} for the outer level with {len(fixes)} fix(es) "
            "(once, 20-40 minutes at nice 19)"
        )
        src, build = path / "src", path / "build"
        # Hard links: the shared source tree is never written; patch(1)
        # replaces each file it changes instead of writing through the link.
        run_logged(["cp", "-al", str(source), str(src)], log, progress)
        with open(log, "a") as out:
            out.write(f"source: {origin}\n")
        for fix in fixes:
            run_logged(
                ["patch", "-p1", "--forward", "--batch", "--no-backup-if-mismatch",
                 "-i", str(fix)],
                log,
                progress,
                cwd=src,
            )  # fmt: skip
        # The +ds tarball leaves out the EDK2 firmware that meson unpacks for
        # x86_64-softmmu; empty stand-ins suffice (-L gives the firmware used).
        pc_bios = src / "pc-bios"
        for listed in re.findall(r"'(edk2-[\w-]+\.fd)'", (pc_bios / "meson.build").read_text()):
            blob = pc_bios / f"{listed}.bz2"
            if not blob.exists():
                blob.write_bytes(bz2.compress(b""))
        wheels = src / "python" / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        run_logged(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(wheels),
             *BUILD_WHEELS],
            log,
            progress,
        )  # fmt: skip
        build.mkdir()
        nice = ["nice", "-n", "19"]
        configure = [str(src / "configure"), f"--python={sys.executable}", *CONFIGURE_ARGS]
        run_logged([*nice, *configure], log, progress, cwd=build)
        run_logged([*nice, "ninja", "-j2", "qemu-system-x86_64"], log, progress, cwd=build)
        binary.parent.mkdir()
        shutil.copy2(build / "qemu-system-x86_64", binary)
        shutil.rmtree(src)
        shutil.rmtree(build)  # about 1 GB; the binary is what is used
        mark_complete(path)
        progress.done(f"{binary.name} built")
        return binary


def outer_qemu() -> OuterQemu:
    """QEMU from bookworm-backports (10.0.2 when this was written), built
    with the fixes of ``images/nested/qemu-patches/`` into the cache on first
    use, with the firmware of its ``qemu-system-data`` package."""
    apt = PrivateApt(RELEASE, (SUITE,))
    version = apt.candidate(PACKAGES[0], SUITE)
    if version is None:
        raise BuildError(f"{SUITE} offers no {PACKAGES[0]} (the outer level needs QEMU >= 9.1)")
    data_dir = apt.fetch(PACKAGES[1], version) / "usr" / "share" / "qemu"
    if not data_dir.is_dir():
        raise BuildError(f"{PACKAGES[1]} {version} has no data directory")
    if apt.source_version(SOURCE_PACKAGE, SUITE) != version:
        raise BuildError(
            f"{SUITE} offers no source package {SOURCE_PACKAGE} {version} to build the "
            "outer level's QEMU with its fixes"
        )
    source, origin = apt.fetch_source(SOURCE_PACKAGE, version)
    fixes = patches()
    binary = build_patched(source, origin, version, fixes)
    fixed = frozenset(FIXES[f.name] for f in fixes if f.name in FIXES)
    return OuterQemu(binary, data_dir, _version(binary), fixed)


def debian_qemu() -> OuterQemu:
    """bookworm-backports' QEMU as Debian ships it (10.0.2 when this was
    written), unpatched, fetched into the cache: a QEMU under test
    (``--qemu debian-10.0``), not the outer level."""
    apt = PrivateApt(RELEASE, (SUITE,))
    version = apt.candidate(PACKAGES[0], SUITE)
    if version is None:
        raise BuildError(f"{SUITE} offers no {PACKAGES[0]}")
    roots = [apt.fetch(p, version) for p in PACKAGES]
    binary = roots[0] / "usr" / "bin" / "qemu-system-x86_64"
    data_dir = roots[1] / "usr" / "share" / "qemu"
    if not binary.exists() or not data_dir.is_dir():
        raise BuildError(f"{PACKAGES[0]} {version} has no qemu-system-x86_64 or data directory")
    return OuterQemu(binary, data_dir, _version(binary))
