"""What a rule is: public metadata, the SQL that finds candidates, and its message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from borderwatch.model.findings import Severity

# Every rule's SQL returns these columns (extra columns are ignored):
#   resource, principal, person, country   -- the subject; (rule, resource, principal,
#                                              country) make the finding's stable id
#   data_classes LIST<VARCHAR>, count BIGINT, first_seen/last_seen TIMESTAMPTZ or NULL,
#   evidence STRUCT(...)                    -- rule-specific facts, shown as given
RESULT_COLUMNS = (
    "resource",
    "principal",
    "person",
    "country",
    "data_classes",
    "count",
    "first_seen",
    "last_seen",
    "evidence",
)


@dataclass(frozen=True)
class Rule:
    """A rule. Its id is a public interface: never rename one, deprecate it instead."""

    id: str
    title: str
    severity: Severity
    rationale: str
    references: tuple[str, ...]
    sql: str
    # Builds the one-sentence message of a finding from its result row.
    describe: Callable[[dict[str, Any]], str]
