"""Which kernel, QEMU and gdb work together: the nightly's compatibility table.

For each test, one table over the version axes of the run: a row per kernel
release, a column per QEMU x gdb version, each cell what that combination
did: ``passed``, ``defect`` (a judge found one), ``xfail`` with its cause,
``not judged`` with the sentence why, ``skipped``. A case repeated
(``--repeat``) shows each outcome with its count. Only axes with more than
one value make the table worth reading, so a run with one kernel, one QEMU
and one gdb has none.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

AXES = ("kernel_release", "qemu_version", "gdb_version")


@dataclass(frozen=True)
class Cell:
    """One case's outcome as the table says it."""

    word: str  # passed, defect, xfail, not judged, skipped
    why: str = ""


def cell_of(outcome: str, verdict: str, cause: str, message: str) -> Cell:
    if outcome in ("passed", "xpassed"):
        return Cell("passed")
    if outcome == "xfailed":
        return Cell("xfail", _first(message.removeprefix("reason: ")))
    if outcome == "skipped":
        return Cell("skipped", _first(message))
    if verdict == "defect":
        return Cell("defect", _first(cause))
    return Cell("not judged", _first(cause))


def _first(text: str, limit: int = 90) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _say(cells: list[Cell]) -> str:
    counts = Counter(cells)
    parts = []
    for cell, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].word)):
        text = cell.word + (f" ({cell.why})" if cell.why and cell.word != "passed" else "")
        parts.append(f"{text} x{n}" if len(cells) > 1 else text)
    return "; ".join(parts).replace("|", "\\|")


def table(
    rows: Iterable[tuple[str, dict[str, str], Cell]],
) -> dict[str, dict[str, dict[str, list[Cell]]]]:
    """``rows``: (test, axis values, cell) per case → test → kernel → "QEMU x gdb" → cells."""
    out: dict[str, dict[str, dict[str, list[Cell]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for test, axes, cell in rows:
        kernel = axes.get("kernel_release") or "?"
        column = f"QEMU {axes.get('qemu_version') or '?'} x gdb {axes.get('gdb_version') or '?'}"
        out[test][kernel][column].append(cell)
    return out


def markdown(rows: list[tuple[str, dict[str, str], Cell]]) -> list[str]:
    """The tables as markdown lines (none when every axis has one value)."""
    values = {axis: {axes.get(axis, "") for _, axes, _ in rows} for axis in AXES}
    if all(len(v) <= 1 for v in values.values()):
        return []
    lines = [
        "## Compatibility: kernel x QEMU x gdb",
        "",
        "Each cell: what that combination did (passed, defect, xfail with its cause, "
        "not judged with why, skipped).",
        "",
    ]
    for test, kernels in sorted(table(rows).items()):
        columns = sorted({col for by_col in kernels.values() for col in by_col})
        lines += [f"### {test}", "", "| kernel | " + " | ".join(columns) + " |"]
        lines.append("| --- |" + " --- |" * len(columns))
        for kernel, by_col in sorted(kernels.items()):
            cells = [_say(by_col[col]) if col in by_col else "" for col in columns]
            lines.append(f"| {kernel} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines
