"""The guest recipes, shipped as package data ``guestdbg.recipes``.

``kernel/guestdbg.config`` (the config fragment every tree under test
needs), ``kernel/guestdbg-debug.config`` (the kernel's bug detectors, for
the ``debug`` tree), ``modules/`` (the test module's source, built against
the tree under test), ``initramfs/init`` (the guest's init: a command loop
on ttyS1), ``nested/`` (the nested KVM host's init, its ``kvmcaps`` tool and
the config fragment a host kernel tree needs), ``vm/`` (the init of the
KVM-capable VM that runs one command on this machine's root). Found through
importlib.resources, so an installed guestdbg finds them from any directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

RECIPES = Path(str(files(__name__)))
CONFIG_FRAGMENT = RECIPES / "kernel" / "guestdbg.config"
# merged after CONFIG_FRAGMENT for the "debug" tree (KASAN, UBSAN, lockdep, kmemleak)
DEBUG_FRAGMENT = RECIPES / "kernel" / "guestdbg-debug.config"
INIT_SCRIPT = RECIPES / "initramfs" / "init"
MODULE_SOURCES = RECIPES / "modules"
TEST_MODULE = "guestdbg_test"
# The nested KVM host (L1): its init, the tool that reads its KVM's
# capabilities, and the config fragment a host kernel tree needs.
HOST_INIT_SCRIPT = RECIPES / "nested" / "init"
KVMCAPS_SOURCE = RECIPES / "nested" / "kvmcaps.c"
HOST_FRAGMENT = RECIPES / "nested" / "host-kernel.config"
# Fixes for the QEMU of the nested host's outer level (git format-patch files).
QEMU_PATCHES = RECIPES / "nested" / "qemu-patches"
# The KVM-capable VM sharing this machine's root (guestdbg vm-run): its init
# (stage 1, in the initramfs) and the script that runs the one command.
VM_INIT_SCRIPT = RECIPES / "vm" / "init"
VM_RUN_SCRIPT = RECIPES / "vm" / "run-command"
