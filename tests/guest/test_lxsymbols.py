"""lx-symbols and modules loaded after it ran: symbols, breakpoints, the ledger."""

from pathlib import Path

import pytest
from guestdbg import scenarios
from guestdbg.pytest_plugin import bug_report, expect_clean, expect_found
from guestdbg.runtime import host
from guestdbg.scenarios import Session

pytestmark = pytest.mark.guest

LEDGER_KINDS = {"resume-over-planted-breakpoint", "unbalanced-breakpoints"}


def test_lx_symbols_finds_a_module_loaded_after_it(
    request: pytest.FixtureRequest, session: Session, artifacts: Path
) -> None:
    """The first-load path alone: lx-symbols' do_init_module breakpoint loads
    the module's symbols, a breakpoint in the module hits, the ledger balances."""
    result = scenarios.lxsymbols_reload(session, rounds=0)
    expect_clean(request, result, artifacts)


def test_lx_symbols_survives_module_load_and_reload(
    request: pytest.FixtureRequest, session: Session, artifacts: Path
) -> None:
    result = scenarios.lxsymbols_reload(session, rounds=2)
    if result.findings and result.kinds() <= LEDGER_KINDS:
        # Symbols resolved, breakpoints hit, the guest is healthy, but gdb's
        # packets show it stepping over its own planted do_init_module
        # breakpoint on the reload path: a real defect of gdb + lx-symbols
        # (harmless under TCG, an int3 left in guest memory under KVM).
        from guestdbg.pytest_plugin import record

        record(request.node, result, artifacts, [])
        pytest.xfail(
            bug_report(
                result,
                f"known defect (gdb {host.probe().gdb.version} with this kernel's "
                "lx-symbols): the reload path resumes over a planted breakpoint",
                artifacts,
            )
        )
    expect_clean(request, result, artifacts)


@pytest.mark.control
@pytest.mark.sw_breakpoints
def test_control_ledger_sees_a_step_over_a_planted_breakpoint(
    request: pytest.FixtureRequest, session: Session, artifacts: Path
) -> None:
    result = scenarios.planted_breakpoint(session)
    expect_found(request, result, artifacts, "resume-over-planted-breakpoint")
