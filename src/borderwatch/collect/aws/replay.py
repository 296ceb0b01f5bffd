"""Replay recorded AWS API responses into the collector (no network, no credentials).

A recording is a folder of `service.Operation_N.json` files, each `{"status_code": ..,
"data": {..}}` as written by placebo (the boto3 record/replay library), e.g. cloud-custodian's
test recordings. Real botocore clients are used; a `before-call` hook hands botocore the
recorded response instead of sending the request, so paginators, error handling and the
collector run exactly as against AWS. Responses of one operation are replayed in order
(_1, _2, ...) and start again at _1 when they run out, as placebo does. An operation with no
recording answers with error code `NotRecorded`, which the collector records as a gap.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse

_FILE = re.compile(r"^(?P<service>[a-z0-9-]+)\.(?P<operation>[A-Za-z0-9]+)_(?P<index>\d+)\.json$")


def read_recording(path: Path) -> tuple[int, dict[str, Any]]:
    """(status_code, data) of one recorded response file."""
    document = json.loads(path.read_text(encoding="utf-8"))
    return int(document.get("status_code") or 200), dict(document.get("data") or {})


def recorded_files(folder: Path) -> dict[tuple[str, str], list[Path]]:
    """Recorded files of a folder by (service prefix, operation), in replay order."""
    found: dict[tuple[str, str], list[tuple[int, Path]]] = defaultdict(list)
    for path in folder.iterdir():
        match = _FILE.match(path.name)
        if match:
            key = (match["service"], match["operation"])
            found[key].append((int(match["index"]), path))
    return {key: [p for _, p in sorted(items)] for key, items in found.items()}


_SESSIONS: list[botocore.session.Session] = []


def _session() -> botocore.session.Session:
    """One botocore session for every replay: service models are loaded once."""
    if not _SESSIONS:
        session = botocore.session.get_session()
        session.set_credentials("REPLAY", "REPLAY")
        _SESSIONS.append(session)
    return _SESSIONS[0]


class RecordedClients:
    """A ClientFactory whose clients answer from a folder of recorded responses."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.files = recorded_files(self.folder)
        self.calls: list[tuple[str, str, str]] = []  # (service, region, operation)
        self._next: dict[tuple[str, str], int] = defaultdict(int)
        self._session = _session()

    def __call__(self, service: str, region: str) -> Any:
        client = self._session.create_client(service, region_name=region)
        prefix = client.meta.service_model.endpoint_prefix
        client.meta.events.register("before-call", self._answer(prefix, region))
        return client

    def _answer(self, prefix: str, region: str) -> Any:
        def handler(model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            operation = model.name
            self.calls.append((prefix, region, operation))
            files = self.files.get((prefix, operation))
            if not files:
                error = {"Code": "NotRecorded", "Message": f"no recording of {operation}"}
                return AWSResponse("", 400, {}, None), {"Error": error}
            index = self._next[(prefix, operation)] % len(files)
            self._next[(prefix, operation)] += 1
            status, data = read_recording(files[index])
            return AWSResponse("", status, {}, None), data

        return handler
