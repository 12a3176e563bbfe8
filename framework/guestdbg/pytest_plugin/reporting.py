"""How findings become verdicts, and what the reports show.

:func:`expect_clean` (a known-good run: any finding fails it) and
:func:`expect_found` (a positive control: its defect must be found, and
nothing else) turn a ScenarioResult into pass/fail with a failure message
that reads like a bug report. Each test's findings travel as JUnit
properties (``findings``, ``scenario``, ``notes``), also from pytest-xdist
workers; the terminal summary lists them.

Every failed test gets one more property, ``verdict``, decided in one place
(:func:`pytest_runtest_makereport`): ``defect`` only when a judge found a
debug defect (:class:`DefectFound`); anything else that failed — QEMU or gdb
died or froze, a guest that never booted, a positive control that stayed
silent, a harness error — is ``cannot-judge``. A failure without the
property (a crashed xdist worker) counts as ``cannot-judge`` too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from _pytest.outcomes import Failed  # pytest.fail.Exception, as a class to derive from

from guestdbg.errors import GuestError
from guestdbg.images import kernels
from guestdbg.pytest_plugin.levels import unfaithful_level
from guestdbg.pytest_plugin.options import MatrixPoint
from guestdbg.runtime import host
from guestdbg.scenarios import ScenarioResult

ARTIFACT_FILES = (
    "console.log, commands.log, qemu-stderr.log, qmp.log, mi.log, remote.log, findings.json"
)

DEFECT = "defect"
CANNOT_JUDGE = "cannot-judge"


class DefectFound(Failed):
    """A judge found a guest-debugging defect: the one failure that is verdict 1."""


class ControlSilent(Failed):
    """A positive control did not find its planted defect: the run cannot judge."""


_findings_key = pytest.StashKey[list[tuple[str, str, list[str]]]]()
_reruns_key = pytest.StashKey[list[tuple[str, str, str]]]()
report_key = pytest.StashKey[dict[str, pytest.TestReport]]()
_CONFIG: dict[str, pytest.Config] = {}


def configure(config: pytest.Config) -> None:
    for line in (
        "guest: boots a real guest under QEMU",
        "control: a positive control: plants a defect and must find it",
        "needs_blockirq: under KVM, expected to fail without KVM_GUESTDBG_BLOCKIRQ",
        "distro: Debian's cloud kernel (installs about 330 MB as root the first time)",
        "sw_breakpoints: plants software breakpoints whatever --bp-kind says (xfail under "
        "kvm-nested with an outer TCG, which delivers them to the guest)",
        "eflags_tf_visible: needs EFLAGS.TF the guest set to be visible at a single-step stop "
        "(xfail under KVM, which hides TF from userspace while it single-steps)",
        "handler_landing: needs a single-step to land in an interrupt handler (xfail under "
        "kvm-nested with an outer TCG, which never shows it)",
    ):
        config.addinivalue_line("markers", line)
    config.stash[_findings_key] = []
    config.stash[_reruns_key] = []
    _CONFIG["config"] = config


def pytest_report_header(config: pytest.Config) -> list[str]:
    from guestdbg.images.tools import gdb_named, qemu_named
    from guestdbg.pytest_plugin.options import gdbs, matrix, qemus, trees

    info = host.probe(qemu_named(qemus(config)[0]).binary, gdb_named(gdbs(config)[0]).binary)
    lines = [f"guestdbg: {line}" for line in host.describe(info).splitlines()]
    for tree in trees(config):
        lines.append(f"guestdbg: kernel under test: {kernels.release_of(tree)}")
    lines.append("guestdbg: matrix: " + ", ".join(p.id for p in matrix(config)))
    return lines


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Remember each phase's report, so fixtures can see whether the test failed."""
    report: pytest.TestReport = yield
    item.stash.setdefault(report_key, {})[report.when] = report
    if report.failed:
        judged = call.excinfo is not None and call.excinfo.errisinstance(DefectFound)
        report.user_properties.append(("verdict", DEFECT if judged else CANNOT_JUDGE))
        if not judged:
            report.user_properties.append(("cause", failure_cause(call)))
    return report


def failure_cause(call: pytest.CallInfo[None]) -> str:
    """The sentence that says why a test could not judge: the exception's own
    message (guestdbg errors are sentences), not a traceback."""
    if call.excinfo is None:
        return f"failed in {call.when}"
    err = call.excinfo.value
    text = str(getattr(err, "message", None) or err).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(err, Failed):
        return first
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


def record(request_node: Any, result: ScenarioResult, artifacts: Path, expected: list[str]) -> None:
    """Write findings.json and attach the findings to the test's report."""
    result.write(artifacts / "findings.json")
    request_node.user_properties.append(("findings", json.dumps(sorted(result.kinds()))))
    notes = [f"(expected: {e})" for e in expected[:1]]
    if result.data.get("re_hits"):
        notes.append(f"(re-hits: {result.data['re_hits']}/{result.data['resumes']} resumes)")
    if result.data.get("stalled_steps"):
        notes.append(f"(stalled steps: {result.data['stalled_steps']}/{len(result.data['steps'])})")
    # user_properties travel with the report, also from pytest-xdist workers.
    request_node.user_properties.append(("expected", json.dumps(expected)))
    request_node.user_properties.append(("scenario", result.name))
    request_node.user_properties.append(("notes", " ".join(notes)))


def attempt_artifacts(path: Path, attempt: int) -> Path:
    """Where a failed attempt's artifacts are kept when its test runs again."""
    return path.with_name(f"{path.name}.attempt-{attempt}")


def lost_attempt(report: pytest.TestReport) -> tuple[str, str]:
    """A rerun attempt's cause (the plugin's sentence; a console tail's last
    line is not why an attempt failed) and where its artifacts are kept
    (the artifacts fixture numbers the attempts), or "" when it had none."""
    props = dict(report.user_properties)
    text = str(report.longrepr) if report.longrepr else ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    cause = str(props.get("cause", "")) or (lines[-1][:300] if lines else "")
    kept = ""
    if props.get("artifacts") and props.get("attempt"):
        kept = str(attempt_artifacts(Path(str(props["artifacts"])), int(str(props["attempt"]))))
    return cause or f"failed in {report.when}", kept


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect each scenario's findings, and each rerun attempt's cause, for
    the terminal summary."""
    props = dict(report.user_properties)
    config = _CONFIG.get("config")
    if config is None:
        return
    if report.outcome == "rerun":  # pytest-rerunfailures: this attempt runs again
        config.stash[_reruns_key].append((report.nodeid, *lost_attempt(report)))
        return
    if report.when != "call" or "scenario" not in props:
        return
    kinds = json.loads(str(props.get("findings", "[]")))
    config.stash[_findings_key].append(
        (report.nodeid, str(props["scenario"]), [*kinds, str(props.get("notes", ""))])
    )


def bug_report(result: ScenarioResult, headline: str, artifacts: Path) -> str:
    lines = [headline, f"Scenario: {result.name}: {result.did}."]
    for f in result.findings:
        lines.append("Detector " + f.describe())
    lines.append(f"Artifacts: {artifacts} ({ARTIFACT_FILES})")
    return "\n".join(lines)


# What a nested guest's console reports when the outer TCG never wakes one of
# its vCPUs (docs/nested-hosts.md, "Seen under the outer TCG"): a defect of the
# outer QEMU, never a result about the kernel under test.
OUTER_TCG_STALLS = frozenset(
    {"console-rcu_stall", "console-soft_lockup", "console-hard_lockup", "console-hung_task"}
)


def _stall_of_the_outer_level(request: pytest.FixtureRequest, kinds: set[str]) -> str | None:
    """The sentence when a KVM guest under an unfaithful level (a nested
    host's outer TCG, or the TCG below vm-run's VM) reported a stall (a
    cannot-judge, rerun once: nested.rerun_under_emulation), else None."""
    point = getattr(getattr(request.node, "callspec", None), "params", {}).get("point")
    stalls = kinds & OUTER_TCG_STALLS
    if not stalls or not isinstance(point, MatrixPoint):
        return None
    below = unfaithful_level(point)
    if below is None:
        return None
    return (
        f"not judged: the guest reported {', '.join(sorted(stalls))} with its KVM on the "
        f"emulated level {below[0]}, which sometimes never wakes a vCPU: a defect of the "
        "outer QEMU, not a result about the kernel or QEMU under test"
    )


def expect_clean(request: pytest.FixtureRequest, result: ScenarioResult, artifacts: Path) -> None:
    """Fail with a bug report when any detector fired."""
    record(request.node, result, artifacts, [])
    outer_stall = _stall_of_the_outer_level(request, result.kinds())
    if outer_stall:
        raise GuestError(bug_report(result, outer_stall, artifacts))
    if result.findings:
        kinds = ", ".join(sorted(result.kinds()))
        raise DefectFound(
            bug_report(result, f"guest debugging defect found: {kinds}", artifacts), pytrace=False
        )


def expect_found(
    request: pytest.FixtureRequest,
    result: ScenarioResult,
    artifacts: Path,
    kind: str,
    allowed: tuple[str, ...] = (),
) -> None:
    """A positive control: ``kind`` must be found; other findings (except
    ``allowed`` ones the planted defect also causes) fail it."""
    record(request.node, result, artifacts, [kind, *allowed])
    if kind not in result.kinds():
        raise ControlSilent(
            bug_report(
                result,
                f"positive control did not find its defect: no '{kind}' finding "
                "(the detector no longer fires, or the stimulus no longer works)",
                artifacts,
            ),
            pytrace=False,
        )
    extra = result.kinds() - {kind, *allowed}
    if extra:
        raise DefectFound(
            bug_report(
                result,
                f"positive control found more than its defect: {', '.join(sorted(extra))}",
                artifacts,
            ),
            pytrace=False,
        )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    tr = terminalreporter
    reruns = config.stash.get(_reruns_key, [])
    if reruns:
        # A rerun hides a lost attempt from the verdict, never from the reader.
        tr.section("guestdbg reruns")
        for nodeid, cause, kept in reruns:
            tr.write_line(f"{nodeid}: ran again after: {cause}")
            if kept:
                tr.write_line(f"    that attempt's artifacts: {kept}")
    rows = config.stash.get(_findings_key, [])
    if not rows:
        return
    tr.section("guestdbg findings")
    for nodeid, scenario, kinds in sorted(rows):
        found = ", ".join(k for k in kinds if k and not k.startswith("(")) or "none"
        notes = " ".join(k for k in kinds if k.startswith("("))
        tr.write_line(f"{nodeid}: {scenario}: {found} {notes}".rstrip())
