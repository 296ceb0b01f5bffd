"""Principals that only look like someone else: homoglyphs, mixed scripts, invisible and
bidi characters.

`аdmin` with a Cyrillic "а" is not `admin`, and `ad\u200bmin` is neither, yet a person
reading a report sees the same name. Such a principal is not an error in the log; it is a
reason to look twice, so its findings carry the reasons and the escaped code points. The
confusable characters come from the Unicode consortium's confusables data, as packaged by
confusable-homoglyphs.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter
from collections.abc import Iterable

from confusable_homoglyphs import categories, confusables

from borderwatch.model.findings import LOOKALIKE_KEY, Finding

__all__ = ["EVIDENCE_KEY", "code_points", "lookalike_reasons", "mark_lookalike_principals"]

EVIDENCE_KEY = LOOKALIKE_KEY
_INVISIBLE = frozenset({"Cf", "Cc", "Zl", "Zp", "Co", "Cs"})


def code_points(text: str) -> str:
    """Every character of `text` as U+XXXX, the form to compare two look-alikes by."""
    return " ".join(f"U+{ord(ch):04X}" for ch in text)


def lookalike_reasons(text: str) -> list[str]:
    """Why `text` may not be what it looks like; empty for an ordinary name."""
    reasons: list[str] = []
    hidden = sorted({ch for ch in text if unicodedata.category(ch) in _INVISIBLE})
    for ch in hidden:
        name = unicodedata.name(ch, "unnamed")
        reasons.append(f"invisible or bidi character U+{ord(ch):04X} {name}")
    visible = "".join(ch for ch in text if ch not in hidden)
    if text.isascii() or not visible:
        return reasons
    if not confusables.is_mixed_script(visible):
        # A name in one script (Иван, 王伟, Jürgen) is ordinary; a homograph mixes scripts.
        return reasons
    scripts = [(ch, categories.alias(ch)) for ch in visible]
    counts = Counter(alias for _, alias in scripts if alias != "COMMON")
    main_script = counts.most_common(1)[0][0]
    others = sorted({alias for alias in counts if alias != main_script})
    # Mixing scripts alone is ordinary (a Chinese name in an ARN); a letter of another
    # script that looks like one of the main script is how a homograph is made.
    lookalikes: list[str] = []
    for ch in sorted({ch for ch, alias in scripts if alias not in ("COMMON", main_script)}):
        found = confusables.is_confusable(ch, preferred_aliases=[main_script.lower()]) or []
        like = [h["c"] for item in found for h in item["homoglyphs"]]
        if like:
            shown = ", ".join(f"'{c}' U+{ord(c[0]):04X}" for c in like[:2])
            name = unicodedata.name(ch, "unnamed")
            lookalikes.append(f"U+{ord(ch):04X} {name} looks like {main_script} {shown}")
    if lookalikes:
        reasons.extend([f"mixes scripts: {main_script} with {', '.join(others)}", *lookalikes])
    return reasons


def mark_lookalike_principals(findings: Iterable[Finding]) -> list[Finding]:
    """The findings, those about a look-alike principal with the reasons in their evidence."""
    marked: list[Finding] = []
    verdicts: dict[str, list[str]] = {}
    for finding in findings:
        principal = finding.principal
        if principal:
            if principal not in verdicts:
                verdicts[principal] = lookalike_reasons(principal)
            reasons = verdicts[principal]
            if reasons:
                evidence = {
                    **finding.evidence,
                    EVIDENCE_KEY: {"reasons": reasons, "code_points": code_points(principal)},
                }
                finding = dataclasses.replace(finding, evidence=evidence)
        marked.append(finding)
    return marked
