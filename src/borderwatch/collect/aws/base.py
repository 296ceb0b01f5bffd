"""What every AWS service collector shares: the collected store, gaps, tags, safe API calls."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from borderwatch.inventory.locations import LocationRegistry

DATA_CLASS_TAG = "borderwatch:data-classes"
"""The primary tag key naming the data classes a store holds."""
DATA_CLASS_TAG_FALLBACKS = ("data-classes", "DataClasses")
"""Also accepted, in this order, when the primary key is absent."""
# ';' is the documented separator, but S3 (and some other services) refuse ';' in tag
# values, so ',', '/', '+' and whitespace separate classes too.
_CLASS_SEPARATORS = re.compile(r"[;,/+\s]+")

UNKNOWN_REGION = ""
"""The region written for a store whose region could not be established."""


class ClientFactory(Protocol):
    """Makes a boto3-style client for a service in a region."""

    def __call__(self, service: str, region: str) -> Any: ...


@dataclass
class CollectedStore:
    """One store found by a collector, in the shape of an inventory row."""

    store_id: str
    region: str
    service: str
    data_classes: tuple[str, ...] = ()
    records: int | None = None
    copy_of: str | None = None
    copy_kind: str | None = None
    aliases: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    # Collector-internal facts used to link copies after every region is collected.
    hints: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Gap:
    """Something that could not be collected: a service, a region, an operation, why."""

    service: str
    region: str
    operation: str
    reason: str

    def __str__(self) -> str:
        where = self.region or "global"
        return f"{self.service} {where} {self.operation}: {self.reason}"


def data_classes_from_tags(
    tags: Iterable[Mapping[str, Any]] | Mapping[str, Any] | None,
) -> tuple[str, ...]:
    """Data classes named by the tag convention; () when no convention tag is present.

    `tags` is an AWS TagList (`[{"Key": .., "Value": ..}]`) or a plain mapping.
    """
    if not tags:
        return ()
    if isinstance(tags, Mapping):
        pairs = {str(k): v for k, v in tags.items()}
    else:
        pairs = {}
        for tag in tags:
            key = tag.get("Key", tag.get("key"))
            if key is not None:
                pairs[str(key)] = tag.get("Value", tag.get("value"))
    for key in (DATA_CLASS_TAG, *DATA_CLASS_TAG_FALLBACKS):
        if key in pairs:
            value = str(pairs[key] or "")
            seen = dict.fromkeys(p for p in _CLASS_SEPARATORS.split(value) if p)
            return tuple(seen)
    return ()


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError, else the exception's class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code") or "ClientError")
    return type(exc).__name__


def error_text(exc: BaseException) -> str:
    """A short one-line reason for a gap."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        message = str(err.get("Message") or "").strip().splitlines()
        first = message[0] if message else ""
        if first.startswith("<"):  # an HTML error page, not an AWS error
            first = "not an AWS error response (operation not supported by the endpoint?)"
        return f"{error_code(exc)}: {first}"[:200] if first else error_code(exc)
    return f"{type(exc).__name__}: {exc}"[:200]


@dataclass
class Scope:
    """What a service collector needs: clients, account, registry, and where gaps go."""

    clients: ClientFactory
    account: str
    registry: LocationRegistry
    partition: str = "aws"
    regions: tuple[str, ...] = ()
    progress: Callable[[str], None] = lambda message: None
    gaps: list[Gap] = field(default_factory=list)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._cache:
            self._cache[key] = self.clients(service, region)
        return self._cache[key]

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{region}:{self.account}:{resource}"

    def gap(self, service: str, region: str, operation: str, reason: str) -> None:
        self.gaps.append(Gap(service, region, operation, reason))
        self.progress(f"  gap: {service} {region or 'global'} {operation}: {reason}")

    def call(
        self,
        service: str,
        region: str,
        operation: str,
        *,
        absent: tuple[str, ...] = (),
        what: str = "",
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Call one operation; an error code in `absent` means "nothing there" ({}).

        Any other error is recorded as a gap and None is returned.
        """
        client = self.client(service, region)
        try:
            response: dict[str, Any] = getattr(client, _snake(operation))(**kwargs)
            return response
        except (ClientError, BotoCoreError) as exc:
            if error_code(exc) in absent:
                return {}
            reason = error_text(exc)
            self.gap(service, region, operation, f"{what}: {reason}" if what else reason)
            return None

    def items(
        self, service: str, region: str, operation: str, key: str, **kwargs: Any
    ) -> list[Any] | None:
        """Every item under `key` across all pages; None (and a gap) when the call fails."""
        client = self.client(service, region)
        method = _snake(operation)
        result: list[Any] = []
        try:
            if client.can_paginate(method):
                for page in client.get_paginator(method).paginate(**kwargs):
                    result.extend(page.get(key) or [])
            else:
                result.extend(getattr(client, method)(**kwargs).get(key) or [])
        except (ClientError, BotoCoreError) as exc:
            self.gap(service, region, operation, error_text(exc))
            return None
        return result

    def canonical_region(self, raw: str | None) -> str:
        """The registry's canonical region for an AWS location value; "" when unknown."""
        location = self.registry.resolve("aws", raw)
        return UNKNOWN_REGION if location.kind == "unknown" else location.location


def _snake(operation: str) -> str:
    """DescribeDBInstances -> describe_db_instances (botocore's own conversion)."""
    from botocore import xform_name

    return str(xform_name(operation))


def arn_region(arn: str) -> str:
    """The region field of an ARN ("" for global ARNs such as S3 buckets)."""
    parts = arn.split(":", 5)
    return parts[3] if len(parts) > 3 and parts[0] == "arn" else ""


def arn_resource(arn: str) -> str:
    """The resource part of an ARN (after the account field)."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else arn
