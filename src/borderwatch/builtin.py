"""Registers the built-in plug-ins exactly as a third-party package would."""

from __future__ import annotations

from borderwatch.registry import Registry


def register(registry: Registry) -> None:
    """Entry point `borderwatch.plugins:builtin`: sources, rules and reporters."""
    from borderwatch.engine.duckdb_engine import DuckDBEngine
    from borderwatch.report.html import HtmlReporter
    from borderwatch.report.jsonfiles import (
        FindingsJsonReporter,
        QuarantineReporter,
        SummaryJsonReporter,
    )
    from borderwatch.rules.catalog import builtin_rules
    from borderwatch.sources.cloudtrail import CloudTrailSource

    registry.sources.add("cloudtrail", CloudTrailSource())
    for rule in builtin_rules():
        registry.rules.add(rule.id, rule)
    for reporter in (
        FindingsJsonReporter(),
        SummaryJsonReporter(),
        QuarantineReporter(),
        HtmlReporter(),
    ):
        registry.reporters.add(reporter.name, reporter)
    registry.engines.add("duckdb", DuckDBEngine)
