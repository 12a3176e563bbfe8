"""A :class:`Finding`: one defect a judge found, as data.

Which detector, what kind of defect, a one-line title, the evidence
(registers, packets, console text) and where to look. Judges never raise and
never decide pass/fail: the scenario says which findings it expects (a
positive control expects its defect) and the pytest plugin decides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

EFLAGS_TF = 0x100
EFLAGS_IF = 0x200


@dataclass(frozen=True)
class Finding:
    """One defect a detector found, with its evidence."""

    detector: str
    kind: str
    title: str
    evidence: dict[str, str] = field(default_factory=dict)
    where: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        lines = [f"[{self.detector}] {self.title}"]
        for name, text in self.evidence.items():
            lines.append(f"  {name}:")
            lines.extend(f"    {ln}" for ln in str(text).rstrip().splitlines()[:40])
        if self.where:
            lines.append(f"  look at: {self.where}")
        return "\n".join(lines)
