"""Scenarios: reusable guest-debug flows. Each drives a guest and a debugger,
records what happened, runs the judges and returns a ScenarioResult.

``SCENARIOS`` names them for ``guestdbg repro``.
"""

from __future__ import annotations

from collections.abc import Callable

from guestdbg.scenarios.breakpoints import breakpoint_resume_loop, planted_breakpoint
from guestdbg.scenarios.injections import step_injection_run
from guestdbg.scenarios.lxsymbols import lxsymbols_reload, module_map
from guestdbg.scenarios.session import ScenarioResult, Session, finish
from guestdbg.scenarios.steps import (
    early_boot_step_run,
    nmi_step_interrupted,
    single_step_run,
)
from guestdbg.scenarios.tf import tf_seen_at_stop, tf_trigger

SCENARIOS: dict[str, tuple[Callable[..., ScenarioResult], str]] = {
    "bp-loop": (breakpoint_resume_loop, "breakpoint resume loop on the module's hot function"),
    "step": (single_step_run, "single-step a loop that runs with interrupts enabled"),
    "early-boot": (early_boot_step_run, "single-step early boot from start_kernel (paused start)"),
    "lx-symbols": (lxsymbols_reload, "lx-symbols, insmod, rmmod+insmod reload, breakpoints"),
    "tf": (tf_trigger, "control: set EFLAGS.TF in kernel mode (TF-leak WARN)"),
    "tf-stop": (tf_seen_at_stop, "control: step through a popf that sets TF, read EFLAGS"),
    "planted": (planted_breakpoint, "control: step over a breakpoint planted behind gdb"),
    "nmi-step": (
        nmi_step_interrupted,
        "inject an NMI, start a step, interrupt it, continue: TF leaked by KVM?",
    ),
    "module-map": (module_map, "lx-symbols, then the module's symbols with every section placed"),
    "injections": (
        step_injection_run,
        "single-step with interrupts on; host KVM injections (tracefs) and guest jiffies",
    ),
}


__all__ = [
    "SCENARIOS",
    "ScenarioResult",
    "Session",
    "breakpoint_resume_loop",
    "early_boot_step_run",
    "finish",
    "lxsymbols_reload",
    "module_map",
    "nmi_step_interrupted",
    "planted_breakpoint",
    "single_step_run",
    "step_injection_run",
    "tf_seen_at_stop",
    "tf_trigger",
]
