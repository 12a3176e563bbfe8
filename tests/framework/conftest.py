"""Framework tests that boot the default guest under TCG."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from framework import images
from framework.qemu import GuestSpec, spec_for


@pytest.fixture(scope="session")
def image() -> images.GuestImage:
    return images.guest_image()


@pytest.fixture
def spec(image: images.GuestImage) -> GuestSpec:
    return spec_for(image, accel="tcg", smp=2)


def qemu_pids() -> set[int]:
    """PIDs of every live (not zombie) qemu-system process on this machine."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        comm, state = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2]
        if comm.startswith("qemu-system") and state != "Z":
            pids.add(int(entry.name))
    return pids


@pytest.fixture
def no_leftover_qemu() -> Iterator[None]:
    """Fail the test if it leaves a QEMU process behind (and kill it)."""
    before = qemu_pids()
    yield
    leftover = qemu_pids() - before
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    assert not leftover, f"QEMU processes outlived the test: {sorted(leftover)}"
