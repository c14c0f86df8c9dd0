"""Headless Chromium (Debian's ``chromium`` package) driven by Playwright, never downloaded.

``launch()`` skips the calling test with a reason when chromium or playwright is missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

CHROMIUM = os.environ.get("GESTICULATE_CHROMIUM") or shutil.which("chromium") \
    or shutil.which("chromium-browser") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage",
         # recording tests: a fake microphone (a beep) that needs no permission prompt
         "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
         "--autoplay-policy=no-user-gesture-required"]


def chromium_missing() -> str | None:
    """Why browser tests cannot run here, or None."""
    if not os.path.exists(CHROMIUM):
        return "chromium is not installed (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install playwright)"
    return None


class Browser:
    """One Chromium with a fresh profile; ``.page()`` opens a tab."""

    def __enter__(self) -> "Browser":
        from playwright.sync_api import sync_playwright
        self.profile = tempfile.mkdtemp(prefix="gesticulate-chromium-")
        self._pw = sync_playwright().start()
        # A persistent context is how Playwright passes --user-data-dir (a fresh one per run).
        self.context = self._pw.chromium.launch_persistent_context(
            self.profile, executable_path=CHROMIUM, headless=True, args=FLAGS,
            accept_downloads=True, viewport={"width": 1280, "height": 900},
            ignore_default_args=["--mute-audio"])
        return self

    def page(self):
        return self.context.new_page()

    def __exit__(self, *exc) -> None:
        try:
            self.context.close()
            self._pw.stop()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def launch() -> Browser:
    reason = chromium_missing()
    if reason:
        pytest.skip(reason)
    return Browser()
