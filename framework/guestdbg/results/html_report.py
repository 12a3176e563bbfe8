"""A static HTML report over one or many nights: ``report.html`` plus its
assets directory (the plots, as SVG files drawn by :mod:`guestdbg.results.plots`),
readable offline — no script, no web font, no network.

What it shows, in the order a person asks:

1. the nights and their verdicts;
2. the latest night's matrix (test by matrix point);
3. each case's history across nights: its status per night, the night
   since which it fails, its flake rate (a case that failed and passed
   when rerun in the same night counts) and how often each detector fired;
4. the findings: for every case that failed or found something, the
   findings with their evidence and links to the artifacts;
5. pictures of what the scenarios recorded: step traces, the injection
   judge's timeline, the breakpoint resume loop.
"""

from __future__ import annotations

import html
import itertools
import os
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from guestdbg import verdicts
from guestdbg.results import plots
from guestdbg.results.nights import Case, Night

FAILING = ("defect", "cannot-judge")
STATUS_LABELS = {
    "passed": "pass",
    "defect": "DEFECT",
    "cannot-judge": "cannot judge",
    "skipped": "skip",
    "xfailed": "xfail",
    "xpassed": "XPASS",
}

CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em 2em; color: #222; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.st { text-align: center; white-space: nowrap; }
td.passed { background: #d5f5d5; } td.defect { background: #f5b7b1; font-weight: bold; }
td.cannot-judge { background: #fad7a0; } td.skipped { background: #eee; color: #777; }
td.xfailed { background: #e8daef; } td.xpassed { background: #f9e79f; }
.verdict-0 { color: #1e8449; } .verdict-1 { color: #c0392b; } .verdict-125 { color: #b9770e; }
pre { background: #f8f8f8; border: 1px solid #ddd; padding: .5em; overflow-x: auto;
      max-height: 24em; font-size: 12px; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-size: 12px; color: #555; }
.case { border-left: 4px solid #ccc; padding-left: 1em; margin: 1.5em 0; }
.case.defect { border-color: #c0392b; } .case.cannot-judge { border-color: #e67e22; }
.case.passed { border-color: #27ae60; } .case.xfailed { border-color: #8e44ad; }
small { color: #666; }
"""


def _e(s: object) -> str:
    return html.escape(str(s))


def _anchor(night: Night, case: Case) -> str:
    return "case-" + re.sub(r"[^A-Za-z0-9_-]+", "-", f"{night.path.name}-{case.key}")


def _cell(status: str, href: str = "", title: str = "", reruns: int = 0) -> str:
    """A status cell; ``reruns``: earlier attempts that failed (marked, and
    why in the title)."""
    label = STATUS_LABELS.get(status, status)
    if reruns:
        label += f" (rerun {reruns}\u00d7)"
    text = f'<a href="#{href}">{_e(label)}</a>' if href else _e(label)
    return f'<td class="st {status}" title="{_e(title)}">{text}</td>'


def _rerun_note(cases: Iterable[Case]) -> str:
    whys = [why for c in cases for why in c.reruns]
    return "; ".join(f"rerun after: {why}" for why in whys)


@dataclass
class History:
    """One case (test and point) across the nights, oldest first."""

    key: str
    runs: list[tuple[Night, Case]]

    def statuses(self, night: Night) -> list[str]:
        return [c.status for n, c in self.runs if n is night]

    @property
    def failing_since(self) -> Night | None:
        """The first night of the current failing streak (None: not failing now)."""
        since = None
        for night, case in self.runs:
            if case.status in FAILING:
                since = since or night
            elif case.status in ("passed", "xfailed", "xpassed"):
                since = None
        return since

    @property
    def first_failing(self) -> Night | None:
        return next((n for n, c in self.runs if c.status in FAILING), None)

    @property
    def flake_rate(self) -> float | None:
        """Failures that did not last: judged attempts that failed and were
        followed by one that did not, over all judged attempts (a rerun's failed
        first attempt is one; a regression that stays is not a flake)."""
        judged = [
            failed
            for _, c in self.runs
            if c.status != "skipped"
            for failed in (*([True] * len(c.reruns)), c.status in FAILING)
        ]
        if not judged:
            return None
        gone = sum(1 for a, b in itertools.pairwise(judged) if a and not b)
        return gone / len(judged)

    def detector_rates(self) -> dict[str, str]:
        judged = [c for _, c in self.runs if c.status != "skipped"]
        fired = Counter(k for c in judged for k in set(c.findings))
        return {k: f"{n}/{len(judged)}" for k, n in sorted(fired.items())}


def histories(nights: list[Night]) -> list[History]:
    by_key: dict[str, list[tuple[Night, Case]]] = defaultdict(list)
    for night in nights:
        for case in night.cases:
            by_key[case.key].append((night, case))
    return [History(k, v) for k, v in sorted(by_key.items())]


def _nights_table(nights: list[Night]) -> list[str]:
    rows = ["<table><tr><th>night</th><th>verdict</th><th>outcomes</th><th>directory</th></tr>"]
    for n in nights:
        v = n.verdict
        name = verdicts.NAMES.get(v, str(v))
        outcomes = ", ".join(f"{k} {c}" for k, c in sorted(n.summary.get("outcomes", {}).items()))
        rows.append(
            f"<tr><td>{_e(n.name)}</td><td class='verdict-{v}'><b>{_e(name)}</b></td>"
            f"<td>{_e(outcomes)}</td><td><code>{_e(n.path)}</code></td></tr>"
        )
    rows.append("</table>")
    return rows


def _matrix(night: Night) -> list[str]:
    points = sorted({c.point for c in night.cases})
    tests = sorted({c.test for c in night.cases})
    cell: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for c in night.cases:
        cell[(c.test, c.point)].append(c)
    rows = ["<table id='matrix'><tr><th>test</th>"]
    rows += [f"<th>{_e(p)}</th>" for p in points]
    rows.append("</tr>")
    for t in tests:
        rows.append(f"<tr><td>{_e(t)}</td>")
        for p in points:
            runs = cell.get((t, p), [])
            if not runs:
                rows.append("<td></td>")
                continue
            worst = _worst([c.status for c in runs])
            title = "; ".join(f"{c.status}: {', '.join(c.findings) or 'no findings'}" for c in runs)
            label_runs = f" ({len(runs)} runs)" if len(runs) > 1 else ""
            note = _rerun_note(runs)
            title += label_runs + (f"; {note}" if note else "")
            reruns = sum(len(c.reruns) for c in runs)
            rows.append(_cell(worst, _anchor(night, runs[0]), title, reruns))
        rows.append("</tr>")
    rows.append("</table>")
    return rows


def _worst(statuses: Iterable[str]) -> str:
    order = ["defect", "cannot-judge", "xpassed", "passed", "xfailed", "skipped"]
    present = set(statuses)
    return next((s for s in order if s in present), "skipped")


def _history_table(nights: list[Night], hist: list[History]) -> list[str]:
    rows = ["<table id='history'><tr><th>case</th>"]
    rows += [f"<th>{_e(n.path.name)}</th>" for n in nights]
    rows.append("<th>failing since</th><th>first failed</th><th>flake rate</th>")
    rows.append("<th>detectors fired</th></tr>")
    for h in hist:
        rows.append(f"<tr><td><code>{_e(h.key)}</code></td>")
        for n in nights:
            st = h.statuses(n)
            if not st:
                rows.append("<td class='st'>&ndash;</td>")
                continue
            cases = [c for nn, c in h.runs if nn is n]
            note = _rerun_note(cases)
            title = ", ".join(st) + (f"; {note}" if note else "")
            reruns = sum(len(c.reruns) for c in cases)
            rows.append(_cell(_worst(st), _anchor(n, cases[0]), title, reruns))
        since = h.failing_since
        first = h.first_failing
        rate = h.flake_rate
        rates = ", ".join(f"{k} {v}" for k, v in h.detector_rates().items()) or "none"
        rows.append(
            f"<td class='failing-since'>{_e(since.name) if since else '&ndash;'}</td>"
            f"<td>{_e(first.name) if first else '&ndash;'}</td>"
            f"<td>{'&ndash;' if rate is None else f'{rate:.0%}'}</td><td>{_e(rates)}</td></tr>"
        )
    rows.append("</table>")
    rows.append(
        "<p><small>Failing since: the first night of the current run of failures (a debug "
        "defect, or a case that could not judge). First failed: the first failing night "
        "shown. Flake rate: failures that went away at the next attempt (a rerun in the same "
        "night, or the next night), over the judged attempts (a regression that stays is not "
        "a flake). Detectors: the runs in which each fired, "
        "over the judged runs.</small></p>"
    )
    return rows


def _link(report_dir: Path, target: Path, text: str) -> str:
    href = os.path.relpath(target.resolve(), report_dir.resolve())
    return f'<a href="{_e(Path(href).as_posix())}">{_e(text)}</a>'


def _plot_figures(case: Case, assets: Path, report_dir: Path, stem: str) -> list[str]:
    """The case's pictures, written as SVG files into ``assets``."""
    scenario = case.scenario or {}
    data = scenario.get("data", {})
    name = scenario.get("name", "")
    out = []
    host_trace = None
    if case.artifacts is not None and (case.artifacts / "host-trace.txt").is_file():
        host_trace = (case.artifacts / "host-trace.txt").read_text(errors="replace")
    title = f"{case.key}: {case.status}"
    for kind, svg, caption in (
        (
            "step-trace",
            plots.step_trace(data, title) if name != "step_injection_run" else None,
            "Step trace: where each single-step ended (address over step number); "
            "triangles: a step that entered an interrupt handler, crosses: a stalled step.",
        ),
        (
            "injection-timeline",
            plots.injection_timeline(data, host_trace, title),
            "Injection judge: the single-steps, the host KVM's kvm_inj_virq into the stepped "
            "vCPU (when the host is in reach), and the guest's timer before and after.",
        ),
        (
            "resume-loop",
            plots.resume_loop(data, title),
            "Breakpoint resume loop: the module's call number at each hit; circled: a re-hit "
            "(no progress since the previous hit).",
        ),
    ):
        if svg is None:
            continue
        path = assets / f"{stem}-{kind}.svg"
        path.write_text(svg)
        src = Path(os.path.relpath(path, report_dir)).as_posix()
        out.append(
            f"<figure class='plot {kind}'><img src='{_e(src)}' alt='{_e(kind)} of {_e(case.key)}'>"
            f"<figcaption>{_e(caption)}</figcaption></figure>"
        )
    return out


def _case_section(night: Night, case: Case, assets: Path, report_dir: Path) -> list[str]:
    out = [f"<div class='case {case.status}' id='{_anchor(night, case)}'>"]
    out.append(f"<h3>{_e(case.key)} <small>({_e(night.name)})</small></h3>")
    status = STATUS_LABELS.get(case.status, case.status)
    line = f"<p><b>{_e(status)}</b>"
    if case.findings:
        line += f"; findings: {_e(', '.join(case.findings))}"
    if case.expected:
        line += f"; expected here: <code>{_e(', '.join(case.expected))}</code>"
    if case.infrastructure and case.cause:
        line += f"; cause: {_e(case.cause)}"
    out.append(line + "</p>")
    if case.reruns:
        out.append("<p>Rerun: an earlier attempt could not judge and the case ran again.</p><ul>")
        out += [
            f"<li><small>attempt {i} failed: {_e(why)}</small></li>"
            for i, why in enumerate(case.reruns, 1)
        ]
        out.append("</ul>")
    scenario = case.scenario or {}
    if scenario.get("did"):
        out.append(
            f"<p>Scenario <code>{_e(scenario.get('name'))}</code>: {_e(scenario['did'])}.</p>"
        )
    for f in scenario.get("findings", []):
        out.append(
            f"<div class='finding'><p><b>[{_e(f.get('detector'))}] {_e(f.get('kind'))}</b>: "
            f"{_e(f.get('title'))}</p>"
        )
        for name, text in f.get("evidence", {}).items():
            out.append(f"<p><small>{_e(name)}</small></p><pre>{_e(str(text)[:6000])}</pre>")
        if f.get("where"):
            out.append(f"<p><small>look at: {_e(f['where'])}</small></p>")
        out.append("</div>")
    if case.message and case.status in ("defect", "cannot-judge", "xpassed", "xfailed"):
        out.append(
            f"<details><summary>failure text</summary><pre>{_e(case.message)}</pre></details>"
        )
    links = []
    if case.artifacts is not None:
        links += [
            _link(report_dir, f, f.name) for f in sorted(case.artifacts.iterdir()) if f.is_file()
        ]
    elif case.scenario_file is not None:
        links.append(_link(report_dir, case.scenario_file, "findings.json"))
    if links:
        out.append("<p class='artifacts'>artifacts: " + " · ".join(links) + "</p>")
    stem = _anchor(night, case)
    out += _plot_figures(case, assets, report_dir, stem)
    out.append("</div>")
    return out


def render(nights: list[Night], out: Path) -> str:
    """The report's HTML (the plots are written into the assets directory)."""
    report_dir = out.parent
    assets = out.parent / f"{out.stem}-assets"
    shutil.rmtree(assets, ignore_errors=True)
    assets.mkdir(parents=True)
    latest = nights[-1]
    hist = histories(nights)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>guestdbg report: {_e(latest.name)}</title><style>{CSS}</style></head><body>",
        "<h1>guestdbg: does debugging a Linux guest under QEMU work?</h1>",
        f"<p><small>{len(nights)} night(s); written {now}.</small></p>",
        "<h2 id='nights'>Nights</h2>",
        *_nights_table(nights),
        "<ul>" + "".join(f"<li>{_e(h)}</li>" for h in latest.summary.get("header", [])) + "</ul>",
    ]
    problems = latest.summary.get("problems")
    if problems:
        body.append("<p><b>The latest night could not judge:</b></p><ul>")
        body += [f"<li>{_e(p)}</li>" for p in problems]
        body.append("</ul>")
    body += [f"<h2 id='latest'>Latest matrix: {_e(latest.name)}</h2>", *_matrix(latest)]
    if len(nights) > 1:
        body += ["<h2 id='history-section'>History</h2>", *_history_table(nights, hist)]
    # Findings: every failing case of every night (newest first), then the
    # latest night's other cases that recorded something to look at.
    shown: list[tuple[Night, Case]] = []
    for night in reversed(nights):
        shown += [(night, c) for c in night.cases if c.status in (*FAILING, "xpassed")]
    notable = [
        (latest, c)
        for c in latest.cases
        if id(c) not in {id(sc) for _, sc in shown}
        and (c.findings or c.scenario or c.reruns or c.status == "xfailed")
    ]
    body.append("<h2 id='findings'>Findings and failures</h2>")
    if not shown:
        body.append("<p>No case failed.</p>")
    for night, case in shown:
        body += _case_section(night, case, assets, report_dir)
    if notable:
        body.append(f"<h2 id='recorded'>What the latest night recorded: {_e(latest.name)}</h2>")
        for night, case in notable:
            body += _case_section(night, case, assets, report_dir)
    body.append("</body></html>")
    return "\n".join(body) + "\n"


def write_report(nights: list[Night], out: Path) -> None:
    """``out`` (HTML) and ``<out stem>-assets/`` beside it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(nights, out))
