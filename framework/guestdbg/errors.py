"""One exception hierarchy for the framework.

Every error is a sentence a user can act on; errors raised while a guest runs
also carry the evidence (console tail, last MI records, registers, where the
artifacts are) so a failure report reads like a bug report.
"""

from __future__ import annotations


class GuestdbgError(Exception):
    """Base class: ``str(err)`` is the sentence shown to the user."""

    def __init__(self, message: str, *, evidence: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence: dict[str, str] = dict(evidence or {})

    def __str__(self) -> str:
        parts = [self.message]
        for name, text in self.evidence.items():
            if text:
                body = text.rstrip("\n")
                parts.append(f"--- {name} ---\n{body}")
        return "\n".join(parts)


class InputError(GuestdbgError):
    """Bad input from the user: a missing kernel, an unknown accel, a broken tree."""


class HostError(GuestdbgError):
    """The host lacks something: QEMU, gdb with Python, usable KVM."""


class BuildError(GuestdbgError):
    """Building a guest image failed."""


class GuestError(GuestdbgError):
    """The guest did not do what was asked: never booted, died, stopped answering."""


class DeadlineError(GuestError):
    """A bounded wait ran out."""


class SnapshotError(GuestError):
    """A snapshot that cannot be used (the sentence says why); the guest is
    booted instead. ``by_qemu``: the file was intact but QEMU could not
    restore a working guest from it (so making another would not help)."""

    def __init__(
        self, message: str, *, by_qemu: bool = False, evidence: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, evidence=evidence)
        self.by_qemu = by_qemu


class DebuggerError(GuestdbgError):
    """gdb failed, answered with an error record, or never stopped."""
