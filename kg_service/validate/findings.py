"""What the gate found: SHACL validation results in plain values (https://www.w3.org/TR/shacl/#results)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rdflib.namespace import SH

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True)
class Finding:
    """One SHACL validation result, in plain values."""

    focus_node: str
    severity: str
    message: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None  # the result's sh:sourceShape (a property shape may be a blank node)

    def describe(self) -> str:
        where = f"{self.path.rsplit('#', 1)[-1]}: " if self.path else ""
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{self.severity}: {where}{self.message}{value}"


@dataclass
class GateReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(f.severity == "Violation" for f in self.findings)

    def by_focus_node(self, severity: str) -> dict[str, list[Finding]]:
        grouped: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            if finding.severity == severity:
                grouped[finding.focus_node].append(finding)
        return dict(grouped)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)
