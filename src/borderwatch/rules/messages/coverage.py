"""Messages of the coverage rules (rules/coverage/*.yaml name them): one sentence per finding."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any


def _log_gap(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    days = evidence["missing_days"]
    missing = int(row["count"])
    shown = ", ".join(days[:5]) + (f" and {missing - 5} more" if missing > 5 else "")
    return (
        f"No {evidence['source']} events from {row['resource']} on {missing} day(s) of "
        f"the scan window ({evidence['scan_window']}) while it has events on "
        f"{evidence['days_with_events']} other day(s), {evidence['median_daily_events']:,} "
        f"on the median one: {shown}. A missing delivery or a trail that was off: "
        "accesses on those days were not seen."
    )


def _store_unobserved(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    sources = ", ".join(evidence["sources_of_region"])
    return (
        f"No event in the scan window ({evidence['scan_window']}) names protected store "
        f"{row['resource']}, while {sources} logs of {evidence['provider']} "
        f"{evidence['region']} have events on {evidence['days_of_region']} day(s): its "
        "accesses are probably not logged (for CloudTrail: data events not enabled for it)."
    )


_NOTHING = {
    "no-protected-store": "no store holds protected data (check the inventory's data "
    "classes against the policy)",
    "no-events": "no access event was read (give the logs with --events)",
    "no-event-names-protected-data": "none of the {events:,} events read names a "
    "protected store (are these the logs of the inventory's accounts, with data events?)",
}


def _nothing_judged(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    why = _NOTHING[row["subject"]].format(events=evidence["events"])
    return (
        f"Nothing was judged: {why}. {evidence['protected_stores']} protected store(s), "
        f"{evidence['events']:,} event(s), {evidence['events_naming_protected_stores']:,} "
        "naming protected data."
    )


# Message builders by the name a rule's metadata gives (`message: builder:`).
BUILDERS: Mapping[str, Callable[..., str]] = MappingProxyType(
    {
        "coverage.log-gap": _log_gap,
        "coverage.store-unobserved": _store_unobserved,
        "coverage.nothing-judged": _nothing_judged,
    }
)
