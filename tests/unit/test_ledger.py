"""The breakpoint ledger over real remote-protocol logs (set debug remote 1),
recorded by scripts/capture-gdb-fixtures."""

from pathlib import Path

from guestdbg.debugger.ledger import parse_remote_log, parse_remote_log_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gdb"
DO_INIT_MODULE = 0xFFFFFFFF8107FA73  # lx-symbols' breakpoint in the default kernel


def test_a_plain_breakpoint_loop_is_clean() -> None:
    ledger = parse_remote_log_file(FIXTURES / "bp-loop.remote.log")
    assert ledger.count("insert") >= 3 and ledger.count("remove") >= 3
    assert ledger.count("step") >= 3  # each resume steps over the breakpoint first
    assert ledger.resumes_over_planted() == []
    assert ledger.unbalanced() == []


def test_every_step_over_a_breakpoint_follows_its_removal() -> None:
    ledger = parse_remote_log_file(FIXTURES / "bp-loop.remote.log")
    (addr,) = ledger.by_address()
    evs = ledger.events
    for i, e in enumerate(evs):
        if e.kind == "step" and e.addr == addr:
            before = [x for x in evs[:i] if x.addr == addr and x.kind in ("insert", "remove")]
            assert before[-1].kind == "remove"


def test_the_lx_symbols_reload_path_steps_over_a_planted_breakpoint() -> None:
    """gdb 13.1 + 6.1's symbols.py: the reload (rmmod, insmod) drops all symbols
    from inside the do_init_module breakpoint's stop(); gdb then steps off that
    breakpoint without removing it and inserts it a second time."""
    ledger = parse_remote_log_file(FIXTURES / "lxsymbols-reload.remote.log")
    problems = ledger.resumes_over_planted()
    assert [(p.what, p.addr) for p in problems] == [("resume-over-planted", DO_INIT_MODULE)]
    assert "step packet 'vCont;s:p1." in problems[0].detail
    kinds = {p.what for p in ledger.unbalanced()}
    assert "double-insert" in kinds


def test_both_log_formats() -> None:
    remotelogfile = "w +$Z0,ffffffffa0000000,1#f4\nr +$OK#9a\nw +$vCont;c:p1.-1#0f\n"
    debug_remote = (
        "[remote] Sending packet: $Z0,ffffffffa0000000,1#f4\n"
        "  [remote] Packet received: OK\n"
        "[remote] Sending packet: $vCont;c:p1.-1#0f\n"
    )
    for text in (remotelogfile, debug_remote):
        ledger = parse_remote_log(text)
        assert [e.kind for e in ledger.events] == ["insert", "continue"]
        assert ledger.events[0].addr == 0xFFFFFFFFA0000000
