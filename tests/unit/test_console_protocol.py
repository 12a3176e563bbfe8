"""The command protocol's end marker and output, over the real interleavings
kernel output makes on a console the shell shares."""

from __future__ import annotations

import os

import pexpect.fdpexpect
from guestdbg.runtime.console import command_line, command_output, end_marker

# Recorded on the default guest (issue 15): `cat` of a module parameter
# before the module was loaded, its end marker printed, and a boot straggler
# printk glued to the marker's line before the shell's newline.
REAL = (
    b"cat: can't open '/sys/module/guestdbg_test/parameters/hot_cpu': No such file or "
    b"directory\r\n@@4e3e1bad@@1@@[    1.175361] input: ImExPS/2 Generic Explorer Mouse as "
    b"/devices/platform/i8042/serio1/input/input3\r\n"
)


def replay(data: bytes, nonce: str) -> tuple[int, str]:
    """Feed ``data`` through a pipe into pexpect, as the console pump does."""
    r, w = os.pipe()
    os.write(w, data)
    os.close(w)
    child = pexpect.fdpexpect.fdspawn(r, encoding=None, timeout=2)
    try:
        child.expect(end_marker(nonce))
        assert child.match is not None
        return int(child.match.group(1)), (child.before or b"").decode()
    finally:
        os.close(r)


def test_the_status_is_found_with_a_printk_glued_after_the_marker() -> None:
    status, raw = replay(REAL, "4e3e1bad")
    assert status == 1
    assert command_output(raw, kernel_lines=True).strip() == (
        "cat: can't open '/sys/module/guestdbg_test/parameters/hot_cpu': No such file or directory"
    )


def test_printk_records_inside_output_lines_are_taken_out() -> None:
    # A printk that landed between two chunks of one output line (the UART
    # drains the shell's output a FIFO at a time; printk writes in between).
    raw = "hot_cpu=[    2.000001] guestdbg_test: flood 17\r\n-1\r\nnext line\r\n"
    assert command_output(raw, kernel_lines=True) == "hot_cpu=-1\nnext line\n"


def test_the_command_port_output_is_left_as_printed() -> None:
    # On the command port there is no kernel output: dmesg lines are output.
    raw = "[    1.000000] Linux version 6.1\r\n"
    assert command_output(raw) == "[    1.000000] Linux version 6.1\n"


def test_the_command_line_carries_any_text() -> None:
    line = command_line("echo \"$((1+2))\" 'a b' ; exit 3", "abcd1234")
    assert line.endswith('; printf "@@abcd1234@@%d@@" "$?"\n') and "'" not in line.split('"')[1]
