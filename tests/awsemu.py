"""A real AWS API emulator for tests: moto in server mode, on a free local port.

`aws_endpoint` (session) starts one ThreadedMotoServer, points fake credentials at it and
returns its URL. `aws` (per test) empties the emulator first, so every test starts from
an empty account. Use them from a test module with `pytest_plugins = ("awsemu",)`.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest

_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """The URL of a moto server running for the whole test session."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as patch:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        for name, value in _FAKE_ENV.items():
            patch.setenv(name, value)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


@pytest.fixture
def aws(aws_endpoint: str) -> str:
    """The emulator's URL, emptied of every resource an earlier test made."""
    request = urllib.request.Request(f"{aws_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return aws_endpoint
