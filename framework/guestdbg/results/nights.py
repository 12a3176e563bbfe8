"""A finished nightly output directory, read back: a :class:`Night`.

What a nightly writes (``guestdbg nightly --out DIR``): ``summary.json``
(verdict, header, each case, why rerun cases' first attempts failed),
``junit.xml`` (each case's properties: accel, smp, kernel tree and release,
QEMU, gdb, host kernel, single-step flags, the nested host's), ``trees.json``
(the kernel builds tested), and per case its recorded scenario
(``findings.json``: the findings with their evidence and the scenario's data —
steps, breakpoint hits, timer readings) under ``artifacts/<case>/`` (failures)
or ``scenarios/<case>.json`` (every case).
Older nights without ``trees.json`` or ``scenarios/`` still load.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from guestdbg.errors import InputError
from guestdbg.results.record import SCENARIOS_DIR, TREES_FILE

# The failed outcomes of summary.json, and those that ran to a judgement.
FAILED = ("failed", "error")


@dataclass
class Case:
    """One case of one night: what summary.json says, its JUnit properties and
    its recorded scenario when one was kept."""

    nodeid: str
    test: str
    point: str
    outcome: str  # passed, failed, error, skipped, xfailed, xpassed
    verdict: str = ""  # failures: "defect" or "cannot-judge"
    findings: list[str] = field(default_factory=list)
    cause: str = ""
    expected: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    infrastructure: bool = False
    properties: dict[str, str] = field(default_factory=dict)
    artifacts: Path | None = None  # the case's artifacts directory, when it was kept
    scenario: dict[str, Any] | None = None  # its findings.json
    scenario_file: Path | None = None
    # Why each earlier attempt of a rerun case failed (pytest-rerunfailures).
    reruns: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The case across nights: test and matrix point."""
        return f"{self.test}[{self.point}]" if self.point else self.test

    @property
    def status(self) -> str:
        """What a person reads first: defect, cannot-judge, or the outcome."""
        if self.outcome in FAILED:
            return "cannot-judge" if self.infrastructure else "defect"
        return self.outcome


@dataclass
class Night:
    """One nightly output directory."""

    path: Path
    summary: dict[str, Any]
    cases: list[Case]
    trees: list[dict[str, Any]]
    started: datetime | None

    @property
    def name(self) -> str:
        when = self.started.strftime("%Y-%m-%d %H:%M") if self.started else "?"
        return f"{self.path.name} ({when})"

    @property
    def verdict(self) -> int:
        return int(self.summary.get("verdict", 125))

    @classmethod
    def load(cls, path: Path) -> Night:
        """Read a nightly output directory; InputError naming what is missing."""
        summary_file = path / "summary.json"
        if not summary_file.is_file():
            raise InputError(f"{path} is not a nightly output directory: no summary.json")
        try:
            summary = json.loads(summary_file.read_text())
        except json.JSONDecodeError as err:
            raise InputError(f"{summary_file} is not JSON: {err}") from None
        props = junit_properties(path / "junit.xml")
        trees_file = path / TREES_FILE
        trees = json.loads(trees_file.read_text()) if trees_file.is_file() else []
        reruns = summary.get("reruns") or {}
        cases = [_case(path, c, props, reruns) for c in summary.get("cases", [])]
        return cls(path, summary, cases, trees, _started(summary.get("header", [])))

    def header(self, prefix: str) -> str:
        """The value of the summary's header line ``prefix: value`` ('' if none)."""
        for line in self.summary.get("header", []):
            if line.startswith(prefix + ":"):
                return str(line.split(":", 1)[1].strip())
        return ""


def load_nights(paths: Iterable[Path]) -> list[Night]:
    """Nights oldest first (by their start time; the given order breaks ties)."""
    nights = [Night.load(p) for p in paths]
    if not nights:
        raise InputError("no nightly output directory given")
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(nights, key=lambda n: n.started or epoch)


def _started(header: list[str]) -> datetime | None:
    for line in header:
        m = re.match(r"started: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", line)
        if m:
            return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return None


def junit_properties(path: Path) -> dict[str, dict[str, str]]:
    """Each test case's JUnit properties, by its name (``test[point]``)."""
    if not path.is_file():
        return {}
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return {}
    out: dict[str, dict[str, str]] = {}
    for tc in root.iter("testcase"):
        props = {
            p.get("name", ""): p.get("value", "") for p in tc.iter("property") if p.get("name")
        }
        out.setdefault(tc.get("name", ""), {}).update(props)
    return out


def _artifacts_dir(night: Path, recorded: str) -> Path | None:
    """The case's artifacts directory inside this night (the summary records
    it as the run saw it: absolute, or relative to where the run started)."""
    if not recorded:
        return None
    name = Path(recorded).name
    for candidate in (night / "artifacts" / name, Path(recorded)):
        if candidate.is_dir():
            return candidate
    return None


def _case(
    night: Path,
    raw: dict[str, Any],
    props: dict[str, dict[str, str]],
    reruns: dict[str, list[str]],
) -> Case:
    nodeid = str(raw.get("nodeid", ""))
    artifacts = _artifacts_dir(night, str(raw.get("artifacts", "")))
    scenario, scenario_file = None, None
    name = Path(str(raw.get("artifacts", ""))).name
    for candidate in (
        artifacts / "findings.json" if artifacts else None,
        night / SCENARIOS_DIR / f"{name}.json" if name else None,
    ):
        if candidate is not None and candidate.is_file():
            scenario, scenario_file = json.loads(candidate.read_text()), candidate
            break
    return Case(
        nodeid=nodeid,
        test=str(raw.get("test", "")),
        point=str(raw.get("point", "")),
        outcome=str(raw.get("outcome", "")),
        verdict=str(raw.get("verdict", "")),
        findings=list(raw.get("findings", [])),
        cause=str(raw.get("cause", "")),
        expected=list(raw.get("expected", [])),
        message=str(raw.get("message", "")),
        seconds=float(raw.get("seconds", 0.0)),
        infrastructure=bool(raw.get("infrastructure", False)),
        properties=props.get(nodeid.rsplit("::", 1)[-1], {}),
        artifacts=artifacts,
        scenario=scenario,
        scenario_file=scenario_file,
        reruns=[str(why) for why in reruns.get(nodeid, [])],
    )
