"""guestdbg repro: the guest is left paused in the bad state, and the printed
gdb command line attaches to exactly that state."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.guest
REPO = Path(__file__).resolve().parents[2]


def test_list_names_every_scenario() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "guestdbg", "repro", "--list"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    ).stdout
    assert [line.split()[0] for line in out.splitlines()] == [
        "bp-loop",
        "early-boot",
        "injections",
        "lx-symbols",
        "module-map",
        "nmi-step",
        "planted",
        "step",
        "tf",
        "tf-stop",
    ]


def test_stuck_breakpoint_is_left_for_gdb(tmp_path: Path, no_leftover_qemu: None) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "guestdbg",
            "repro",
            "bp-loop",
            "--nmi",
            "--sstep",
            "0x1",
            "--artifacts",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    lines = []
    try:
        for line in proc.stdout:  # bounded: the scenario has its own deadlines
            lines.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        text = "".join(lines)
        assert "[stuck_breakpoint]" in text, text
        attach = next(ln for ln in lines if ln.startswith("Attach:"))
        cd, _, gdb_cmd = attach.removeprefix("Attach:").strip().partition(" && ")
        argv = shlex.split(gdb_cmd)
        argv[1:1] = ["-batch", "-nx"]
        argv += [
            "-ex",
            "p/x $pc",
            "-ex",
            "maintenance packet qqemu.sstep",
            "-ex",
            "info symbol $pc",
        ]
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=120, cwd=shlex.split(cd)[1], check=False
        ).stdout
        # Stopped on the breakpoint, with the single-step flags the scenario set.
        assert 'received: "0x1"' in out, out
        assert re.search(r"guestdbg_tick in section \.text of .*guestdbg_test\.ko", out), out
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 1  # a defect was found
