"""The API reference renders in a real browser with no request to another host and no CSP
violation (the page holds under script-src 'self' / style-src 'self')."""

from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def test_swagger_ui_renders_offline_under_the_csp(chromium, live_server):
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    requested_hosts: set[str] = set()
    console_errors: list[str] = []
    page.on("request", lambda request: requested_hosts.add(urlparse(request.url).netloc))
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector("text=/api/v1/transfers/", timeout=20_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "api-docs-1280.png"), full_page=False)

    assert requested_hosts == {urlparse(live_server.url).netloc}
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
    assert page.locator(".swagger-ui .info .title").inner_text().startswith("Bank API")
