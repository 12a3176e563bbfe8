"""What a --gdb or --qemu value names: the host's own, a path, a named build."""

import shutil
from pathlib import Path

import pytest
from guestdbg.errors import InputError
from guestdbg.images import apt, gdb_builds, tools


def test_system_gdb_and_a_path_resolve_to_binaries() -> None:
    found = shutil.which("gdb")
    if found is None:
        pytest.skip("no gdb on PATH")
    assert gdb_builds.resolve_gdb("system") == Path(found)
    assert gdb_builds.resolve_gdb(found) == Path(found).resolve()


def test_an_unknown_gdb_name_is_one_sentence() -> None:
    with pytest.raises(InputError, match="neither a gdb binary nor one of system, debian-16"):
        gdb_builds.resolve_gdb("gdb-99")


def test_an_unknown_qemu_or_gdb_value_is_one_sentence() -> None:
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="'qemu-99' is not on PATH"):
        tools.check_qemu("qemu-99")
    with pytest.raises(argparse.ArgumentTypeError, match="'/no/gdb' does not exist"):
        tools.check_gdb("/no/gdb")
    assert tools.check_gdb("debian-16") == "debian-16"  # named: built on first use


def test_gdb_16_comes_from_trixie_sources_only() -> None:
    """deb-src for trixie and nothing built for bookworm from it: only the
    source package is used (trixie's binaries need its libc)."""
    source = gdb_builds.BUILDS["debian-16"]
    mirrors = apt.Mirrors("http://deb.debian.org/debian", "http://deb.debian.org/debian-security")
    text = apt.sources_list(source.release, mirrors, (source.suite,))
    assert "deb-src [signed-by=" in text and " trixie main" in text
    assert "bookworm" not in text
