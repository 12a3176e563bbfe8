"""Debian's cloud kernel, a kernel nobody here configured, debugged under TCG:
the test module built against its headers, its -dbg vmlinux in gdb, lx-symbols
from linux-source-6.1 with constants generated from its headers.

Preparing it installs ~300 MB of packages as root the first time; the tests
skip only when they are not installed and cannot be.  gdb loads the 590 MB
-dbg vmlinux in about 1 s (3.7 s the first time), and lx-symbols reloads it (by
the name ``vmlinux`` in gdb's working directory) each time it refreshes all
symbols: the first run and every re-insmod of a module it already knew."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from guestdbg import kernlog
from guestdbg.debugger.gdb import Debugger
from guestdbg.debugger.lxsymbols import LxSymbols
from guestdbg.errors import BuildError
from guestdbg.images import distro, guest_image
from guestdbg.images.trees import KernelTree
from guestdbg.runtime.qemu import Guest
from guestdbg.runtime.spec import spec_for
from guestdbg.scenarios.session import module_symbol_address

pytestmark = [pytest.mark.guest, pytest.mark.distro]

MODULE = "/lib/modules/guestdbg_test.ko"


@pytest.fixture(scope="module")
def tree() -> KernelTree:
    try:
        return distro.debian_cloud_kernel()
    except BuildError as err:
        if distro.installed_kernel() is not None:
            raise  # installed, so this is a real failure
        pytest.skip(f"Debian's cloud kernel is not installed and cannot be: {err.message}")


@pytest.fixture(scope="module")
def image(tree: KernelTree) -> guest_image.GuestImage:
    return guest_image.guest_image(tree)


@pytest.fixture
def guest(image: guest_image.GuestImage, tmp_path: Path, no_leftover_qemu: None) -> Iterator[Guest]:
    with Guest(spec_for(image, accel="tcg", smp=2), artifacts=tmp_path / "guest") as g:
        yield g


@pytest.fixture
def dbg(tree: KernelTree, tmp_path: Path) -> Iterator[Debugger]:
    with Debugger(artifacts=tmp_path / "gdb", timeout=60) as d:
        d.load(tree.vmlinux)  # 590 MB
        yield d


def kallsyms(guest: Guest, name: str) -> int:
    return int(guest.run(f"grep -w {name} /proc/kallsyms").output.split()[0], 16)


def test_the_kernel_is_debians_pinned_to_the_source_package(tree: KernelTree) -> None:
    kernel = distro.installed_kernel()
    assert kernel is not None and kernel.release == tree.release
    assert kernel.version == distro.installed_versions("linux-source-6.1")["linux-source-6.1"]
    assert tree.release.endswith("-cloud-amd64")
    assert tree.vmlinux == Path(f"/usr/lib/debug/boot/vmlinux-{tree.release}")
    assert tree.bzimage == Path(f"/boot/vmlinuz-{tree.release}")
    assert (tree.root / "Makefile").is_file()
    constants = tree.gdb_script.parent / "scripts" / "gdb" / "linux" / "constants.py"
    text = constants.read_text()
    assert "LX_CONFIG_DEBUG_INFO_REDUCED = 0" in text
    assert "LX_NR_CPUS = 8192" in text  # Debian's CONFIG_NR_CPUS, not the default tree's
    assert distro.debian_cloud_kernel() == tree  # the second call comes from the cache


def test_boot_insmod_lx_symbols_and_a_module_breakpoint(
    tree: KernelTree,
    image: guest_image.GuestImage,
    guest: Guest,
    dbg: Debugger,
) -> None:
    assert guest.run("uname -r").output.strip() == tree.release
    dbg.attach(guest)
    dbg.verify_kernel()  # the -dbg vmlinux is the kernel running in the guest
    lx = LxSymbols(dbg, tree.gdb_script, [image.module_dir])
    assert lx.run().loaded == ()
    # lx-symbols re-loaded the kernel as 'vmlinux' through the link beside gdb.
    assert dbg.artifacts is not None
    assert (dbg.artifacts / "vmlinux").resolve() == tree.vmlinux
    assert Path(lx.symbol_files()[0]).resolve() == tree.vmlinux
    dbg.resume()
    assert guest.run(f"insmod {MODULE}").ok  # lx-symbols' do_init_module hook runs here
    dbg.interrupt()
    assert lx.has_module("guestdbg_test")
    tick = dbg.address_of("guestdbg_tick")
    bp = dbg.break_insert("guestdbg_tick")
    stop = dbg.cont(timeout=60)
    assert (stop.reason, stop.function, stop.pc) == ("breakpoint-hit", "guestdbg_tick", tick)
    dbg.break_delete(bp)
    dbg.resume()
    assert kallsyms(guest, "guestdbg_tick") == tick  # symbols at the module's real address
    assert module_symbol_address(guest, image, "guestdbg_tick") == tick  # sysfs + the .ko agree
    # The reload path: the hook refreshes all symbols, re-reading 'vmlinux'.
    assert guest.run("rmmod guestdbg_test").ok
    assert guest.run(f"insmod {MODULE}", timeout=60).ok
    dbg.interrupt()
    assert lx.has_module("guestdbg_test")
    assert Path(lx.symbol_files()[0]).resolve() == tree.vmlinux
    bp = dbg.break_insert("guestdbg_tick")
    assert dbg.cont(timeout=60).function == "guestdbg_tick"
    dbg.close()
    assert int(guest.run("cat /sys/module/guestdbg_test/parameters/counter").output) > 0
    # Module signature and out-of-tree taint messages are not kernel reports.
    assert kernlog.findings(kernlog.reports_of_guest(guest)) == []
