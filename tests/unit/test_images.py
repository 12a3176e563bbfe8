"""The content-addressed cache and the kernel-tree checks."""

import dataclasses
import os
import threading
from pathlib import Path

import pytest
from guestdbg import recipes
from guestdbg.errors import InputError
from guestdbg.images import cache, guest_image, trees


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GUESTDBG_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cache_dir_is_overridable_and_outside_the_repo(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cache.cache_dir() == private_cache
    monkeypatch.delenv("GUESTDBG_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(private_cache.parent / "xdg"))
    assert cache.cache_dir() == private_cache.parent / "xdg" / "guestdbg"
    monkeypatch.delenv("XDG_CACHE_HOME")
    default = Path.home() / ".cache" / "guestdbg"
    assert cache.cache_dir() == default
    repo = Path(guest_image.__file__).resolve().parents[3]
    assert repo not in default.parents


def test_content_key_changes_with_content_not_with_time(tmp_path: Path) -> None:
    f = tmp_path / "fragment"
    f.write_text("CONFIG_A=y\n")
    k1 = cache.content_key("kernel", f)
    os.utime(f, (0, 0))
    assert cache.content_key("kernel", f) == k1
    f.write_text("CONFIG_A=n\n")
    assert cache.content_key("kernel", f) != k1
    assert cache.content_key("other", f) != cache.content_key("kernel", f)


def test_content_key_covers_directories(tmp_path: Path) -> None:
    d = tmp_path / "mod"
    d.mkdir()
    (d / "a.c").write_text("int a;")
    k1 = cache.content_key(d)
    (d / "b.c").write_text("int b;")
    assert cache.content_key(d) != k1


def test_a_complete_entry_is_reused_and_a_half_built_one_is_wiped() -> None:
    builds = []

    def build(name: str) -> Path:
        with cache.cache_entry(name) as (path, complete):
            if not complete:
                builds.append(name)
                path.mkdir()
                (path / "out").write_text("built")
                cache.mark_complete(path)
            return path

    assert (build("thing-1") / "out").read_text() == "built"
    build("thing-1")
    assert builds == ["thing-1"]
    # A build killed half-way leaves no .complete marker: the next one starts over.
    with cache.cache_entry("thing-2") as (path, complete):
        assert not complete
        path.mkdir()
        (path / "junk").write_text("half")
    with cache.cache_entry("thing-2") as (path, complete):
        assert not complete and not path.exists()


def test_parallel_builders_build_once() -> None:
    builds = []

    def build() -> None:
        with cache.cache_entry("shared") as (path, complete):
            if not complete:
                builds.append(1)
                path.mkdir()
                cache.mark_complete(path)

    threads = [threading.Thread(target=build) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert builds == [1]


def test_config_parsing_and_required_options() -> None:
    text = "CONFIG_DEBUG_INFO=y\n# CONFIG_GDB_SCRIPTS is not set\nCONFIG_MODULES=y\n"
    opts = trees.config_options(text)
    assert opts == {"CONFIG_DEBUG_INFO": "y", "CONFIG_GDB_SCRIPTS": "n", "CONFIG_MODULES": "y"}
    problems = trees.missing_options(text)
    assert any(p.startswith("CONFIG_GDB_SCRIPTS is not set") for p in problems)
    assert not any(p.startswith("CONFIG_DEBUG_INFO ") for p in problems)


def test_the_fragment_has_every_required_option() -> None:
    fragment = recipes.CONFIG_FRAGMENT.read_text()
    opts = trees.config_options(fragment)
    # DEBUG_INFO is selected by the DWARF5 choice; the rest are set directly.
    assert opts["CONFIG_DEBUG_INFO_DWARF5"] == "y"
    for name in set(trees.REQUIRED_OPTIONS) - {"CONFIG_DEBUG_INFO"}:
        assert opts.get(name) == "y", name
    assert opts["CONFIG_RANDOMIZE_BASE"] == "n"


def test_kernel_tree_checks_name_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        trees.KernelTree.at(tmp_path / "nope")
    tree = tmp_path / "tree"
    (tree / "arch/x86/boot").mkdir(parents=True)
    with pytest.raises(InputError, match="no arch/x86/boot/bzImage"):
        trees.KernelTree.at(tree)
    (tree / "arch/x86/boot/bzImage").write_bytes(b"")
    (tree / "vmlinux").write_bytes(b"")
    with pytest.raises(InputError, match=r"no vmlinux-gdb\.py: build with CONFIG_GDB_SCRIPTS=y"):
        trees.KernelTree.at(tree)
    (tree / "vmlinux-gdb.py").write_text("")
    with pytest.raises(InputError, match=r"constants\.py"):
        trees.KernelTree.at(tree)
    (tree / "scripts/gdb/linux").mkdir(parents=True)
    (tree / "scripts/gdb/linux/constants.py").write_text("")
    (tree / "include/config").mkdir(parents=True)
    (tree / "include/config/kernel.release").write_text("6.1.0-test\n")
    (tree / ".config").write_text("CONFIG_MODULES=y\n")
    kt = trees.KernelTree.at(tree)
    assert kt.release == "6.1.0-test"
    assert any("CONFIG_GDB_SCRIPTS" in p for p in kt.missing_options())
    # gdb scripts prepared outside the tree (Debian's kernel): the option is moot
    outside = tmp_path / "gdb-scripts" / "vmlinux-gdb.py"
    outside.parent.mkdir()
    outside.write_text("")
    moved = dataclasses.replace(kt, gdb_script=outside)
    assert not any("CONFIG_GDB_SCRIPTS" in p for p in moved.missing_options())


def test_initramfs_listing_has_console_init_busybox_and_modules(tmp_path: Path) -> None:
    (tmp_path / "guestdbg_test.ko").write_bytes(b"")
    listing = guest_image._initramfs_list(tmp_path)
    assert "nod /dev/console 0600 0 0 c 5 1" in listing
    assert f"file /init {recipes.INIT_SCRIPT} 0755 0 0" in listing
    assert "file /bin/busybox /bin/busybox 0755 0 0" in listing
    assert f"file /lib/modules/guestdbg_test.ko {tmp_path / 'guestdbg_test.ko'}" in listing
