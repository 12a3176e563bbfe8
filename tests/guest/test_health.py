"""The guest under test boots clean: no console report before any debugging."""

import pytest
from guestdbg import kernlog
from guestdbg.runtime.qemu import Guest

pytestmark = pytest.mark.guest


def test_the_guest_boots_clean(guest: Guest) -> None:
    assert guest.ready is not None
    reports = kernlog.parse_text(guest.console.text())
    assert not reports, "the guest reported problems while booting:\n" + "\n".join(
        r.title for r in reports
    )
