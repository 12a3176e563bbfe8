"""MI record handling, replayed from transcripts of real runs.

tests/fixtures/gdb/*.mi.log were recorded by scripts/capture-gdb-fixtures
against the default guest under TCG: '>' lines are what framework.gdb sent,
'<' lines what gdb answered."""

import re
from pathlib import Path

import pytest
from guestdbg.debugger.gdbstub import parse_sstepbits
from guestdbg.debugger.mi import MiRecord, StopEvent, mi_quote

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "gdb"


def transcript(name: str) -> list[tuple[str, str]]:
    out = []
    for line in (FIXTURES / name).read_text().splitlines():
        m = re.match(r"^\s*[\d.]+ ([<>]) (.*)$", line)
        if m:
            out.append((m.group(1), m.group(2)))
    return out


def records(name: str) -> list[MiRecord]:
    return [MiRecord.parse(text) for d, text in transcript(name) if d == "<"]


@pytest.mark.parametrize("name", ["bp-loop.mi.log", "lxsymbols-reload.mi.log"])
def test_every_command_gets_exactly_one_result_with_its_token(name: str) -> None:
    sent = [
        int(text.split("-", 1)[0])
        for d, text in transcript(name)
        if d == ">" and text[:1].isdigit()
    ]
    results = [r.token for r in records(name) if r.kind == "result" and r.token is not None]
    assert sent, "empty transcript"
    assert sorted(results) == sorted(sent)
    assert results == sorted(results), "results arrived out of order"


def test_breakpoint_stops_are_parsed_in_order() -> None:
    stops = [
        StopEvent.from_record(r)
        for r in records("bp-loop.mi.log")
        if r.kind == "notify" and r.message == "stopped"
    ]
    hits = [s for s in stops if s.reason == "breakpoint-hit"]
    assert len(hits) == 3
    assert len({s.pc for s in hits}) == 1 and hits[0].bkptno == 1
    assert all(s.thread in (1, 2) and s.cpu in (0, 1) for s in hits)
    # The attach stop (no reason), the hits, then a stepi.
    assert stops[0].reason == ""
    assert any(s.reason == "end-stepping-range" for s in stops)


def test_register_values_and_step_trace_records() -> None:
    recs = records("bp-loop.mi.log")
    regs = [
        r.payload
        for r in recs
        if r.kind == "result" and r.payload and "register-values" in r.payload
    ]
    rdi = [int(v["value"], 16) for p in regs for v in p["register-values"] if v["number"] == "5"]
    assert len(rdi) == 3 and rdi == sorted(rdi) and len(set(rdi)) == 3  # call numbers advance
    steps = [r.payload for r in recs if r.kind == "console" and "GUESTDBG-STEPS" in r.payload]
    assert len(steps) == 1


def test_lx_symbols_output_and_module_stop() -> None:
    console = "".join(r.payload for r in records("lxsymbols-reload.mi.log") if r.kind == "console")
    assert "loading vmlinux" in console
    assert "loading @0xffffffffa0000000: $CACHE/" in console
    assert "refreshing all symbols to reload module 'guestdbg_test'" in console
    stops = [
        StopEvent.from_record(r)
        for r in records("lxsymbols-reload.mi.log")
        if r.kind == "notify" and r.message == "stopped"
    ]
    assert any(s.function == "guestdbg_tick" and s.reason == "breakpoint-hit" for s in stops)


def test_sstep_replies() -> None:
    console = "".join(r.payload for r in records("bp-loop.mi.log") if r.kind == "console")
    assert 'received: "OK"' in console and 'received: "0x1"' in console
    assert parse_sstepbits("ENABLE=1,NOIRQ=2,NOTIMER=4") == 7


def test_mi_quoting() -> None:
    assert mi_quote('say "hi"\\n') == '"say \\"hi\\"\\\\n"'
