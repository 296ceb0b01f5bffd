"""`borderwatch inventory collect aws`: build an inventory of data stores from AWS APIs."""

from __future__ import annotations

from pathlib import Path

import click

from borderwatch import api
from borderwatch.report.terminal import terminal_safe


@click.group()
def inventory() -> None:
    """Build and keep inventories of data stores."""


@inventory.group()
def collect() -> None:
    """Collect an inventory from a cloud provider's APIs."""


@collect.command("aws")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Inventory YAML to write.",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    help="Region to collect (repeatable); default: every enabled region.",
)
@click.option(
    "--service",
    "services",
    multiple=True,
    help="Service to collect (repeatable): s3, rds, dynamodb, ebs, backup, "
    "elasticache, redshift, opensearch; default: all.",
)
@click.option("--profile", default=None, help="AWS profile (default: the usual credential chain).")
@click.option("--endpoint-url", default=None, help="API endpoint (an emulator such as moto).")
@click.option(
    "--history",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Also keep a timestamped copy of the inventory in this directory.",
)
def collect_aws_command(
    out: Path,
    regions: tuple[str, ...],
    services: tuple[str, ...],
    profile: str | None,
    endpoint_url: str | None,
    history: Path | None,
) -> None:
    """Collect S3, RDS, DynamoDB, EBS, Backup, ElastiCache, Redshift, OpenSearch stores."""
    try:
        known = api.aws_services()
    except ImportError as exc:  # boto3 is an optional dependency
        raise click.ClickException(f"the AWS collector needs boto3 ({exc})") from exc
    unknown = [s for s in services if s not in known]
    if unknown:
        raise click.BadParameter(
            f"{', '.join(unknown)} (known: {', '.join(known)})", param_hint="--service"
        )

    def progress(message: str) -> None:
        click.echo(terminal_safe(message), err=True)

    from botocore.exceptions import BotoCoreError

    try:
        collection, written = api.collect_aws(
            out,
            regions=regions,
            services=services,
            profile=profile,
            endpoint_url=endpoint_url,
            history=history,
            progress=progress,
        )
    except BotoCoreError as exc:  # no credentials, unknown profile: nothing can be collected
        raise click.ClickException(str(exc)) from exc
    copies = sum(1 for s in collection.stores if s.copy_of)
    click.echo(
        terminal_safe(
            f"{len(collection.stores)} stores ({copies} copies) from account "
            f"{collection.account} in {len(collection.regions)} regions -> "
            f"{', '.join(map(str, written))}"
        ),
        err=True,
    )
    if collection.gaps:
        click.echo(
            f"gaps ({len(collection.gaps)}): not collected, check before trusting a scan:", err=True
        )
        for gap in collection.gaps:
            click.echo(f"  - {terminal_safe(gap)}", err=True)
