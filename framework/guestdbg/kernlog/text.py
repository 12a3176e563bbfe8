"""``guestdbg kernlog``: reports as readable text or JSON (:func:`describe`,
:func:`command`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from guestdbg.errors import InputError
from guestdbg.kernlog.parser import parse_file, parse_stream
from guestdbg.kernlog.reports import Expected, KernelReport, findings


def describe(report: KernelReport, max_frames: int = 16) -> str:
    """A report as a few readable lines."""
    flags = [
        name
        for name, on in (
            ("TF leak", report.tf_leak),
            ("truncated", report.truncated),
            ("corrupted", report.corrupted),
            ("expected", report.expected),
        )
        if on
    ]
    out = [report.title + (f"  [{', '.join(flags)}]" if flags else "")]
    facts = [f"kind {report.kind}"]
    if report.cpu is not None:
        facts.append(f"cpu {report.cpu}")
    if report.pid is not None:
        facts.append(f"pid {report.pid}" + (f" ({report.comm})" if report.comm else ""))
    if report.taint:
        facts.append(f"tainted {report.taint}")
    if report.release:
        facts.append(report.release)
    if report.start_time is not None and report.end_time is not None:
        facts.append(f"console {report.start_time:.6f}-{report.end_time:.6f} s")
    out.append("  " + ", ".join(facts))
    where = []
    if report.location:
        where.append(f"at {report.location}")
    if report.function:
        where.append(f"in {report.function}")
    if where:
        out.append("  " + " ".join(where))
    if report.message and report.message not in report.title:
        out.append(f"  message: {report.message}")
    if report.corrupted_reason:
        out.append(f"  corrupted: {report.corrupted_reason}")
    if report.expected_because:
        out.append(f"  expected: {report.expected_because}")
    if report.rip:
        out.append(f"  RIP: {report.rip}")
    if report.modules:
        out.append(f"  modules: {' '.join(report.modules)}")
    frames = [f for f in report.frames if f.reliable]
    if frames:
        out.append("  call trace:")
        for f in frames[:max_frames]:
            ctx = f"<{f.context}> " if f.context else ""
            out.append(f"    {ctx}{f}")
        if len(frames) > max_frames:
            out.append(f"    ... {len(frames) - max_frames} more")
    return "\n".join(out)


def command(
    files: Sequence[Path],
    as_json: bool = False,
    expected: Sequence[Expected] = (),
    out: Any = None,
) -> int:
    """``guestdbg kernlog FILE... [--json]``: the reports in saved console
    logs (``-`` is stdin). Exit status 0 when there is no finding, 1 when
    there are."""
    out = out or sys.stdout
    results: list[tuple[str, KernelReport]] = []
    for path in files:
        name = str(path)
        if name == "-":
            reports = parse_stream(sys.stdin.buffer, expected)
            name = "<stdin>"
        else:
            if not Path(path).is_file():
                raise InputError(f"no console log at {path}")
            reports = parse_file(path, expected)
        results += [(name, r) for r in reports]
    if as_json:
        items = [{"file": name, **r.to_json()} for name, r in results]
        out.write(json.dumps(items, indent=2) + "\n")
    else:
        for name, r in results:
            out.write(f"{name}:{r.start_line}: {describe(r)}\n\n")
        found = findings(r for _, r in results)
        leaks = sum(1 for _, r in results if r.tf_leak)
        where = f"{len(files)} file{'s' if len(files) != 1 else ''}"
        if results:
            out.write(
                f"guestdbg kernlog: {len(results)} report(s) in {where}, "
                f"{len(found)} finding(s), {leaks} TF leak(s)\n"
            )
        else:
            out.write(f"guestdbg kernlog: no kernel reports in {where}\n")
    return 1 if findings(r for _, r in results) else 0
