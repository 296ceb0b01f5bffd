"""Messages of the Data Security Program rules (rules/dsp/*.yaml name them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

_CATEGORY_WORDS = {
    "human_omic": "human 'omic data",
    "human_genomic": "human genomic data",
    "biometric": "biometric identifiers",
    "precise_geolocation": "precise geolocation data",
    "personal_health": "personal health data",
    "personal_financial": "personal financial data",
    "covered_personal_identifiers": "covered personal identifiers",
    "government_related": "government-related data",
    "combined": "combined sensitive personal data",
}


def _who(row: dict[str, Any]) -> str:
    kind, _, name = str(row["principal"]).partition(":")
    words = {"entity": "Covered entity", "person": "Covered person", "country": "A caller in"}
    return f"{words.get(kind, kind)} {name}"


def _counted(evidence: dict[str, Any]) -> str:
    parts = []
    if evidence.get("whole_stores"):
        parts.append(
            "stores read whole count their whole volume ("
            + ", ".join(evidence["whole_stores"])
            + ")"
        )
    return f"; {'; '.join(parts)}" if parts else ""


def _unknown(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    what = _CATEGORY_WORDS.get(evidence["category"], evidence["category"])
    stores = ", ".join(evidence.get("volume_unknown_stores") or [])
    return (
        f"{_who(row)} read {stores} whole, which holds {what}, and the "
        f"inventory gives no volume for it: whether more than "
        f"{evidence['threshold']:,} {evidence['unit']} were reached in some 12 months "
        "cannot be told (add dsp_subjects to the inventory)."
    )


def _reached(row: dict[str, Any], what_class: str) -> str:
    evidence = row["evidence"]
    what = _CATEGORY_WORDS.get(evidence["category"], evidence["category"])
    return (
        f"{_who(row)} reached {evidence['distinct_count']:,} distinct "
        f"{evidence['unit']} of {what} in the 12 months {evidence['window_from']} to "
        f"{evidence['window_to']}, more than the threshold of {evidence['threshold']:,}"
        f"{_counted(evidence)}: {what_class}"
    )


def _class(evidence: dict[str, Any]) -> str:
    section = evidence["transaction_section"]
    match evidence["transaction_class"]:
        case "prohibited":
            return f"a prohibited transaction under {section}."
        case "restricted" if evidence.get("cisa_in_place"):
            return (
                f"a restricted transaction under {section}; the policy records the CISA security "
                f"requirements in place ({evidence.get('cisa_evidence')})."
            )
        case "restricted":
            return (
                f"a restricted transaction under {section}, without the CISA security "
                "requirements recorded in place."
            )
        case _:
            return (
                "a covered data transaction whose agreement is not recorded (add it to "
                "dsp.agreements: vendor, employment, investment or data brokerage)."
            )


def _bulk(row: dict[str, Any]) -> str:
    if row["evidence"]["verdict"] == "unknown":
        return _unknown(row)
    return _reached(row, _class(row["evidence"]))


def _government(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    if evidence["verdict"] == "unknown":
        return _unknown(row)
    return (
        f"{_who(row)} reached government-related data of "
        f"{evidence['distinct_count']:,} {evidence['unit']} between {evidence['window_from']} "
        f"and {evidence['window_to']}{_counted(evidence)}; it is covered at any volume: "
        + _class(evidence)
    )


def _potential(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    categories = ", ".join(_CATEGORY_WORDS.get(c, c) for c in evidence["categories"])
    who = f"{row['principal']} ({evidence['counterparty']})"
    if evidence["verdict"] == "unknown":
        return (
            f"Whether {who} can read {row['resource']}, which holds bulk {categories}, cannot "
            "be told: part of its policies could not be read or evaluated "
            f"({'; '.join(evidence.get('not_evaluated') or [])})."
        )
    condition = " under the policies' conditions" if evidence.get("conditional") else ""
    return (
        f"{who} can read {row['resource']}, which holds bulk {categories}"
        f"{condition} ({', '.join(evidence['actions'])} through "
        f"{', '.join(evidence['via'])}), with no access logged needed: the ability to read "
        "is access under 28 CFR 202.201."
    )


BUILDERS: Mapping[str, Callable[..., str]] = MappingProxyType(
    {
        "dsp.bulk": _bulk,
        "dsp.prohibited": _bulk,
        "dsp.government": _government,
        "dsp.potential": _potential,
    }
)
