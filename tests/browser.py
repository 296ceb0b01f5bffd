"""A real headless Chromium for the HTML report tests, driven by Playwright's sync API.

Chromium comes from the system (scripts/install-browser.sh), not from Playwright's own
download. When it is missing the browser tests fail, unless BORDERWATCH_SKIP_BROWSER=1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Fail (or skip, when BORDERWATCH_SKIP_BROWSER=1) if the system Chromium is missing."""
    if CHROMIUM.exists():
        return
    if os.environ.get("BORDERWATCH_SKIP_BROWSER") == "1":
        pytest.skip(f"{CHROMIUM} is missing and BORDERWATCH_SKIP_BROWSER=1")
    pytest.fail(
        f"{CHROMIUM} is missing: run scripts/install-browser.sh "
        "(or set BORDERWATCH_SKIP_BROWSER=1 to skip the browser tests)",
        pytrace=False,
    )


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (playwright Browser), closed on exit."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


class WatchedPage:
    """A page plus everything it did that a safe report never does."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        page.on("dialog", self._on_dialog)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def open(self, path: Path) -> None:
        """Open a report file the way a reader would: file:// in the browser."""
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def extra_requests(self, path: Path) -> list[str]:
        """Requests other than the report file itself (a self-contained page makes none)."""
        own = path.resolve().as_uri()
        return [url for url in self.requests if url != own]


@contextmanager
def watched_page(browser: Any) -> Iterator[WatchedPage]:
    """A fresh page in its own context, with JavaScript on so an injection would run."""
    context = browser.new_context(java_script_enabled=True, viewport={"width": 1280, "height": 900})
    try:
        yield WatchedPage(context.new_page())
    finally:
        context.close()
