"""Framework tests that boot the default guest under TCG."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from guestdbg.images import guest_image
from guestdbg.runtime.spec import GuestSpec, spec_for


@pytest.fixture(scope="session")
def image() -> guest_image.GuestImage:
    return guest_image.guest_image()


@pytest.fixture
def spec(image: guest_image.GuestImage) -> GuestSpec:
    return spec_for(image, accel="tcg", smp=2)


# QEMU inherits the environment: this marks the ones started by this pytest
# process (or its children), so tests running elsewhere on the machine at the
# same time are neither blamed nor killed.
OWNER = f"GUESTDBG_TEST_OWNER={os.getpid()}"
os.environ["GUESTDBG_TEST_OWNER"] = str(os.getpid())


def qemu_pids() -> set[int]:
    """PIDs of the live (not zombie) qemu-system processes this test session started."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if OWNER.encode() not in environ:
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


REPO = Path(__file__).resolve().parents[2]


def guestdbg(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The ``guestdbg`` command as a user runs it, from the repository."""
    return subprocess.run(
        [sys.executable, "-m", "guestdbg", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A QMP session (or any resource) left open until garbage collection is a
    leak in the framework, not a warning to scroll past."""
    for item in items:
        item.add_marker(
            pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
        )
