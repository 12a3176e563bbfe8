"""The command protocol's end marker and output, over the real interleavings
kernel output makes on a console the shell shares."""

from __future__ import annotations

import os

import pexpect.fdpexpect
from guestdbg.runtime.console import (
    READY_MARK,
    command_line,
    command_output,
    end_marker,
    ready_rest,
)

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


# Recorded: an L2 guest's boot under the 5.10 nested KVM host; the
# clocksource watchdog's printk landed between init's readiness marker and
# its newline (the readiness wait used to miss the marker and time out).
READY_GLUED = (
    b"[    5.570565] Run /init as init process\r\n"
    b"GUESTDBG-READY release=6.1.192-guestdbg cpus=1 commands=ttyS1[    5.878010] clocksource: timekeeping watchdog on CPU0: Marking clocksource 'tsc' as unstable because the skew is too large:\r\n"  # noqa: E501
    b"[    5.946713] clocksource:                       'kvm-clock' wd_nsec: 537947626 wd_now: 22e5674eb wd_last: 20e460701 mask: ffffffffffffffff\r\n"  # noqa: E501
    b"[    5.986960] clocksource:                       'tsc' cs_nsec: 539067003 cs_now: 5bb4b6cc8 cs_last: 567e0a311 mask: ffffffffffffffff\r\n"  # noqa: E501
    b"[    6.021521] clocksource:                       'kvm-clock' (not 'tsc') is current clocksource.\r\n"  # noqa: E501
    b"[    6.051497] tsc: Marking TSC unstable due to clocksource watchdog\r\n"
    b"\r\n"
    b"[    6.105642] input: ImExPS/2 Generic Explorer Mouse as /devices/platform/i8042/serio1/input/input3\r\n"  # noqa: E501
)


def test_the_readiness_marker_is_read_through_printk_records_glued_into_it() -> None:
    rest = READY_GLUED[READY_GLUED.index(READY_MARK) + len(READY_MARK) :]
    seen = b""
    m = None
    read = 0
    for line in rest.split(b"\n")[:-1]:  # a line at a time, as wait_ready reads
        seen += line + b"\n"
        read += 1
        m = ready_rest(seen)
        if m is not None:
            break
    assert m is not None and m.groups() == (b"6.1.192-guestdbg", b"1", b"ttyS1")
    assert read == 6  # the marker's own newline came after five printk lines


def test_an_unbroken_readiness_line_is_read_at_once() -> None:
    m = ready_rest(b" release=6.1.192-guestdbg cpus=2 commands=ttyS1\r\n")
    assert m is not None and m.groups() == (b"6.1.192-guestdbg", b"2", b"ttyS1")
    assert ready_rest(b" release=6.1.192-guestdbg cpus=2 comm") is None
