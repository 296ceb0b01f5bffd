"""Messages of the feed rules (rules/feed/*.yaml and coverage.feed-no-data name them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any


def _percent(share: float) -> str:
    return f"{share * 100:.2f}%"


def _exposure_shift(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    declared = evidence["declaration"]
    where = (
        f"in the comparison window ({declared['comparison']}) against the reviewed baseline "
        f"({declared['baseline']})"
    )
    if row.get("subject") == "distribution":
        return (
            f"Test {evidence['test']}: the distribution of {evidence['attribute']} moved "
            f"{where}: Jensen-Shannon distance {evidence['distance']:.4f}, at or above the "
            f"declared {declared['max_distance']}, over {evidence['baseline_total']:,} and "
            f"{evidence['comparison_total']:,} views."
        )
    value = evidence.get("value")
    shown = "views without a value" if value is None else repr(value)
    points = evidence["effect"] * 100
    return (
        f"Test {evidence['test']}: the share of {evidence['attribute']} {shown} went from "
        f"{_percent(evidence['baseline_share'])} to {_percent(evidence['comparison_share'])} "
        f"({points:+.2f} percentage points; {evidence['comparison_views']:,} of "
        f"{evidence['comparison_total']:,} views) {where}; G-test p = "
        f"{evidence['p_value']:.3g}, {evidence['p_adjusted']:.3g} adjusted (Benjamini-Hochberg)"
        f", against alpha {declared['alpha']} and a declared minimal effect of "
        f"{declared['min_effect'] * 100:.2f} points."
    )


def _intervention_share(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    return (
        f"On {evidence['day']}, {evidence['manual_views']:,} of {evidence['views']:,} views "
        f"({evidence['share'] * 100:.4f}%) were of items placed by hand, above the "
        f"policy's cap of {float(evidence['cap']) * 100:.4f}% ({evidence['cap']})."
    )


_STATUS = {
    "not-approved": "a reason not on the policy's approved-intervention list",
    "approval-expired": "a reason whose approval expired on {expired}",
    "no-reason": "no reason at all",
}


def _unapproved_intervention(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    why = _STATUS[evidence["status"]].format(expired=evidence.get("expired"))
    reason = "" if evidence.get("reason") is None else f" ({evidence['reason']!r})"
    return (
        f"{evidence['views']:,} views of {evidence['items']:,} item(s) on "
        f"{evidence['days']} day(s) ({row['first_seen']} to {row['last_seen']}) were "
        f"placed by hand for {why}{reason}."
    )


def _feed_no_data(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    if row.get("subject") == "intervention-cap":
        return (
            "The policy caps manual intervention in the feed, but no served-recommendation "
            "log was read (give it with --feed and --feed-mapping): the cap was not checked."
        )
    if row.get("subject") == "missing-days":
        days = evidence["missing_days"]
        missing = int(row["count"])
        shown = ", ".join(days[:5]) + (f" and {missing - 5} more" if missing > 5 else "")
        return (
            f"Feed test {evidence['test']} ({evidence['attribute']}) ran, but {missing} "
            f"day(s) of its windows (baseline {evidence['baseline']}, comparison "
            f"{evidence['comparison']}) have no views at all: {shown}. A missing delivery: "
            "the test saw less than was declared."
        )
    windows = " and ".join(evidence["empty_windows"])
    return (
        f"Feed test {evidence['test']} ({evidence['attribute']}) could not be made: no "
        f"views in its {windows} window (baseline {evidence['baseline']}, comparison "
        f"{evidence['comparison']}). Not a pass: the feed of those days was not seen."
    )


# Message builders by the name a rule's metadata gives (`message: builder:`).
BUILDERS: Mapping[str, Callable[..., str]] = MappingProxyType(
    {
        "feed.exposure-shift": _exposure_shift,
        "feed.intervention-share": _intervention_share,
        "feed.unapproved-intervention": _unapproved_intervention,
        "coverage.feed-no-data": _feed_no_data,
    }
)
