"""Kernlog: the guest console read as kernel reports (WARNING, BUG, Oops,
panic, lockups, stalls, hung tasks, sanitizers, lockdep).

Pure text processing: it imports nothing of QEMU, gdb or pytest, so
``guestdbg kernlog`` starts fast and the parser is usable on any saved log.
"""

from guestdbg.kernlog.parser import (
    FORMATS,
    NMI_AFTER_INJECTION,
    REFINEMENTS,
    ConsoleParser,
    Expected,
    Frame,
    KernelReport,
    ReportFormat,
    command,
    describe,
    findings,
    is_tf_leak,
    parse_file,
    parse_stream,
    parse_text,
    reports_of_guest,
)

__all__ = [
    "FORMATS",
    "NMI_AFTER_INJECTION",
    "REFINEMENTS",
    "ConsoleParser",
    "Expected",
    "Frame",
    "KernelReport",
    "ReportFormat",
    "command",
    "describe",
    "findings",
    "is_tf_leak",
    "parse_file",
    "parse_stream",
    "parse_text",
    "reports_of_guest",
]
