"""Kernlog: the guest console read as kernel reports (WARNING, BUG, Oops,
panic, lockups, stalls, hung tasks, KASAN/KMSAN/KCSAN/KFENCE/UBSAN, lockdep,
memory leaks), titled the way syzbot names them.

Modules, one concept each: ``reports`` (KernelReport, Frame, Expected and
guestdbg's policy: the TF-leak WARN, declared-expected messages), ``lines``
(cleaning and classifying one console line), ``formats`` (every report kind
as a table row: header, title templates, the guilty-frame sources it names),
``guilty`` (those sources and how the guilty frame is picked), ``skips``
(frames never guilty), ``parser`` (the streaming parser), ``text``
(``guestdbg kernlog``'s output).

Pure text processing: it imports nothing of QEMU, gdb or pytest, so
``guestdbg kernlog`` starts fast and the parser is usable on any saved log.
"""

from guestdbg.kernlog.formats import FORMATS, REFINEMENTS, ReportFormat
from guestdbg.kernlog.parser import (
    ConsoleParser,
    parse_file,
    parse_stream,
    parse_text,
    reports_of_guest,
)
from guestdbg.kernlog.reports import (
    NMI_AFTER_INJECTION,
    Expected,
    Frame,
    KernelReport,
    findings,
    is_tf_leak,
)
from guestdbg.kernlog.text import command, describe

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
