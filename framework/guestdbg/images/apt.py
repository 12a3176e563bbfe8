"""Debian packages fetched into the cache with a private apt configuration.

The nested KVM host needs packages this machine does not install: Debian's
host kernels (bookworm's 6.1, bullseye's 5.10) and QEMU 10.0.2 from
bookworm-backports for the outer level (its source package, to build it with
a fix). They are *downloaded* and extracted (``apt-get download``,
``dpkg-deb -x``; ``apt-get source --download-only``, ``dpkg-source -x``),
never installed, through an apt configuration of our own (``Dir::Etc::sourcelist``,
``Dir::State::Lists``, ``Dir::Cache`` in the cache): the system's apt
sources, lists and package state are not touched.

The private sources use the Debian mirror the system's own apt sources name
(the archive and the security archive), so this reaches what the machine
already reaches, and the Debian archive keyring to check the signatures.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from guestdbg.errors import BuildError
from guestdbg.images.cache import (
    Progress,
    cache_entry,
    content_key,
    locked,
    mark_complete,
    run_logged,
)

KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
SYSTEM_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))
# Lists older than this are refreshed (a failed refresh keeps the old ones).
LISTS_MAX_AGE = 24 * 3600.0

# The suites each private configuration serves; the archive or the security
# archive of the system's mirror.
SUITES: dict[str, tuple[tuple[str, str], ...]] = {
    "bookworm": (
        ("archive", "bookworm"),
        ("archive", "bookworm-updates"),
        ("security", "bookworm-security"),
        ("archive", "bookworm-backports"),
    ),
    "bullseye": (
        ("archive", "bullseye"),
        ("archive", "bullseye-updates"),
        ("security", "bullseye-security"),
    ),
    # Source packages only (gdb 16 to build here): trixie's binaries need its libc.
    "trixie": (
        ("archive", "trixie"),
        ("archive", "trixie-updates"),
        ("security", "trixie-security"),
    ),
}


@dataclass(frozen=True)
class Mirrors:
    """The Debian archive and security-archive URIs the system's apt uses."""

    archive: str
    security: str


def _source_entries(text: str) -> list[tuple[str, str]]:
    """(uri, suite) pairs from a one-line ``sources.list`` or a deb822 ``.sources``."""
    pairs = []
    for line in text.splitlines():
        m = re.match(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)", line)
        if m:
            pairs.append((m.group(1), m.group(2)))
    for stanza in re.split(r"\n\s*\n", text):
        fields = dict(
            (k.lower(), v.strip())
            for k, v in re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", stanza, re.M)
        )
        if "deb" not in fields.get("types", "").split() or fields.get("enabled") == "no":
            continue
        for uri in fields.get("uris", "").split():
            for suite in fields.get("suites", "").split():
                pairs.append((uri, suite))
    return pairs


def system_mirrors(paths: tuple[Path, ...] = SYSTEM_SOURCES) -> Mirrors:
    """The Debian mirror of the system's apt sources (read only).

    BuildError in one sentence when they name no Debian archive."""
    pairs: list[tuple[str, str]] = []
    for path in paths:
        files = (
            sorted(path.glob("*.list")) + sorted(path.glob("*.sources"))
            if path.is_dir()
            else [path]
        )
        for f in files:
            try:
                pairs += _source_entries(f.read_text(errors="replace"))
            except OSError:
                continue
    archive = next((u for u, s in pairs if re.fullmatch(r"[a-z]+", s)), None)
    security = next((u for u, s in pairs if s.endswith("-security")), None)
    if archive is None:
        raise BuildError(
            "the system's apt sources name no Debian archive (a 'deb URI SUITE main' line): "
            "the nested KVM host fetches Debian's kernels and QEMU from the same mirror"
        )
    if security is None:
        # The usual layout: .../debian and .../debian-security side by side.
        security = archive.rstrip("/") + "-security"
    return Mirrors(archive.rstrip("/"), security.rstrip("/"))


def sources_list(release: str, mirrors: Mirrors, source_suites: tuple[str, ...] = ()) -> str:
    """The private ``sources.list`` of one Debian release, with ``deb-src``
    lines for ``source_suites`` (only those: each one's index is megabytes)."""
    if release not in SUITES:
        raise BuildError(f"no private apt configuration for Debian {release!r}")
    unknown = set(source_suites) - {suite for _, suite in SUITES[release]}
    if unknown:
        raise BuildError(f"Debian {release} has no suite {sorted(unknown)[0]!r}")
    lines = []
    for which, suite in SUITES[release]:
        uri = mirrors.archive if which == "archive" else mirrors.security
        lines.append(f"deb [signed-by={KEYRING}] {uri} {suite} main")
        if suite in source_suites:
            lines.append(f"deb-src [signed-by={KEYRING}] {uri} {suite} main")
    return "\n".join(lines) + "\n"


class PrivateApt:
    """apt-get and apt-cache with their own sources, lists and cache (in the
    guestdbg cache), for one Debian release; with source packages of
    ``source_suites`` too (a configuration of its own, so the binary-only
    ones keep their lists)."""

    def __init__(self, release: str, source_suites: tuple[str, ...] = ()) -> None:
        if not KEYRING.exists():
            raise BuildError(
                f"{KEYRING} is missing: apt-get install debian-archive-keyring "
                "(the private apt configuration checks Debian's signatures with it)"
            )
        self.release = release
        text = sources_list(release, system_mirrors(), source_suites)
        key = content_key("apt", release, text)
        with cache_entry(f"apt-{release}-{key}") as (path, complete):
            if not complete:
                for sub in ("lists/partial", "cache/archives/partial", "etc"):
                    (path / sub).mkdir(parents=True, exist_ok=True)
                (path / "etc" / "sources.list").write_text(text)
                (path / "status").write_text("")
                mark_complete(path)
        self.root = path

    def options(self) -> list[str]:
        r = self.root
        return [
            "-o", f"Dir::Etc::sourcelist={r / 'etc' / 'sources.list'}",
            "-o", "Dir::Etc::sourceparts=-",
            "-o", f"Dir::State::Lists={r / 'lists'}",
            "-o", f"Dir::State::status={r / 'status'}",
            "-o", f"Dir::Cache={r / 'cache'}",
            "-o", "APT::Sandbox::User=root",
            "-o", "Debug::NoLocking=1",
        ]  # fmt: skip

    def _lists_age(self) -> float | None:
        stamp = self.root / "lists" / ".updated"
        return time.time() - stamp.stat().st_mtime if stamp.exists() else None

    def update(self, force: bool = False) -> None:
        """``apt-get update`` into the private lists when they are missing or
        older than a day; a failed refresh of existing lists keeps them."""
        age = self._lists_age()
        if not force and age is not None and age < LISTS_MAX_AGE:
            return
        with locked(f"apt-{self.release}-update"):
            age = self._lists_age()
            if not force and age is not None and age < LISTS_MAX_AGE:
                return
            progress = Progress(f"apt-get update (private lists for Debian {self.release})")
            log = self.root / "update.log"
            log.unlink(missing_ok=True)
            try:
                run_logged(["apt-get", *self.options(), "update"], log, progress)
            except BuildError:
                if age is not None:
                    return
                raise
            (self.root / "lists" / ".updated").write_text(time.strftime("%F %T\n"))
            progress.done("lists ready")

    def _cache_query(self, *args: str) -> str:
        self.update()
        out = subprocess.run(
            ["apt-cache", *self.options(), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        return out.stdout

    def candidate(self, package: str, suite: str | None = None) -> str | None:
        """The version of ``package`` apt would take (from ``suite`` when given)."""
        if suite is None:
            m = re.search(r"^\s*Candidate:\s*(\S+)", self._cache_query("policy", package), re.M)
            return m.group(1) if m and m.group(1) != "(none)" else None
        shown = self._cache_query("show", package)
        versions = re.findall(r"^Version: (\S+)", shown, re.M)
        # apt-cache show lists every version; madison names each one's suite.
        madison = self._cache_query("madison", package)
        for line in madison.splitlines():
            cols = [c.strip() for c in line.split("|")]
            if len(cols) >= 3 and f" {suite}/" in f" {cols[2]}" and cols[1] in versions:
                return cols[1]
        return None

    def source_version(self, package: str, suite: str) -> str | None:
        """The version of the source package ``package`` that ``suite`` offers."""
        for line in self._cache_query("madison", package).splitlines():
            cols = [c.strip() for c in line.split("|")]
            if len(cols) >= 3 and f" {suite}/" in f" {cols[2]}" and "Sources" in cols[2]:
                return cols[1]
        return None

    def depends(self, package: str, version: str) -> str:
        """The Depends line of ``package`` at ``version``."""
        shown = self._cache_query("show", f"{package}={version}")
        m = re.search(r"^Depends: (.*)$", shown, re.M)
        return m.group(1) if m else ""

    def fetch(self, package: str, version: str) -> Path:
        """``package`` at ``version`` downloaded and extracted into a cache
        entry (``deb-<package>-<version>``); return the extracted root."""
        safe = re.sub(r"[^A-Za-z0-9.+~-]", "_", f"{package}-{version}")
        with cache_entry(f"deb-{safe}") as (path, complete):
            root = path / "root"
            if complete:
                return root
            self.update()
            path.mkdir(parents=True)
            progress = Progress(f"downloading {package} {version}")
            log = path / "fetch.log"
            run_logged(
                ["apt-get", *self.options(), "download", f"{package}={version}"],
                log,
                progress,
                cwd=path,
            )
            debs = sorted(path.glob("*.deb"))
            if len(debs) != 1:
                raise BuildError(f"apt-get download {package}={version} left no .deb in {path}")
            root.mkdir()
            run_logged(["dpkg-deb", "-x", str(debs[0]), str(root)], log, progress)
            debs[0].unlink()  # the extracted tree is what is used
            mark_complete(path)
            progress.done(f"{package} {version} extracted")
            return root

    def fetch_source(self, package: str, version: str) -> tuple[Path, str]:
        """The source package ``package`` at ``version`` downloaded and
        unpacked into a cache entry (``src-<package>-<version>``); return the
        source tree and how it was made.

        With the .dsc, ``dpkg-source -x`` unpacks it with Debian's patches
        (apt checked the files against the signed Sources index, so the
        .dsc's signature is not checked again). A mirror that serves only the
        upstream tarball (some proxies do) gives the upstream tree alone, and
        the second value says so."""
        safe = re.sub(r"[^A-Za-z0-9.+~-]", "_", f"{package}-{version}")
        with cache_entry(f"src-{safe}") as (path, complete):
            tree = path / "tree"
            if complete:
                return tree, (path / "origin").read_text().strip()
            self.update()
            path.mkdir(parents=True)
            progress = Progress(f"downloading the source package {package} {version}")
            log = path / "fetch.log"
            try:
                run_logged(
                    ["apt-get", *self.options(), "source", "--download-only",
                     f"{package}={version}"],
                    log,
                    progress,
                    cwd=path,
                )  # fmt: skip
                failed = None
            except BuildError as err:
                failed = err
            dscs = sorted(path.glob("*.dsc"))
            origs = sorted(path.glob("*.orig.tar.*"))
            if failed is None and len(dscs) == 1:
                run_logged(
                    ["dpkg-source", "--no-check", "-x", dscs[0].name, "tree"],
                    log,
                    progress,
                    cwd=path,
                )
                origin = f"Debian source package {package} {version} (with Debian's patches)"
            elif len(origs) == 1:
                tree.mkdir()
                run_logged(
                    ["tar", "-xf", origs[0].name, "-C", "tree", "--strip-components=1"],
                    log,
                    progress,
                    cwd=path,
                )
                origin = (
                    f"upstream tarball {origs[0].name} of {package} {version} alone (the mirror "
                    "did not serve its .dsc or Debian's patches)"
                )
            else:
                raise failed or BuildError(
                    f"apt-get source {package}={version} left no .dsc or tarball in {path}"
                )
            for f in path.iterdir():  # the unpacked tree is what is used
                if f.is_file() and f.name != "fetch.log":
                    f.unlink()
            (path / "origin").write_text(origin + "\n")
            mark_complete(path)
            progress.done(f"{package} {version} unpacked: {origin}")
            return tree, origin
