"""What a reporter is: findings (a ScanResult) to the bytes of one output file."""

from __future__ import annotations

from typing import Protocol

from borderwatch.model.scan import ScanResult


class Reporter(Protocol):
    """Renders one output format. Registered by name; the scan writes `filename`."""

    name: str
    filename: str

    def render(self, result: ScanResult) -> bytes: ...
