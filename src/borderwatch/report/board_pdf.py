"""The board report as PDF: the same HTML printed by headless Chromium (Playwright).

Chromium draws the inline SVG charts and the map exactly as a browser shows them, so the
PDF and the page agree. The page is opened from its file with every other request
refused: the report needs no network, and printing it must not reach one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from borderwatch.errors import UsageError

# Where a system Chromium is looked for when BORDERWATCH_CHROMIUM is not set (Debian's
# package); without one, Playwright's own browser (`playwright install chromium`).
SYSTEM_CHROMIUM = (Path("/usr/bin/chromium"), Path("/usr/bin/chromium-browser"))
INSTALL_HINT = (
    "install the PDF renderer with `pip install 'borderwatch[board]'` and a Chromium "
    "(Debian: `apt-get install chromium`), or write the HTML only with --no-pdf"
)


def chromium_path() -> Path | None:
    """The Chromium to print with: $BORDERWATCH_CHROMIUM, else a system one, else None
    (Playwright's own download, if installed)."""
    configured = os.environ.get("BORDERWATCH_CHROMIUM")
    if configured:
        return Path(configured)
    for candidate in SYSTEM_CHROMIUM:
        if candidate.exists():
            return candidate
    found = shutil.which("chromium")
    return Path(found) if found else None


def write_pdf(html_path: Path, pdf_path: Path) -> Path:
    """Print `html_path` to `pdf_path` (A4 landscape, backgrounds kept); written whole or
    not at all. UsageError when no renderer is installed."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise UsageError(
            f"cannot write {pdf_path}: Playwright is not installed; {INSTALL_HINT}"
        ) from exc
    executable = chromium_path()
    # Chromium refuses to run as root inside its sandbox; the page has no script and
    # loads nothing (see the route below), which is what the sandbox would guard.
    args = ["--disable-gpu", "--no-first-run", "--disable-background-networking"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")
    partial = pdf_path.with_name(f".{pdf_path.name}.partial")
    page_uri = html_path.resolve().as_uri()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(executable) if executable else None, headless=True, args=args
            )
            try:
                page = browser.new_page()
                page.route(
                    "**/*",
                    lambda route: (
                        route.continue_() if route.request.url == page_uri else route.abort()
                    ),
                )
                page.goto(page_uri, wait_until="load")
                page.pdf(
                    path=str(partial),
                    format="A4",
                    landscape=True,
                    print_background=True,
                    prefer_css_page_size=True,
                )
            finally:
                browser.close()
    except PlaywrightError as exc:
        partial.unlink(missing_ok=True)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UsageError(
            f"cannot write {pdf_path}: Chromium failed ({reason}); {INSTALL_HINT}"
        ) from exc
    partial.replace(pdf_path)
    return pdf_path
