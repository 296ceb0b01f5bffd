"""The caller-location enricher: every signal of where each caller was (enrich/signals.py)."""

from __future__ import annotations

from borderwatch.enrich.base import CALLERS, Batch, EnrichContext, as_table, like
from borderwatch.enrich.caller import CALLER_SCHEMA
from borderwatch.enrich.signals import SIGNAL_COLUMNS, caller_signals, egress_source

# What classify_callers adds besides the caller itself; its own ip_country is replaced
# by the signals' (caller_signals drops it).
_CLASSIFIED = tuple(name for name in CALLER_SCHEMA.names if name not in ("caller", "ip_country"))


class CallerLocation:
    """Caller kind, normalised IP, IP countries from every source, cloud-provider range,
    anonymiser flags and corporate egress, per caller value (docs/jurisdiction.md)."""

    name = "caller-location"
    table = CALLERS
    needs = ("caller",)
    adds = (*_CLASSIFIED, *SIGNAL_COLUMNS)

    def enrich(self, batch: Batch, context: EnrichContext) -> Batch:
        """`batch` with the caller's kind, address and location signals appended."""
        table = as_table(batch)
        rules = context.policy.jurisdiction
        signals = caller_signals(
            table.column("caller"),
            context.geo_sources,
            context.locations,
            decide_by=rules.ip_country,
            egress=egress_source(rules.corporate_egress),
        )
        for name in self.adds:
            table = table.append_column(name, signals.column(name))
        return like(batch, table)
