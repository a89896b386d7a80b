"""Headless Chromium against pytest-django's live server.

One browser for the session (starting Chromium costs about a second), a clean cookie jar for
every test, explicit waits only. Debian's chromium and chromium-driver are used as installed:
naming both paths keeps Selenium Manager from trying to download a browser or a driver.

When a test that used the browser fails, a screenshot and the page source are written to
BROWSER_ARTIFACTS (default var/browser-artifacts/) as <test name>.png and .html.
"""

import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from keys import roles

CHROMIUM = os.environ.get("BROWSER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("BROWSER_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(
    os.environ.get("BROWSER_ARTIFACTS")
    or Path(__file__).resolve().parents[2] / "var" / "browser-artifacts"
)
WAIT_SECONDS = 5
INSTALL_HINT = (
    "The browser tests need Debian's chromium and chromium-driver: "
    "apt-get install chromium chromium-driver (.ci/run installs them). "
    "Set BROWSER_CHROMIUM / BROWSER_CHROMEDRIVER to use other paths."
)
CHROME_ARGUMENTS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]


@pytest.fixture(scope="session")
def chrome(django_db_setup, live_server):
    """The session's Chromium. Missing Chromium fails every browser test, never skips it.

    Set up after the test database and the live server so that it closes before them (see
    _wait_for_request_threads)."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found. {INSTALL_HINT}", pytrace=False)
    profile = tempfile.mkdtemp(prefix="portal-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in [*CHROME_ARGUMENTS, f"--user-data-dir={profile}"]:
        options.add_argument(argument)
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as exc:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.fail(f"Chromium did not start: {exc.msg}\n{INSTALL_HINT}", pytrace=False)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)
    _wait_for_request_threads()


def _wait_for_request_threads(timeout: float = 5) -> None:
    """Let the live server's request threads end now that the browser has closed their
    kept-alive connections: each closes its database connection (kept for CONN_MAX_AGE) as it
    ends, and on PostgreSQL an open one keeps the test database from being dropped."""
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout)


def _clear_cookies(driver) -> None:
    # All origins at once; delete_all_cookies only reaches the current page's domain.
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})


@pytest.fixture
def driver(chrome, live_server):
    """The session's browser with no cookies (nobody logged in), for one test."""
    _clear_cookies(chrome)
    yield chrome
    chrome.get("about:blank")
    _clear_cookies(chrome)


@pytest.fixture
def browser(driver, live_server):
    return Browser(driver, live_server.url)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The default hasher spends about half a second per password, and each test makes a
    user and logs in. The live server runs in this process, so it hashes alike."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def role_groups(transactional_db):
    """The role groups made by migration 0002, which a transactional test's flush deletes."""
    roles.sync_roles(apps)


class Browser:
    """The few moves the operator makes, each ending when the next page has loaded."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url

    def wait(self, timeout: float = WAIT_SECONDS) -> WebDriverWait:
        return WebDriverWait(self.driver, timeout)

    def open(self, url_name: str, *args) -> None:
        self.open_path(reverse(url_name, args=args))

    def open_path(self, path: str) -> None:
        self.driver.get(self.base_url + path)
        self._wait_loaded()

    def find(self, by: str, value: str) -> WebElement:
        """The element, once it is present: a missing contract element fails naming it."""
        return self.wait().until(
            EC.presence_of_element_located((by, value)),
            message=f"no element {by}={value!r} on {self.driver.current_url}",
        )

    def by_id(self, element_id: str) -> WebElement:
        return self.find(By.ID, element_id)

    def by_name(self, name: str) -> WebElement:
        return self.find(By.NAME, name)

    def has(self, by: str, value: str) -> bool:
        return bool(self.driver.find_elements(by, value))

    def click_and_load(self, element: WebElement) -> None:
        """Click something that loads a page (a link or a submit) and wait for that page."""
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        element.click()
        self.wait().until(
            _gone(old_page), message=f"clicking did not leave {self.driver.current_url}"
        )
        self._wait_loaded()

    def refresh(self) -> None:
        old_page = self.driver.find_element(By.TAG_NAME, "html")
        self.driver.refresh()
        self.wait().until(_gone(old_page), message="the page did not reload")
        self._wait_loaded()

    def fill(self, element_id: str, value: str) -> None:
        field = self.by_id(element_id)
        field.clear()
        field.send_keys(value)

    def log_in(self, username: str, password: str) -> None:
        self.open("admin:login")
        self.fill("id_username", username)
        self.fill("id_password", password)
        self.click_and_load(self.find(By.CSS_SELECTOR, "#login-form input[type=submit]"))
        self.wait().until(
            EC.presence_of_element_located((By.ID, "user-tools")),
            message=f"login as {username!r} failed: {self.body_text()[:500]}",
        )

    def body_text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    def messages(self) -> list[str]:
        return [item.text for item in self.driver.find_elements(By.CSS_SELECTOR, ".messagelist li")]

    def _wait_loaded(self) -> None:
        self.wait().until(
            lambda driver: driver.execute_script("return document.readyState") == "complete",
            message="the page did not finish loading",
        )


# While a page is being replaced, chromedriver sometimes answers a question about one of the old
# page's elements with this inspector error instead of "stale element" (SeleniumHQ/selenium#15401),
# which Selenium's staleness_of does not recognise. The node has left the document either way.
_LEFT_THE_DOCUMENT = ("does not belong to the document", "No node with given id found")


def _gone(element: WebElement):
    def predicate(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if any(sign in (error.msg or "") for sign in _LEFT_THE_DOCUMENT):
                return True
            raise
        return False

    return predicate


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    driver = getattr(item, "funcargs", {}).get("driver")
    if driver is None:
        return
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.name)
    try:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        screenshot = ARTIFACTS / f"{name}.png"
        driver.save_screenshot(str(screenshot))
        (ARTIFACTS / f"{name}.html").write_text(driver.page_source, encoding="utf-8")
        note = f"{screenshot.resolve()} and {name}.html (page {driver.current_url})"
    except (OSError, WebDriverException) as exc:
        note = f"could not save the page: {exc}"
    report.sections.append(("browser artifacts", note))
    print(f"\nbrowser artifacts: {note}")
