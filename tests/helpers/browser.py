"""Headless Chromium for browser tests: Debian's chromium + chromedriver, driven by selenium.

Shared by every test that opens a page (the offline plots page, the web app). No browser download:
the test machine's own /usr/bin/chromium runs, with the network cut except for loopback, so a page
that needs the internet fails here exactly as it would on an offline lab machine.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

# Skip only on a developer machine without chromium; CI (CI set) must run them, so there a missing
# browser fails the test instead of hiding it.
needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("CI"),
    reason="chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
)


@contextmanager
def chromium(
    *, offline: bool = True, width: int = 1400, height: int = 1000, args: Sequence[str] = ()
) -> Iterator:
    """A headless Chromium WebDriver; `offline` blocks every host but localhost; `args` are more
    command-line switches (a fake webcam, say)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM and CHROMEDRIVER):
        raise AssertionError("chromium and chromedriver must be on PATH for browser tests")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},{height}")
    for arg in args:
        options.add_argument(arg)
    if offline:
        # Names resolve to nothing and anything not on loopback goes to a closed port.
        options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost")
        options.add_argument("--proxy-server=http://127.0.0.1:9")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def console_errors(driver) -> list[str]:
    """The page's console messages at level SEVERE (script errors, failed loads) so far."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(driver, path: Path) -> Path:
    """Save the whole page as a PNG (for a failing test's artifacts or a README figure)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(driver.get_window_size()["width"], max(height, 600))
    driver.save_screenshot(str(path))
    return path
