"""Headless Chromium (Debian's `chromium` and `chromium-driver`) driven by Selenium, for the
browser tests. No browser is downloaded: the system's binaries or a skip saying why."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from tests.polling import wait_until

T = TypeVar("T")
WINDOW = (1280, 900)
# Set to a folder (`make screenshots` sets docs/screenshots) to keep the screenshots there.
SCREENSHOTS_ENV = "FIREBREAK_SCREENSHOTS"


class NoBrowser(Exception):
    """Chromium cannot start here; the message says why."""


@contextmanager
def chromium() -> Iterator[WebDriver]:
    browser, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if browser is None or driver is None:
        raise NoBrowser(
            "chromium and chromedriver are not installed (`make servers`, or "
            "apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespaces for the sandbox
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    try:
        session = webdriver.Chrome(service=Service(driver), options=options)
    except WebDriverException as exc:
        raise NoBrowser(f"chromium did not start: {exc.msg}") from exc
    try:
        yield session
    finally:
        session.quit()


def until(
    driver: WebDriver, found: Callable[[WebDriver], T | None], *, what: str, timeout: float = 20
) -> T:
    """wait_until for `found`, across the page's live reloads (which make elements stale)."""

    def look() -> T | None:
        try:
            return found(driver)
        except (NoSuchElementException, StaleElementReferenceException):
            return None  # not drawn yet, or redrawn under us: look again

    return wait_until(look, timeout=timeout, what=what, interval=0.2)


def screenshot_folder(default: Path) -> Path:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
