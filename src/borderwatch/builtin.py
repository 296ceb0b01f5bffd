"""Registers the built-in plug-ins exactly as a third-party package would."""

from __future__ import annotations

from borderwatch.registry import Registry


def register(registry: Registry) -> None:
    """Entry point `borderwatch.plugins:builtin`: sources, enrichers, rules, reporters."""
    from borderwatch.enrich.callers import CallerLocation
    from borderwatch.enrich.covered import CoveredPerson
    from borderwatch.evaluate.duckdb_engine import DuckDBEngine
    from borderwatch.evaluate.rulefiles import builtin_rule_folder, register_rule_folder
    from borderwatch.evaluate.spark_engine import SparkEngine
    from borderwatch.report.findings_csv import FindingsCsvReporter
    from borderwatch.report.html import HtmlReporter
    from borderwatch.report.jsonfiles import (
        FindingsJsonReporter,
        QuarantineReporter,
        SummaryJsonReporter,
    )
    from borderwatch.report.junit import JunitReporter
    from borderwatch.report.ocsf import OcsfReporter
    from borderwatch.report.oscal import OscalReporter
    from borderwatch.report.residency_csv import ResidencyCsvReporter
    from borderwatch.report.sarif import SarifReporter
    from borderwatch.sources.azure_activity import AzureActivitySource
    from borderwatch.sources.cloudtrail import CloudTrailSource
    from borderwatch.sources.entra import EntraSource
    from borderwatch.sources.gcp_audit import GcpAuditSource
    from borderwatch.sources.github_audit import GitHubAuditSource
    from borderwatch.sources.gworkspace import GWorkspaceSource
    from borderwatch.sources.k8s_audit import K8sAuditSource
    from borderwatch.sources.oci_audit import OciAuditSource
    from borderwatch.sources.ocsf import OcsfSource
    from borderwatch.sources.okta import OktaSource
    from borderwatch.sources.s3_access import S3AccessSource

    # Sniff order: the first source whose sniff accepts a file reads it. Each sniff
    # checks format-specific markers, so the order only matters for mixed files.
    for source in (
        CloudTrailSource(),
        GcpAuditSource(),
        AzureActivitySource(),
        EntraSource(),
        OciAuditSource(),
        OktaSource(),
        K8sAuditSource(),
        GitHubAuditSource(),
        GWorkspaceSource(),
        S3AccessSource(),
        OcsfSource(),
    ):
        registry.sources.add(source.name, source)
    for enricher in (CallerLocation(), CoveredPerson()):
        registry.enrichers.add(enricher.name, enricher)
    # The rules are files (rules/<family>/<name>.sql + .yaml), read like a plug-in's.
    register_rule_folder(registry, builtin_rule_folder())
    for reporter in (
        FindingsJsonReporter(),
        SummaryJsonReporter(),
        QuarantineReporter(),
        HtmlReporter(),
        SarifReporter(),
        ResidencyCsvReporter(),
        # scan --outputs (report/base.py): csv is written by default, the formats for
        # other tools (OCSF, OSCAL, JUnit) when asked for.
        FindingsCsvReporter(),
        OcsfReporter(),
        OscalReporter(),
        JunitReporter(),
    ):
        registry.reporters.add(reporter.name, reporter)
    registry.engines.add("duckdb", DuckDBEngine)
    # pyspark is imported only when a Spark engine is opened (the `spark` extra).
    registry.engines.add("spark", SparkEngine)
