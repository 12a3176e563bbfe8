"""Nightly runs against a kernel tree, with bisect-friendly exit codes.

``guestdbg nightly --kernel-tree PATH --out DIR`` checks the host and the
tree first, builds the images, runs the suite through pytest with JUnit XML,
and writes ``summary.json`` and ``summary.md`` (the matrix as a table, each
failure with its cause and artifact link), ``report.html`` and, with
``--kcidb FILE``, KCIDB data (:mod:`guestdbg.results`). Exit status (:mod:`guestdbg.verdicts`),
usable directly with ``git bisect run``:

- 0: a complete run, every judged case passed (controls found their defects);
- 1: a judge found a debug defect (and nothing kept the run from judging);
- 125: the run could not judge: no QEMU, a broken or mismatched tree, a
  build failure, a guest that never booted, QEMU or gdb died or froze, a
  positive control stayed silent, a harness error, nothing ran;
- 130 / 143: interrupted (Ctrl-C / SIGTERM); junit.xml and the summaries are
  written first, with the verdict "interrupted".

With ``--repeat N`` the summary gives, per test and configuration, how often
each detector fired: these bugs depend on timer timing, so a rate says more
than one pass/fail.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from guestdbg import options, verdicts
from guestdbg.cli import compatibility
from guestdbg.cli import run as suite_run
from guestdbg.cli.report import results_written
from guestdbg.cli.signals import interrupted_by
from guestdbg.errors import GuestdbgError, InputError
from guestdbg.images import kernels
from guestdbg.images.tools import gdb_named, qemu_named
from guestdbg.pytest_plugin.reporting import CANNOT_JUDGE, DEFECT, lost_attempt
from guestdbg.results import record
from guestdbg.runtime import host

EXIT_GOOD, EXIT_DEFECT, EXIT_CANNOT_JUDGE = verdicts.GOOD, verdicts.DEFECT, verdicts.CANNOT_JUDGE


NESTED_PROPERTIES = ("host_kernel", "kvm_guest_debug2", "sstep_flags_reported", "outer_level")


@dataclass
class CaseResult:
    """One test case of the matrix as the nightly summary shows it."""

    nodeid: str
    test: str  # the test function
    point: str  # matrix id, e.g. tcg-smp2-sw
    outcome: str  # passed, failed, skipped, xfailed, xpassed, error
    verdict: str = ""  # for failures: "defect" (a judge found it) or "cannot-judge"
    findings: list[str] = field(default_factory=list)
    cause: str = ""  # for cannot-judge failures: the one sentence why
    expected: list[str] = field(default_factory=list)  # a control: its defect (and co-findings)
    message: str = ""
    artifacts: str = ""
    seconds: float = 0.0
    # kvm-nested: the host kernel, its KVM's guest-debug bits, the single-step
    # flags QEMU reported and the outer level (JUnit properties of the case).
    nested: dict[str, str] = field(default_factory=dict)
    # The versions it ran: kernel release, QEMU and gdb (the compatibility table).
    axes: dict[str, str] = field(default_factory=dict)
    # Attempts that failed for the infrastructure and ran again (a guest that
    # died under an emulated outer level): the last line of each failure.
    reruns: list[str] = field(default_factory=list)

    @property
    def infrastructure(self) -> bool:
        """A failure that kept this case from judging (never a defect)."""
        return self.outcome in ("failed", "error") and self.verdict != DEFECT


class Collector:
    """A pytest plugin object that records each case's outcome and findings."""

    def __init__(self) -> None:
        self.cases: dict[str, CaseResult] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        m = re.match(r"^(.*?)::(\w+)(?:\[(.*)\])?$", report.nodeid)
        test, point = (m.group(2), m.group(3) or "") if m else (report.nodeid, "")
        point = re.sub(r"-\d+-\d+$", "", point)  # pytest-repeat's "-3-20"
        case = self.cases.setdefault(
            report.nodeid, CaseResult(report.nodeid, test, point, "passed")
        )
        props = dict(report.user_properties)
        if report.outcome == "rerun":  # pytest-rerunfailures: this attempt runs again
            why, kept = lost_attempt(report)
            case.reruns.append(f"{why} (that attempt's artifacts: {kept})" if kept else why)
            return
        if "findings" in props:
            case.findings = json.loads(str(props["findings"]))
        if "artifacts" in props:
            case.artifacts = str(props["artifacts"])
        if "expected" in props:
            case.expected = json.loads(str(props["expected"]))
        for key in NESTED_PROPERTIES:
            if key in props:
                case.nested[key] = str(props[key])
        for key in compatibility.AXES:
            if props.get(key):
                case.axes[key] = str(props[key])
        case.seconds += report.duration
        text = str(report.longrepr) if report.longrepr else ""
        if hasattr(report, "wasxfail"):
            case.outcome = "xfailed" if report.skipped else "xpassed"
            case.message = str(report.wasxfail)[:2000]
        elif report.skipped:
            case.outcome = "skipped"
            # pytest's longrepr of a skip is (file, line, "Skipped: why"): the why.
            why = report.longrepr[2] if isinstance(report.longrepr, tuple) else text
            case.message = str(why).removeprefix("Skipped: ")[-300:]
        elif report.failed:
            case.outcome = "failed" if report.when == "call" else "error"
            # The plugin decided the verdict; a failure without one (a crashed
            # xdist worker, a plugin error) cannot have judged anything.
            verdict = str(props.get("verdict", CANNOT_JUDGE))
            if case.verdict != CANNOT_JUDGE:  # a teardown error after a defect still cannot judge
                case.verdict = verdict
            case.cause = case.cause or str(props.get("cause", "")) or _last_line(text)
            case.message = _head_and_tail(text)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _head_and_tail(text: str, head: int = 1500, tail: int = 2500) -> str:
    """A failure text cut in the middle, never at its end (where the cause is)."""
    if len(text) <= head + tail:
        return text
    return f"{text[:head]}\n[... {len(text) - head - tail} characters cut ...]\n{text[-tail:]}"


def summarize(cases: list[CaseResult], interrupted: int | None = None) -> dict[str, Any]:
    """Counts, the exit verdict, and per-configuration detector rates.
    ``interrupted``: the exit status of a run stopped by a signal (130, 143)."""
    outcomes = Counter(c.outcome for c in cases)
    infra = [c for c in cases if c.infrastructure]
    defects = [c for c in cases if c.outcome in ("failed", "error") and c.verdict == DEFECT]
    if interrupted:
        verdict = interrupted
    elif infra or not any(c.outcome in ("passed", "failed", "xfailed", "xpassed") for c in cases):
        verdict = EXIT_CANNOT_JUDGE
    elif defects:
        verdict = EXIT_DEFECT
    else:
        verdict = EXIT_GOOD
    rates: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"runs": 0, "fired": Counter(), "control": None, "extra": Counter()}
    )
    for c in cases:
        key = f"{c.test}[{c.point}]"
        rates[key]["runs"] += 1
        for kind in c.findings:
            rates[key]["fired"][kind] += 1
        if c.expected:  # a positive control: its defect, and anything else it found
            rates[key]["control"] = c.expected[0]
            for kind in set(c.findings) - set(c.expected):
                rates[key]["extra"][kind] += 1
    nested: dict[str, dict[str, str]] = {}
    for c in cases:
        if "outer_level" in c.nested:  # a kvm-nested case (any case records host_kernel)
            nested.setdefault(
                c.point.rsplit("-", 1)[0] if c.point.endswith(("-sw", "-hw")) else c.point, {}
            ).update(c.nested)
    return {
        "verdict": verdict,
        "outcomes": dict(outcomes),
        "nested_hosts": nested,
        "defects": [c.nodeid for c in defects],
        "infrastructure": [c.nodeid for c in infra],
        "reruns": {c.nodeid: c.reruns for c in cases if c.reruns},
        "detector_rates": {
            k: {
                "runs": v["runs"],
                "fired": {kind: f"{n}/{v['runs']}" for kind, n in sorted(v["fired"].items())},
            }
            | (
                {
                    "control": v["control"],
                    "found_its_defect": f"{v['fired'][v['control']]}/{v['runs']}",
                    "fired_besides": {kind: f"{n}/{v['runs']}" for kind, n in v["extra"].items()},
                }
                if v["control"]
                else {}
            )
            for k, v in sorted(rates.items())
        },
    }


def markdown(cases: list[CaseResult], summary: dict[str, Any], header: list[str]) -> str:
    """The readable summary: the matrix as a table, then each failure."""
    points = sorted({c.point for c in cases})
    tests = sorted({c.test for c in cases})
    cell: dict[tuple[str, str], list[CaseResult]] = defaultdict(list)
    for c in cases:
        cell[(c.test, c.point)].append(c)
    verdict = verdicts.NAMES.get(summary["verdict"], str(summary["verdict"]))
    lines = [
        "# guestdbg nightly",
        "",
        *[f"- {h}" for h in header],
        f"- verdict: **{verdict}**",
        f"- outcomes: {summary['outcomes']}",
        "",
        "## Matrix",
        "",
        "| test | " + " | ".join(points) + " |",
        "|---|" + "---|" * len(points),
    ]
    for t in tests:
        row = []
        for p in points:
            runs = cell.get((t, p), [])
            if not runs:
                row.append("")
                continue
            counts = Counter(r.outcome for r in runs)
            row.append(
                ", ".join(
                    f"{o} {n}/{len(runs)}" if len(runs) > 1 else o
                    for o, n in sorted(counts.items())
                )
            )
        lines.append(f"| {t} | " + " | ".join(row) + " |")
    if summary.get("nested_hosts"):
        lines += ["", "## Nested KVM hosts", ""]
        for point, props in sorted(summary["nested_hosts"].items()):
            lines.append(f"- `{point}`: " + "; ".join(f"{k}: {v}" for k, v in props.items()))
    rows = [
        (c.test, c.axes, compatibility.cell_of(c.outcome, c.verdict, c.cause, c.message))
        for c in cases
    ]
    table = compatibility.markdown(rows)
    if table:
        lines += ["", *table]
    lines += ["", "## Detector rates", ""]
    for key, v in summary["detector_rates"].items():
        fired = ", ".join(f"{k} {n}" for k, n in v["fired"].items()) or "none fired"
        line = f"- `{key}`: {v['runs']} run(s): {fired}"
        if v.get("control"):
            line += f"; control of `{v['control']}`: found it {v['found_its_defect']}"
            if v["fired_besides"]:
                extra = ", ".join(f"{k} {n}" for k, n in v["fired_besides"].items())
                line += f"; **fired besides its defect: {extra}**"
        lines.append(line)
    if summary.get("reruns"):
        lines += ["", "## Reruns", ""]
        lines.append(
            "A case whose guest died or stopped answering under an emulated outer level "
            "ran once more (the outcome above is the second attempt's); why each first "
            "attempt failed:"
        )
        lines.append("")
        for nodeid, why in sorted(summary["reruns"].items()):
            lines.append(f"- `{nodeid}`: " + "; ".join(why))
    failures = [c for c in cases if c.outcome in ("failed", "error", "xpassed")]
    if failures:
        lines += ["", "## Failures", ""]
    for c in failures:
        kind = "could not judge" if c.infrastructure else "debug defect"
        lines += [f"### {c.nodeid}", "", f"- {kind}; findings: {', '.join(c.findings) or '-'}"]
        if c.infrastructure and c.cause:
            lines.append(f"- cause: {c.cause}")
        if c.artifacts:
            lines.append(f"- artifacts: [{c.artifacts}]({c.artifacts})")
        lines += ["", "```", c.message.strip(), "```", ""]
    return "\n".join(lines) + "\n"


def preflight(trees: list[str], info: host.HostInfo) -> list[str]:
    """Problems that make the run unable to judge, as sentences (empty: go)."""
    problems = []
    if not info.qemu.path:
        problems.append(info.qemu.problem or "QEMU is not installed")
    if info.gdb.problem:
        problems.append(info.gdb.problem)
    for tree in trees:
        problems += kernels.problems(tree)
    return problems


def nested_preflight(hosts: list[str], header: list[str]) -> list[str]:
    """kvm-nested: the outer level and each host kernel (fetched or checked
    here, so a bad one is one sentence before anything boots)."""
    from guestdbg.images.host_kernels import host_kernel
    from guestdbg.runtime.nested import outer_level

    problems = []
    try:
        header.append(f"kvm-nested outer level: {outer_level().describe()}")
    except GuestdbgError as err:
        problems.append(f"kvm-nested cannot run here: {err.message}")
    for name in hosts:
        try:
            hk = host_kernel(name)
            header.append(f"kvm-nested host kernel {name}: {hk.release} ({hk.origin})")
        except GuestdbgError as err:
            problems.append(err.message)
    return problems


def write_problems(
    out: Path, problems: list[str], header: list[str], args: argparse.Namespace
) -> int:
    """A night that could not start its suite: its summaries, and its report
    (a row in the nights' history, the problems said) and KCIDB data."""
    summary: dict[str, Any] = {"verdict": EXIT_CANNOT_JUDGE, "problems": problems, "header": header}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(
        "# guestdbg nightly\n\n**could not judge (125)**\n\n"
        + "\n".join(f"- {p}" for p in problems)
        + "\n"
    )
    results_written(out, args)
    for p in problems:
        print(f"guestdbg nightly: cannot judge: {p}")
    return EXIT_CANNOT_JUDGE


def prepare_out(out: Path) -> None:
    """The output directory, or one sentence (exit 2) why it cannot be written."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".guestdbg-writable"
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise InputError(f"cannot write the results to {out}: {err.strerror or err}") from None


def run(args: argparse.Namespace, pytest_args: list[str]) -> int:
    """The nightly job (``args``: the checked suite options and ``out``).
    Returns the exit status."""
    out: Path = args.out
    trees: list[str] = args.kernel_tree
    prepare_out(out)
    started = time.time()
    # The QEMU and gdb this run tests (--qemu/--gdb), not the defaults.
    info = host.probe(
        qemu_named((args.qemu or ["system"])[0]).binary,
        gdb_named((args.gdb or ["system"])[0]).binary,
    )
    header = [
        f"started: {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(started))} UTC",
        *host.describe(info).splitlines(),
        "kernel trees: " + (", ".join(trees) or "the default 6.1 tree"),
    ]
    problems = preflight(trees, info)
    if options.wants_nested(args.accel):
        problems += nested_preflight(args.host_kernel or ["debian-6.1"], header)
    if problems:
        return write_problems(out, problems, header, args)
    tested = []
    try:
        for tree in [*trees] or [kernels.DEFAULT_TREE]:
            img = kernels.image_for(tree)
            header.append(f"kernel under test: {img.tree.release} ({img.tree.root})")
            tested.append(record.describe_tree(str(tree), img.tree))
    except GuestdbgError as err:
        why = f"the guest images are not usable: {err.message}"
        return write_problems(out, [why], header, args)
    record.write_trees(out, tested)
    collector = Collector()
    if args.artifacts is None:
        args.artifacts = out / "artifacts"
    extra = [f"--junitxml={out / 'junit.xml'}", *pytest_args]
    keep = {options.SCENARIOS_DEST: str((out / record.SCENARIOS_DIR).resolve())}
    status = suite_run.run(args, extra, plugins=(collector,), values=keep)
    stopped = interrupted_by() if status == pytest.ExitCode.INTERRUPTED else None
    if status == pytest.ExitCode.INTERRUPTED and stopped is None:
        stopped = verdicts.INTERRUPTED_SIGINT
    cases = list(collector.cases.values())
    summary = summarize(cases, interrupted=stopped)
    if status in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        summary["verdict"] = EXIT_CANNOT_JUDGE
        summary["problems"] = [
            f"pytest ended with {pytest.ExitCode(status).name}: the suite could not run"
        ]
    summary["header"] = header
    summary["seconds"] = round(time.time() - started, 1)
    summary["cases"] = [asdict(c) | {"infrastructure": c.infrastructure} for c in cases]
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(markdown(cases, summary, header))
    results_written(out, args)
    name = verdicts.NAMES.get(summary["verdict"], str(summary["verdict"]))
    print(f"guestdbg nightly: verdict {name}; summary in {out / 'summary.md'}")
    verdict: int = summary["verdict"]
    return verdict
