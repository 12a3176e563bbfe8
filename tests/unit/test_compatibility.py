"""The compatibility table, read from recorded real nightly outputs
(tests/fixtures/nightly/)."""

from __future__ import annotations

from pathlib import Path

from guestdbg.cli import compatibility
from guestdbg.results.nights import Night

NIGHTS = Path(__file__).resolve().parents[1] / "fixtures" / "nightly"


def rows(*names: str) -> list[tuple[str, dict[str, str], compatibility.Cell]]:
    out = []
    for name in names:
        for c in Night.load(NIGHTS / name).cases:
            axes = {k: c.properties[k] for k in compatibility.AXES if c.properties.get(k)}
            out.append((c.test, axes, compatibility.cell_of(c.outcome, c.verdict, c.cause,
                                                            c.message)))  # fmt: skip
    return out


def test_one_version_of_each_is_no_table() -> None:
    # n1: every case on 6.1.192-guestdbg, QEMU 7.2.22, gdb 13.1.
    assert compatibility.markdown(rows("n1")) == []


def test_cells_say_what_each_case_did() -> None:
    cells = {test: cell for test, _, cell in rows("n1", "n3")}
    assert compatibility.Cell("passed") in {cell for _, _, cell in rows("n1")}
    # n3 planted the interrupt-while-stepping defect: known-good cases failed as defects.
    n3 = [cell for _, _, cell in rows("n3")]
    assert any(c.word == "defect" for c in n3)
    xfail = cells["test_lx_symbols_survives_module_load_and_reload"]
    assert xfail.word == "xfail" and "known defect" in xfail.why
