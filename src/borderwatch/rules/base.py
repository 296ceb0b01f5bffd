"""What a rule is: public metadata, the SQL that finds candidates, and its message.

A rule is written as two files, `rules/<family>/<name>.sql` (the query, as it runs) and
`<name>.yaml` (its metadata); evaluate/rulefiles.py reads them into a `Rule`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from borderwatch.model.findings import Severity

# Every rule's SQL returns these columns (extra columns are ignored):
#   resource, principal, person, country   -- the subject; (rule, resource, principal,
#                                              country) make the finding's stable id
#   data_classes LIST<VARCHAR>, count BIGINT, first_seen/last_seen TIMESTAMPTZ or NULL,
#   evidence STRUCT(...)                    -- rule-specific facts, shown as given
#   subject, severity (optional)            -- a further part of the id; the policy's
#                                              severity for this finding
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
    # The query exactly as its file holds it (comments included): what runs is what an
    # auditor reads.
    sql: str
    # Builds the one-sentence message of a finding from its result row.
    describe: Callable[[dict[str, Any]], str]
    # What the finding's evidence carries: field name -> what it means.
    evidence: Mapping[str, str] = field(default_factory=dict)
    # The metadata file's text, exactly, and the files the rule was read from.
    metadata: str = ""
    sql_file: str = ""
    metadata_file: str = ""
    # Statements the rule needs run first (the macros and views of its folder's shared/
    # files), in order; rules of one folder share them and they run once per scan.
    shared_sql: tuple[str, ...] = ()
