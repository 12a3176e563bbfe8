"""The gdb under test: the host's own, a path, or a newer gdb built from
Debian's source package into the cache.

Debian 12 ships gdb 13.1; a developer wants to know whether a newer gdb
changes a verdict (the lx-symbols reload defect). ``debian-16`` is trixie's
gdb 16.x, its source fetched with the private apt configuration (deb-src,
never the system's sources), built for x86-64 only with this machine's
Python, without root, under ``nice -n 19``, once: the cache keeps it. Its
build dependencies are Debian 12 packages installed with apt beforehand
(scripts/setup lists them); a missing one is named in one sentence.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from guestdbg.errors import BuildError, InputError
from guestdbg.images.apt import PrivateApt
from guestdbg.images.cache import (
    RECIPE_VERSION,
    Progress,
    cache_entry,
    content_key,
    mark_complete,
    run_logged,
)


@dataclass(frozen=True)
class GdbSource:
    """Where a named gdb's source package comes from."""

    release: str  # the private apt configuration (images/apt.py)
    suite: str
    package: str = "gdb"


BUILDS: dict[str, GdbSource] = {"debian-16": GdbSource("trixie", "trixie")}
NAMES = ("system", *BUILDS)

# Debian 12 packages the build needs (scripts/setup installs them as root).
BUILD_DEPENDS = (
    "build-essential",
    "flex",
    "bison",
    "pkg-config",
    "libgmp-dev",
    "libmpfr-dev",
    "libexpat1-dev",  # target descriptions: QEMU's gdbstub sends target.xml
    "python3-dev",
    "zlib1g-dev",
    "liblzma-dev",
    "libreadline-dev",
    "libncurses-dev",
)

# x86-64 only (the host's target alone), with Python; no simulator, no
# gdbserver, no Guile, no documentation rebuilt (the tarball has it).
CONFIGURE_ARGS = (
    "--disable-sim",
    "--disable-gdbserver",
    "--disable-werror",
    "--disable-nls",
    "--without-guile",
    "--without-debuginfod",
    "--without-babeltrace",
    "--without-intel-pt",
    "--with-expat",
    "--with-system-zlib",
    "--with-python=/usr/bin/python3",
)


def resolve_gdb(name: str) -> Path:
    """The gdb binary a ``--gdb`` value names: ``system`` (the one on PATH),
    ``debian-16`` (built into the cache on first use) or a path."""
    if name == "system":
        found = shutil.which("gdb")
        if found is None:
            raise InputError("no gdb on PATH (apt-get install gdb)")
        return Path(found)
    if name in BUILDS:
        return build_gdb(name)
    path = Path(name).expanduser()
    if path.is_file() and os.access(path, os.X_OK):
        return path.resolve()
    raise InputError(f"--gdb {name!r} is neither a gdb binary nor one of {', '.join(NAMES)}")


def missing_build_depends() -> list[str]:
    """The BUILD_DEPENDS packages dpkg does not have installed."""
    missing = []
    for pkg in BUILD_DEPENDS:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in out.stdout:
            missing.append(pkg)
    return missing


def build_gdb(name: str) -> Path:
    """gdb ``name`` built from its Debian source package into the cache (once)."""
    source = BUILDS[name]
    apt = PrivateApt(source.release, source_suites=(source.suite,))
    version = apt.source_version(source.package, source.suite)
    if version is None:
        raise BuildError(f"{source.suite} offers no {source.package} source package")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    key = content_key("gdb", RECIPE_VERSION, version, " ".join(CONFIGURE_ARGS), python)
    safe = re.sub(r"[^A-Za-z0-9.+~-]", "_", version)
    with cache_entry(f"gdb-{safe}-{key}") as (path, complete):
        binary = path / "install" / "bin" / "gdb"
        if complete:
            return binary
        missing = missing_build_depends()
        if missing:
            raise BuildError(
                f"building gdb {version} needs Debian packages that are not installed: "
                f"apt-get install {' '.join(missing)} (scripts/setup does it)"
            )
        tree, origin = apt.fetch_source(source.package, version)
        progress = Progress(f"building gdb {version} ({origin.split(' (')[0]}; once, ~20 min)")
        build = path / "build"
        build.mkdir(parents=True)
        log = path / "build.log"
        jobs = str(os.cpu_count() or 1)
        nice = ["nice", "-n", "19"]
        steps = [
            [*nice, str(tree / "configure"), f"--prefix={path / 'install'}", *CONFIGURE_ARGS],
            [*nice, "make", f"-j{jobs}", "all-gdb", "MAKEINFO=true"],
            # gdb and its Python data directory; not its manual: Debian's
            # source drops the GFDL texinfo, so building gdb.1 fails.
            [*nice, "make", "-C", "gdb", "install-only", "SUBDIRS=data-directory", "MAKEINFO=true"],
        ]
        for argv in steps:
            run_logged(argv, log, progress, cwd=build)
        check = subprocess.run(
            [str(binary), "-nx", "-batch", "-ex", "python import sys; print('PY', sys.version)"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if "PY " not in check.stdout:
            raise BuildError(
                f"the gdb built in {path} does not run Python: {check.stderr.strip()[-300:]}"
            )
        shutil.rmtree(build)  # the installed tree is what is used
        mark_complete(path)
        progress.done(f"gdb {version} ready: {binary}")
        return binary
