"""What a person sees in a real browser (headless Chromium, tests/browser.py): the feeds
page, a feed URL clicked in a browser (its page, its copy button, its entry links), the
Arabic feed's page right to left, each with no console error and no axe-core violation;
and the same feed URL fetched by a feed reader, which gets the feed."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import feedparser
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from feeds.settings import Settings
from tests.browser import assert_no_problems, console_errors, headless_chromium, screenshot, visit
from tests.conftest import REPO
from tests.live import free_port, request
from tests.test_production import start, stop

pytestmark = pytest.mark.process

FEED = "/feeds/category/tech.atom"
READER = "NetNewsWire (RSS Reader; https://netnewswire.com/)"
ARABIC = re.compile(r"[\u0600-\u06ff]")


class BlogPage(BaseHTTPRequestHandler):
    """The blog the feeds link to: a small HTML page naming its path, at every path."""

    def do_GET(self) -> None:
        body = f"<!doctype html><title>Blog</title><h1>{escape(self.path)}</h1>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest shows what went wrong otherwise."""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    with headless_chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


@pytest.fixture(scope="module")
def blog() -> Iterator[str]:
    """The base URL of a blog on 127.0.0.1 that answers every page."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BlogPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def served(
    demo_settings: Settings, blog: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`feeds serve` on the demo blog, whose posts live on ``blog``; its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "feeds", "--config", str(REPO / "config.toml"),
               "serve", "--port", str(port)]  # fmt: skip
    log = tmp_path_factory.mktemp("served") / "server.log"
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("FEEDS_HOME_URL", f"{blog}/blog")
        environment.setenv("FEEDS_LANGUAGE_HOME_URL", f"{blog}/{{lang}}/blog")
        environment.setenv("FEEDS_POST_URL", "{home}/{slug}")
        process = start(command, demo_settings, port, log)
    yield f"http://127.0.0.1:{port}"
    stop(process)


def shown_entries(driver: WebDriver) -> list[tuple[str, str]]:
    """The entries the feed page shows, newest first: (title, link)."""
    links = driver.find_elements(By.CSS_SELECTOR, ".entries article h3 a")
    assert links and all(link.is_displayed() for link in links)
    return [(link.text, link.get_attribute("href") or "") for link in links]


def test_the_feeds_page_lists_the_feeds_by_language(browser: WebDriver, served: str) -> None:
    visit(browser, f"{served}/")
    assert "Ledger Blog" in browser.find_element(By.TAG_NAME, "h1").text
    arabic = browser.find_element(By.CSS_SELECTOR, "section[lang='ar']")
    assert arabic.is_displayed() and arabic.find_element(By.TAG_NAME, "h2").text == "العربية"
    assert browser.find_element(By.CSS_SELECTOR, f"a[href='{served}/feeds/all.atom']")
    screenshot(browser, "directory.png")
    assert_no_problems(browser)


def test_a_feed_url_opened_in_the_browser_shows_its_page(browser: WebDriver, served: str) -> None:
    visit(browser, served + FEED)
    assert browser.execute_script("return document.contentType") == "text/html"
    assert browser.find_element(By.TAG_NAME, "h1").text == browser.title
    assert "Tech" in browser.title
    assert len(shown_entries(browser)) == 50  # items_per_feed
    screenshot(browser, "feed-page.png")
    assert_no_problems(browser)  # a script the page's CSP refused would show on the console


def test_the_copy_button_puts_the_feed_address_on_the_clipboard(
    browser: WebDriver, served: str
) -> None:
    visit(browser, served + FEED)
    button = browser.find_element(
        By.XPATH, f"//li[input[@value='{served}{FEED}']]/button[@class='copy']"
    )
    label = button.text
    button.click()
    WebDriverWait(browser, 5).until(lambda _: button.text != label)
    assert button.text == "Copied"
    copied = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, (error) => done(String(error)));"
    )
    assert copied == served + FEED
    assert console_errors(browser) == []


def test_the_arabic_feed_page_reads_right_to_left(browser: WebDriver, served: str) -> None:
    visit(browser, f"{served}/ar/feeds/all.atom")
    assert browser.execute_script("return getComputedStyle(document.body).direction") == "rtl"
    assert ARABIC.search(browser.find_element(By.ID, "follow").text)
    assert ARABIC.search(browser.find_element(By.CSS_SELECTOR, ".entries h3").text)
    screenshot(browser, "feed-page-ar.png")
    assert_no_problems(browser)


def test_an_entry_link_opens_the_post_on_the_blog(
    browser: WebDriver, served: str, blog: str
) -> None:
    visit(browser, served + FEED.replace(".atom", ".html"))  # the page at its own URL
    title, href = shown_entries(browser)[0]
    assert href.startswith(f"{blog}/")
    browser.find_element(By.LINK_TEXT, title).click()
    WebDriverWait(browser, 5).until(lambda driver: driver.current_url == href)
    assert browser.find_element(By.TAG_NAME, "h1").text == href.removeprefix(blog)


def test_a_reader_at_the_same_url_gets_the_feed_the_page_shows(
    browser: WebDriver, served: str
) -> None:
    visit(browser, served + FEED)
    shown = shown_entries(browser)
    response, body = request(urlsplit(served).port or 80, "GET", FEED, {"User-Agent": READER})
    assert response.getheader("Content-Type") == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(body)
    assert feed.bozo == 0
    assert [(entry.title, entry.link) for entry in feed.entries] == shown
