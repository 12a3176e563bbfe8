"""Pictures of what a scenario recorded, drawn with matplotlib into SVG files.

- :func:`step_trace`: where each single-step landed (address over step
  number), interrupt-handler entries and stalled steps marked — the S1 bug
  is a jump out of the stepped loop into an IDT stub;
- :func:`injection_timeline`: the injection judge's view: the steps, the
  host KVM's ``kvm_inj_virq`` into the stepped vCPU (kvm-nested: from the
  host's tracefs, ``host-trace.txt``) and the guest timer before and after;
- :func:`resume_loop`: the breakpoint resume loop: the test module's call
  number at each hit over time, re-hits (no progress since the last hit) marked.

Each returns the SVG text, or None when the scenario recorded nothing to draw.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from guestdbg.debugger.gdb import Step
from guestdbg.judges.injections import stepped_vcpu_timeline
from guestdbg.judges.steps import (
    IDT_STUB_RE,
    VECTOR_STUBS_RE,
    expected_successors,
    is_stalled,
)

WIDTH, HEIGHT = 9.0, 3.2


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def handler_entry(s: Step) -> bool:
    """A step that went to an IDT entry stub instead of where its instruction leads."""
    if not s.symbol or s.fell_through:
        return False
    if not (IDT_STUB_RE.match(s.symbol) or VECTOR_STUBS_RE.match(s.symbol)):
        return False
    allowed = expected_successors(s)
    return allowed is None or s.next_pc not in allowed


@dataclass(frozen=True)
class AddressAxis:
    """Addresses on a broken axis: code that runs together (a loop, a handler)
    keeps its byte distances, the gigabytes between regions shrink to a fixed
    gap, so a jump from the module into an IDT stub shows as a jump and both
    ends stay readable."""

    position: dict[int, float]
    regions: list[tuple[float, int, str]]  # (where it starts on the axis, address, name)

    @classmethod
    def of(cls, steps: list[Step], region_gap: int = 0x800) -> AddressAxis:
        names: dict[int, str] = {}
        for s in steps:
            if s.symbol:
                names.setdefault(s.next_pc, s.symbol.split("+")[0])
        addrs = sorted({s.next_pc for s in steps} | {s.pc for s in steps})
        spans = [b - a for a, b in itertools.pairwise(addrs) if b - a <= region_gap]
        gap = max(16.0, 0.08 * sum(spans)) if spans else 16.0
        position: dict[int, float] = {}
        regions: list[tuple[float, int, str]] = []
        y, prev = 0.0, None
        for a in addrs:
            if prev is None or a - prev > region_gap:
                y += gap if prev is not None else 0.0
                regions.append((y, a, ""))
            else:
                y += a - prev
            position[a] = y
            prev = a
        named = []
        for i, (start, addr, _) in enumerate(regions):
            stop = regions[i + 1][1] if i + 1 < len(regions) else addrs[-1] + 1
            name = next((names[a] for a in sorted(names) if addr <= a < stop), "")
            named.append((start, addr, name))
        return cls(position, named)


def step_trace(data: dict[str, Any], title: str) -> str | None:
    raw = data.get("steps")
    if not isinstance(raw, list) or not raw:
        return None
    steps = [Step(**s) for s in raw]
    axis = AddressAxis.of(steps)
    xs = list(range(len(steps)))  # numbered from 0, as the judge's evidence numbers them
    ys = [axis.position[s.next_pc] for s in steps]
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT + 0.6))
    ax.plot(xs, ys, "-", color="#4878a8", lw=0.8, label="PC after the step")
    ax.plot(xs, ys, ".", color="#4878a8", ms=2)
    entries = [(x, s) for x, s in zip(xs, steps, strict=True) if handler_entry(s)]
    if entries:
        ax.plot(
            [x for x, _ in entries],
            [axis.position[s.next_pc] for _, s in entries],
            "v",
            color="#c0392b",
            ms=9,
            label=f"interrupt-handler entry ({len(entries)})",
        )
        for x, s in entries[:3]:
            ax.annotate(
                f"step {x}: {s.symbol}",
                (x, axis.position[s.next_pc]),
                textcoords="offset points",
                xytext=(6, -12),
                fontsize=7,
                color="#c0392b",
            )
    stalls = [(x, s) for x, s in zip(xs, steps, strict=True) if is_stalled(s)]
    if stalls:
        ax.plot(
            [x for x, _ in stalls],
            [axis.position[s.next_pc] for _, s in stalls],
            "x",
            color="#e67e22",
            ms=8,
            mew=2,
            label=f"stalled step ({len(stalls)})",
        )
    # One tick per region (the largest ones when there are many), named by its function.
    shown = (
        axis.regions if len(axis.regions) <= 12 else axis.regions[:: len(axis.regions) // 12 + 1]
    )
    ax.set_yticks(
        [y for y, _, _ in shown],
        [f"{a:#x} {name}".strip() for _, a, name in shown],
        fontsize=6,
    )
    for y, _, _ in axis.regions[1:]:
        ax.axhline(y, color="#bbb", lw=0.5, ls=":")
    ax.set_xlabel("step number")
    ax.set_ylabel("address (gaps between code regions shrunk)", fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper right", fontsize=7)
    ax.grid(alpha=0.3, axis="x")
    return _svg(fig)


def injection_timeline(data: dict[str, Any], host_trace: str | None, title: str) -> str | None:
    if "timer_before" not in data or not isinstance(data.get("steps"), int):
        return None
    measure = str(data.get("guest_measure", "guest timer"))
    before, after, n = int(data["timer_before"]), int(data["timer_after"]), int(data["steps"])
    fig, (ax, ax_t) = plt.subplots(
        2, 1, figsize=(WIDTH, HEIGHT + 0.8), sharex=False, height_ratios=[1.2, 1]
    )
    timeline = data.get("host_timeline")  # recorded by the scenario (kvm-nested)
    if isinstance(timeline, dict):
        step_times, inj_times = list(timeline["steps"]), list(timeline["injections"])
    elif host_trace:  # nights from before it was: the host's trace among the artifacts
        step_times, inj_times = stepped_vcpu_timeline(host_trace)
    else:
        step_times, inj_times = [], []
    if step_times:
        t0 = step_times[0]
        ax.eventplot(
            [[t - t0 for t in step_times], [t - t0 for t in inj_times]],
            lineoffsets=[1, 0],
            colors=["#4878a8", "#c0392b"],
            linelengths=0.7,
        )
        ax.set_yticks([1, 0], [f"steps ({len(step_times)})", f"kvm_inj_virq ({len(inj_times)})"])
        ax.set_xlabel("seconds since the first step (host tracefs)")
        end = step_times[-1] - t0
    else:
        ax.eventplot([list(range(1, n + 1))], lineoffsets=[1], colors=["#4878a8"], linelengths=0.7)
        ax.set_yticks([1, 0], [f"steps ({n})", "kvm_inj_virq (no host view)"])
        ax.set_xlabel("step number (no host trace: the host's KVM is out of reach)")
        end = float(n)
    ax.set_ylim(-0.6, 1.6)
    ax.set_title(title, fontsize=9)
    ax.grid(alpha=0.3, axis="x")
    ax_t.plot([0, end], [before, after], "o-", color="#27ae60")
    ax_t.annotate(f"{before}", (0, before), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax_t.annotate(
        f"{after} ({after - before:+d})",
        (end, after),
        textcoords="offset points",
        xytext=(-40, 4),
        fontsize=8,
    )
    ax_t.set_ylabel(measure if len(measure) < 20 else "guest timer", fontsize=8)
    ax_t.set_xlabel("read before the first and after the last step")
    ax_t.grid(alpha=0.3)
    fig.tight_layout()
    return _svg(fig)


def resume_loop(data: dict[str, Any], title: str) -> str | None:
    hits = data.get("hits")
    if not isinstance(hits, list) or not hits:
        return None
    # Hits over time (the host's clock when gdb reported each stop); older
    # recordings kept no clock: the order of the resumes then.
    timed = all(h.get("seconds") is not None for h in hits)
    xs = [float(h["seconds"]) if timed else int(h["index"]) for h in hits]
    counters = [int(h["counter"]) for h in hits]
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT))
    ax.plot(xs, counters, "o-", color="#4878a8", ms=4, label="call number at the hit")
    re_hits = [(xs[i], counters[i]) for i in range(1, len(xs)) if counters[i] <= counters[i - 1]]
    if re_hits:
        ax.plot(
            [x for x, _ in re_hits],
            [c for _, c in re_hits],
            "o",
            color="#c0392b",
            ms=9,
            mfc="none",
            mew=2,
            label=f"re-hit: no progress since the last hit ({len(re_hits)})",
        )
    nmi = [x for x, h in zip(xs, hits, strict=True) if h.get("nmi_injected")]
    if nmi:
        ax.plot(
            nmi,
            [counters[xs.index(x)] for x in nmi],
            "|",
            color="#7f8c8d",
            ms=14,
            label="NMI made pending at this stop",
        )
    ax.set_xlabel(
        "seconds since the first resume (host clock, when gdb reported the stop)"
        if timed
        else "breakpoint hit (in the order of the resumes; this recording has no clock)"
    )
    ax.set_ylabel("test module call number")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(title, fontsize=9)
    ax.legend(loc="upper left", fontsize=7)
    ax.grid(alpha=0.3)
    return _svg(fig)
