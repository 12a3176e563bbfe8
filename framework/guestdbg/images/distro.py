"""A distribution kernel under test: Debian's ``linux-image-*-cloud-amd64``,
6.1 (``debian-cloud``) or Debian 12's 6.12 (``debian-cloud-6.12``, from the
security archive: ``linux-6.12``, ABIs like ``6.12.118+deb12``).

The default guest is a kernel this project configured; this one nobody here
configured. It comes from four Debian packages of one version:

- ``linux-image-<abi>-cloud-amd64``: ``/boot/vmlinuz-<release>`` and
  ``/boot/config-<release>``;
- ``linux-image-<abi>-cloud-amd64-dbg``: the vmlinux with DWARF
  (``/usr/lib/debug/boot/vmlinux-<release>``, 590 MB: gdb 13 loads it in
  about 1 s, 3.7 s the very first time after installing);
- ``linux-headers-<abi>-cloud-amd64`` (and ``-common``, ``linux-kbuild-6.1``):
  the tree modules are built against, with the kernel's generated headers;
- ``linux-source-6.1``: the only place ``scripts/gdb`` comes from, since
  Debian's config has ``CONFIG_GDB_SCRIPTS`` off and ships no gdb scripts.

Because the gdb scripts come from the source package, the kernel is pinned to
the *installed* ``linux-source-6.1`` version (the default kernel is built from
it too) and the other packages are installed at exactly that version.

``scripts/gdb/linux/constants.py`` is generated the way the kernel's own
``scripts/gdb/linux/Makefile`` does it, by running that Makefile through the
headers tree's kbuild (``make -C /usr/src/linux-headers-<release> M=...``): the
``gcc -E -x c -P $(c_flags)`` then gets the kernel's own include paths,
``autoconf.h`` and compiler flags, not a guess at them.

Installing a kernel image package is what apt does for any kernel: on a host
that boots with grub it also adds a boot entry (and, with initramfs-tools, an
initrd). The suite boots the image under QEMU with its own initramfs only.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from guestdbg.errors import BuildError
from guestdbg.images.cache import (
    Progress,
    cache_dir,
    cache_entry,
    content_key,
    mark_complete,
    run_logged,
)
from guestdbg.images.trees import KernelTree, config_options

FLAVOUR = "cloud-amd64"


@dataclass(frozen=True)
class Series:
    """One kernel series of Debian's: the source package its gdb scripts
    come from (pinning the version) and the meta package naming its ABI."""

    name: str
    source_package: str
    meta_package: str  # depends on linux-image-<abi>-cloud-amd64 (= version)

    @property
    def tarball(self) -> Path:
        return Path("/usr/src") / f"{self.source_package}.tar.xz"


SERIES = {
    s.name: s
    for s in (
        Series("debian-cloud", "linux-source-6.1", f"linux-image-{FLAVOUR}"),
        Series("debian-cloud-6.12", "linux-source-6.12", f"linux-image-6.12-{FLAVOUR}"),
    )
}
SERIES_6_1 = SERIES["debian-cloud"]
SOURCE_PACKAGE = SERIES_6_1.source_package

# Bump when the gdb-scripts recipe changes in a way the package versions do not show.
RECIPE_VERSION = "1"

# ABIs: 6.1.0-56 (bookworm's 6.1), 6.12.118+deb12 (bookworm's linux-6.12)
_ABI = r"\d+\.\d+\.\d+(?:-\d+|\+deb\d+)"
_IMAGE_NAME = re.compile(rf"^linux-image-({_ABI})-{FLAVOUR}(?:-unsigned)?$")


@dataclass(frozen=True)
class DebianKernel:
    """One Debian cloud kernel: its ABI (``6.1.0-56``) and package version (``6.1.192-2``)."""

    abi: str
    version: str

    @property
    def release(self) -> str:
        return f"{self.abi}-{FLAVOUR}"

    @property
    def image_package(self) -> str:
        return f"linux-image-{self.release}"

    @property
    def dbg_package(self) -> str:
        return f"linux-image-{self.release}-dbg"

    @property
    def headers_package(self) -> str:
        return f"linux-headers-{self.release}"

    @property
    def headers_dir(self) -> Path:
        return Path("/usr/src") / f"linux-headers-{self.release}"

    @property
    def bzimage(self) -> Path:
        return Path("/boot") / f"vmlinuz-{self.release}"

    @property
    def vmlinux(self) -> Path:
        return Path("/usr/lib/debug/boot") / f"vmlinux-{self.release}"

    @property
    def config(self) -> Path:
        return Path("/boot") / f"config-{self.release}"


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=False)
    except OSError as err:
        raise BuildError(
            f"'{argv[0]}' could not run ({err.strerror}): the Debian kernel needs dpkg and apt"
        ) from None


def installed_versions(*patterns: str) -> dict[str, str]:
    """{package: version} of the installed packages among ``patterns`` (dpkg globs)."""
    out = _run(["dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\t${Version}\n", *patterns])
    found = {}
    for line in out.stdout.splitlines():
        name, status, version = [*line.split("\t"), "", ""][:3]
        if status.startswith("ii"):
            found[name] = version
    return found


def _candidate(package: str) -> str | None:
    """The version ``apt-get install package`` would install, if apt knows it."""
    m = re.search(r"^\s*Candidate:\s*(\S+)", _run(["apt-cache", "policy", package]).stdout, re.M)
    return m.group(1) if m and m.group(1) != "(none)" else None


def source_version(series: Series = SERIES_6_1) -> tuple[str, bool]:
    """(version, installed) of the series' linux-source: the installed one, else apt's candidate."""
    source = series.source_package
    installed = installed_versions(source).get(source)
    if installed:
        return installed, True
    candidate = _candidate(source)
    if candidate is None:
        raise BuildError(
            f"{source} is neither installed nor known to apt: the Debian kernel's "
            f"gdb scripts come from it (run 'apt-get update', then 'apt-get install {source}')"
        )
    return candidate, False


def find_kernel(version: str, series: Series = SERIES_6_1) -> DebianKernel:
    """The cloud kernel whose package version is ``version``: an installed one, else
    the one apt's ``linux-image-cloud-amd64`` of that version depends on.

    BuildError naming both versions when there is none."""
    installed = installed_versions(f"linux-image-*-{FLAVOUR}", f"linux-image-*-{FLAVOUR}-unsigned")
    for name, got in sorted(installed.items()):
        m = _IMAGE_NAME.match(name)
        if m and got == version:
            return DebianKernel(m.group(1), version)
    shown = _run(["apt-cache", "show", f"{series.meta_package}={version}"]).stdout
    m = re.search(
        rf"^Depends:.*\blinux-image-({_ABI})-{FLAVOUR}(?:-unsigned)? "
        rf"\(= {re.escape(version)}\)",
        shown,
        re.M,
    )
    if m:
        return DebianKernel(m.group(1), version)
    candidate = _candidate(series.meta_package)
    others = sorted({v for n, v in installed.items() if _IMAGE_NAME.match(n)})
    if candidate:
        there, other = f"apt offers {series.meta_package} {candidate}", candidate
    elif others:
        there, other = f"the installed one is {others[-1]}", others[-1]
    else:
        there, other = "apt knows none", "VERSION"
    raise BuildError(
        f"{series.source_package} is {version} but no linux-image-*-{FLAVOUR} of that version is "
        f"installed or known to apt ({there}): the gdb scripts come from the source "
        f"package, so both must be one version; run 'apt-get update' or install "
        f"{series.source_package}={other} to match"
    )


def missing_packages(kernel: DebianKernel) -> list[str]:
    """``package=version`` for each of the kernel's packages not installed at its version."""
    have = installed_versions(
        kernel.image_package,
        f"{kernel.image_package}-unsigned",
        kernel.dbg_package,
        kernel.headers_package,
    )
    image_ok = kernel.version in (
        have.get(kernel.image_package),
        have.get(f"{kernel.image_package}-unsigned"),
    )
    missing = [] if image_ok else [kernel.image_package]
    missing += [
        p for p in (kernel.dbg_package, kernel.headers_package) if have.get(p) != kernel.version
    ]
    return [f"{p}={kernel.version}" for p in missing]


def _missing(kernel: DebianKernel, series: Series = SERIES_6_1) -> list[str]:
    """missing_packages, and the series' linux-source itself when it is not installed."""
    name = series.source_package
    source = installed_versions(name).get(name)
    return missing_packages(kernel) + (
        [] if source == kernel.version else [f"{name}={kernel.version}"]
    )


def installed_kernel(series: Series = SERIES_6_1) -> DebianKernel | None:
    """The cloud kernel if it and all its packages are installed at the installed
    linux-source version of the series, else None (nothing is installed or asked of apt)."""
    source = installed_versions(series.source_package).get(series.source_package)
    if source is None:
        return None
    installed = installed_versions(f"linux-image-*-{FLAVOUR}", f"linux-image-*-{FLAVOUR}-unsigned")
    for name, version in sorted(installed.items()):
        m = _IMAGE_NAME.match(name)
        if m and version == source:
            kernel = DebianKernel(m.group(1), version)
            return None if missing_packages(kernel) else kernel
    return None


def install(packages: list[str]) -> None:
    """``apt-get install`` pinned ``package=version`` specs; BuildError with one sentence
    when not root or apt fails."""
    command = "apt-get install -y --no-install-recommends " + " ".join(packages)
    if os.geteuid() != 0:
        raise BuildError(
            f"the Debian kernel needs {', '.join(packages)}, which are not installed, and "
            f"installing them needs root: run '{command}' as root "
            "(or 'guestdbg images --kernel-tree debian-cloud' as root)"
        )
    if shutil.which("apt-get") is None:
        raise BuildError(f"apt-get is not available to install {', '.join(packages)}")
    log = cache_dir() / "debian-kernel-apt.log"
    log.unlink(missing_ok=True)  # this run's output only, for the error's tail
    progress = Progress(f"installing {', '.join(packages)} (the -dbg is ~280 MB)")
    progress.update("apt-get install", force=True)
    try:
        run_logged(command.split(), log, progress, env={"DEBIAN_FRONTEND": "noninteractive"})
    except BuildError as err:
        errors = re.findall(r"^E: (.*)$", log.read_text(errors="replace"), re.M)
        raise BuildError(
            f"apt-get could not install {', '.join(packages)}"
            + (f" ({errors[-1]})" if errors else "")
            + f"; if it could not find or fetch them, run 'apt-get update' and try again "
            f"(log: {log})",
            evidence=err.evidence,
        ) from None
    progress.done("installed")


def _check_installed(kernel: DebianKernel, series: Series = SERIES_6_1) -> None:
    for path, package in (
        (series.tarball, series.source_package),
        (kernel.bzimage, kernel.image_package),
        (kernel.config, kernel.image_package),
        (kernel.vmlinux, kernel.dbg_package),
        (kernel.headers_dir / "Makefile", kernel.headers_package),
        (kernel.headers_dir / "include" / "generated" / "autoconf.h", kernel.headers_package),
    ):
        if not path.is_file():
            raise BuildError(f"{path} is missing although {package} is installed")
    uts = (kernel.headers_dir / "include" / "generated" / "utsrelease.h").read_text()
    if f'"{kernel.release}"' not in uts:
        raise BuildError(
            f"{kernel.headers_dir} is not for {kernel.release}: its utsrelease.h says {uts.strip()}"
        )
    # The headers' .config is the build's; /boot's drops a few build-only lines
    # (BUILD_SALT, signing keys). Every option /boot has must be the same there.
    built = config_options((kernel.headers_dir / ".config").read_text())
    differ = [
        f"{name}={value}"
        for name, value in config_options(kernel.config.read_text()).items()
        if built.get(name, "n") != value
    ]
    if differ:
        raise BuildError(
            f"{kernel.headers_dir / '.config'} does not match {kernel.config} "
            f"({', '.join(differ[:3])}): the headers are not those of the installed kernel"
        )


def _check_constants(constants: Path) -> None:
    """The generated constants.py must be Python with every macro expanded."""
    if not constants.is_file():
        raise BuildError(f"generating {constants} produced no file")
    text = constants.read_text()
    try:
        compile(text, str(constants), "exec")
    except SyntaxError as err:
        raise BuildError(f"the generated {constants} is not Python: {err}") from None
    leftover = re.search(r"\bLX_(?:VALUE|GDBPARSED|CONFIG)\(|#include", text)
    if leftover:
        raise BuildError(f"the generated {constants} is not usable: {leftover.group(0)!r} is left")
    if "LX_CONFIG_DEBUG_INFO_REDUCED = 0" not in text:
        raise BuildError(
            f"the generated {constants} does not say LX_CONFIG_DEBUG_INFO_REDUCED = 0: "
            "vmlinux-gdb.py refuses a kernel with reduced debug info"
        )


def gdb_scripts(kernel: DebianKernel, source: str, series: Series = SERIES_6_1) -> Path:
    """The kernel's gdb scripts in a cache entry; return its ``vmlinux-gdb.py``.

    ``source`` is the installed linux-source version (equal to the kernel's)."""
    tarball = series.tarball
    key = content_key("debian-gdb-scripts", RECIPE_VERSION, kernel.release, kernel.version, source)
    with cache_entry(f"gdb-scripts-{kernel.release}-{key}") as (path, complete):
        script = path / "vmlinux-gdb.py"
        if complete:
            return script
        progress = Progress(f"preparing the gdb scripts of {kernel.release}")
        path.mkdir(parents=True)
        log = path / "prepare.log"
        progress.update(f"extracting scripts/gdb from {tarball.name}", force=True)
        top = tarball.name.removesuffix(".tar.xz")
        run_logged(
            ["tar", "-xJf", str(tarball), "-C", str(path), f"{top}/scripts/gdb"],
            log,
            progress,
        )
        (path / top / "scripts").rename(path / "scripts")
        (path / top).rmdir()
        linux = path / "scripts" / "gdb" / "linux"
        # scripts/gdb/linux/Makefile run by the headers' kbuild, as an external
        # directory: its constants.py rule gets the kernel's exact c_flags. In a
        # directory of its own with no .py beside it: since 6.10 the Makefile's
        # out-of-tree rule would symlink each .py of an M= directory onto itself.
        progress.update("generating scripts/gdb/linux/constants.py", force=True)
        gen = path / "gen"
        gen.mkdir()
        for name in ("Makefile", "constants.py.in"):
            shutil.copy2(linux / name, gen / name)
        run_logged(["make", "-C", str(kernel.headers_dir), f"M={gen}"], log, progress)
        (gen / "constants.py").rename(linux / "constants.py")
        shutil.rmtree(gen)
        _check_constants(linux / "constants.py")
        # A copy, not the kernel's symlink: vmlinux-gdb.py finds scripts/gdb
        # beside the path gdb sourced it from.
        shutil.copy2(path / "scripts" / "gdb" / "vmlinux-gdb.py", script)
        mark_complete(path)
        progress.done(f"gdb scripts ready in {path}")
        return script


def debian_cloud_kernel(series: Series = SERIES_6_1) -> KernelTree:
    """Debian's cloud kernel of the series' installed linux-source version, as a KernelTree.

    Installs (as root, only when missing) the image, its -dbg and headers packages
    at that version, prepares the gdb scripts in the cache, and returns the tree:
    root = the headers directory (build modules with ``make -C root M=dir``),
    bzimage and config from /boot, vmlinux from the -dbg package."""
    version, _ = source_version(series)
    kernel = find_kernel(version, series)
    if _missing(kernel, series):
        # One apt-get at a time (pytest-xdist workers); the first one installs.
        with open(cache_dir() / "debian-kernel-apt.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            missing = _missing(kernel, series)
            if missing:
                install(missing)
                still = _missing(kernel, series)
                if still:
                    raise BuildError(f"apt-get finished but did not install {', '.join(still)}")
    _check_installed(kernel, series)
    script = gdb_scripts(kernel, version, series)
    return KernelTree(
        root=kernel.headers_dir,
        bzimage=kernel.bzimage,
        vmlinux=kernel.vmlinux,
        gdb_script=script,
        release=kernel.release,
        config=kernel.config,
    )
