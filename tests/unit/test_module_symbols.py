"""The module-map judge, replayed on what real guests recorded (tests/fixtures/module_map):
the default 6.1 guest and Debian 12's 6.12 cloud kernel, after lx-symbols and
with every section placed by hand, and the planted control."""

import json
from pathlib import Path

import pytest
from guestdbg.judges import ModuleSymbol, module_symbols_overlap

FIXTURES = Path(__file__).parent.parent / "fixtures" / "module_map"


def judge(name: str) -> list:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    return module_symbols_overlap(
        data["module"],
        [ModuleSymbol(**s) for s in data["symbols"]],
        data["loaded_sections"],
        data["gdb_sections"],
        data["nonzero_sections"],
    )


@pytest.mark.parametrize("name", ["6.1-default-lx-symbols", "6.1-default-every-section"])
def test_a_6_1_module_is_mapped_without_overlap(name: str) -> None:
    assert judge(name) == []


def test_6_12_lx_symbols_puts_the_exit_function_on_guestdbg_tick() -> None:
    (finding,) = judge("6.12-debian-cloud-lx-symbols")
    assert finding.kind == "module-symbols-overlap"
    assert "guestdbg_tick (.text) and guestdbg_test_exit (.exit.text)" in finding.title
    assert "not place where the kernel loaded them: .exit.text, .init.text" in finding.title
    clash = finding.evidence["symbols at one address in gdb's map"]
    assert "guestdbg_test_exit (.exit.text+0x10)" in clash
    assert "guestdbg_tick (.text+0x10)" in clash
    nonzero = next(v for k, v in finding.evidence.items() if k.startswith("loaded .ko sections"))
    assert "__patchable_function_entries: 0x18" in nonzero and ".data: 0x60" in nonzero


def test_6_12_overlaps_even_with_every_section_placed() -> None:
    """The .ko's nonzero section addresses, not lx-symbols' list alone."""
    (finding,) = judge("6.12-debian-cloud-every-section")
    assert finding.evidence["sections gdb does not place where the kernel loaded them"] == "none"
    assert "guestdbg_test_exit" in finding.evidence["symbols at one address in gdb's map"]


def test_the_planted_control_is_seen_on_6_1() -> None:
    (finding,) = judge("6.1-default-planted-exit-text")
    assert "guestdbg_tick (.text) and guestdbg_test_exit (.exit.text)" in finding.title
    assert not any(k.startswith("loaded .ko sections") for k in finding.evidence)
