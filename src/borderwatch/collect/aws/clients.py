"""boto3 clients for the collector: one session, optional profile and endpoint URL."""

from __future__ import annotations

from typing import Any

from botocore.config import Config

_CONFIG = Config(
    retries={"max_attempts": 4, "mode": "standard"}, connect_timeout=10, read_timeout=30
)


class Boto3Clients:
    """A ClientFactory over one boto3 session (credentials from the usual chain or a profile)."""

    def __init__(self, profile: str | None = None, endpoint_url: str | None = None) -> None:
        import boto3  # an optional dependency: only the AWS collector needs it

        self.session = boto3.Session(profile_name=profile)
        self.endpoint_url = endpoint_url

    def __call__(self, service: str, region: str) -> Any:
        return self.session.client(
            service, region_name=region, endpoint_url=self.endpoint_url, config=_CONFIG
        )
