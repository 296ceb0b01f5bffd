"""The message builders of the built-in rules, by the name their metadata gives.

A rule's metadata (rules/<family>/<id>.yaml) says how its finding's one-sentence message
is made: `message: {builder: NAME, with: {...}}` names a function here, called with the
result row and the `with:` arguments; or `message: {template: ...}` gives a Jinja2
template (evaluate/rulefiles.py). The built-in rules use builders because their
sentences depend on the evidence in ways a template would hide (docs/rules.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from borderwatch.rules.messages import access, coverage, dsp, feed, residency

MESSAGE_BUILDERS: Mapping[str, Callable[..., str]] = MappingProxyType(
    {
        **residency.BUILDERS,
        **access.BUILDERS,
        **coverage.BUILDERS,
        **dsp.BUILDERS,
        **feed.BUILDERS,
    }
)
