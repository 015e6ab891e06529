"""A real browser for tests of what a person sees: Debian's headless Chromium, driven by
Selenium through Debian's chromedriver (both found on this machine, so that Selenium Manager
never downloads a browser), with axe-core (as selenium-axe-python ships it) to check the
pages' accessibility."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium_axe_python import Axe

from tests.conftest import REPO
from tests.live import require_tool

# What the pages are looked at in (and screenshots show): a small laptop's window.
VIEWPORT = {"width": 1024, "height": 800, "deviceScaleFactor": 1, "mobile": False}
SCREENSHOTS = REPO / "screenshots"  # git ignores it; the README's two come from here


@contextmanager
def headless_chromium(profile: Path) -> Iterator[WebDriver]:
    """A headless Chromium with its profile in ``profile``, which keeps its console's
    messages (``console_errors``) and may read and write the clipboard on every origin."""
    options = Options()
    options.binary_location = require_tool("chromium", "chromium", "chromium-browser")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--hide-scrollbars", "--lang=en", f"--user-data-dir={profile}"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chromedriver = require_tool("chromedriver", "chromium-driver", "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
    try:
        driver.execute_cdp_cmd(
            "Browser.grantPermissions",
            {"permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
        )
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORT)
        yield driver
    finally:
        driver.quit()


def visit(driver: WebDriver, url: str) -> None:
    """Open ``url`` as a person typing it would (a top-level navigation), its console
    starting empty."""
    driver.get_log("browser")
    driver.get(url)


def console_errors(driver: WebDriver) -> list[str]:
    """The errors on the console since the last look: failed scripts or loads (the page's
    icon too: a page naming none makes the browser ask for /favicon.ico), refused
    Content-Security-Policy directives."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def axe_violations(driver: WebDriver) -> list[str]:
    """axe-core's violations on the page shown, one line each: rule, impact, elements."""
    axe = Axe(driver)
    axe.inject()
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']}: "
        + ", ".join(str(node["target"]) for node in violation["nodes"])
        for violation in axe.run()["violations"]
    ]


def screenshot(driver: WebDriver, name: str) -> None:
    """Save what the window shows as ``screenshots/<name>`` at the repository's root."""
    SCREENSHOTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / name))


def assert_no_problems(driver: WebDriver) -> None:
    """Fail, naming each, if the page shown has axe-core violations or console errors."""
    problems = axe_violations(driver) + console_errors(driver)
    assert not problems, "\n".join(problems)
