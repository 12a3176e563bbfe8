"""Judges: each reads what a scenario recorded and returns findings.

- :func:`forward_progress` — resumes from a breakpoint that did not move on;
- :func:`stuck_breakpoint` — K hits in a row at the same PC/SP/counter;
- :func:`step_landing` — a stepi that ended anywhere but the next instruction
  or the branch target; IDT entry stubs named as interrupt handlers;
- :func:`tf_leak` — the exc_debug WARN on the console, or EFLAGS.TF set at
  a stop where the debugger did not set it;
- :func:`breakpoint_ledger` — a resume over a planted software breakpoint,
  and inserts/removes that do not balance;
- :func:`guest_health` — any console report the scenario did not expect;
- :func:`debugger_breakpoint_taken` — the guest executed the debugger's int3
  itself (an ``int3:`` Oops) instead of exiting to the debugger;
- :func:`module_symbols_overlap` — two symbols of a module at one address
  in gdb's map (lx-symbols left sections out; the .ko has nonzero section
  addresses);
- :func:`interrupts_while_stepping` — the host's KVM injected interrupts
  during single-steps (host tracefs), or jiffies moved across them.
"""

from guestdbg.judges.breakpoints import BreakpointHit, forward_progress, stuck_breakpoint
from guestdbg.judges.console import debugger_breakpoint_taken, guest_health, tf_leak
from guestdbg.judges.findings import Finding
from guestdbg.judges.injections import interrupts_while_stepping
from guestdbg.judges.ledger import breakpoint_ledger
from guestdbg.judges.module_symbols import ModuleSymbol, module_symbols_overlap
from guestdbg.judges.steps import expected_successors, stalled_steps, step_landing

__all__ = [
    "BreakpointHit",
    "Finding",
    "ModuleSymbol",
    "breakpoint_ledger",
    "debugger_breakpoint_taken",
    "expected_successors",
    "forward_progress",
    "guest_health",
    "interrupts_while_stepping",
    "module_symbols_overlap",
    "stalled_steps",
    "step_landing",
    "stuck_breakpoint",
    "tf_leak",
]
