import os
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

# Debian's (`make test` installs it as root); Playwright cannot download a browser here.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


MISSING = (
    f"browser tests skipped: {CHROMIUM} is missing; install Debian's chromium "
    "(`apt-get install chromium`, which `make test` does when it runs as root) to run them"
)


def pytest_collection_modifyitems(config, items):
    """Without Chromium the browser tests are skipped with one line saying how to enable them,
    unless REQUIRE_BROWSER is set (.ci/run sets it): then they fail, as a missing browser
    must never pass CI silently."""
    if Path(CHROMIUM).exists() or os.environ.get("REQUIRE_BROWSER"):
        return
    skip = pytest.mark.skip(reason=MISSING)
    browser_items = [item for item in items if "browser" in item.keywords]
    for item in browser_items:
        item.add_marker(skip)
    reporter = config.pluginmanager.getplugin("terminalreporter")
    if browser_items and reporter is not None:
        reporter.write_line(MISSING)


@pytest.fixture(autouse=True, scope="module")
def _async_unsafe_while_browser_tests_run():
    """Playwright's sync API keeps an event loop running in the test's thread, so Django would
    refuse the ORM calls the tests (and the database flush after each) make between page
    actions. Set for each browser module and removed after it, even if a test set it again:
    the deploy check, run in a subprocess by another test, rightly refuses the variable."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="module")
def chromium(_async_unsafe_while_browser_tests_run):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing and REQUIRE_BROWSER is set: install Debian's chromium")
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()
