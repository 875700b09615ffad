"""The customer portal in a real browser: headless Chromium (Debian's) against a live server.

JavaScript is switched off in the browser: every page must work without it. Every page the
journey visits is saved at 1280 px and 390 px wide in test-artifacts/screenshots/, and every
page is checked for Content-Security-Policy violations and requests to other hosts.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory
from ledger import services
from ledger.models import Account, Transaction
from ledger.tests.factories import account_for

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
WIDTHS = {"desktop": DESKTOP, "phone": {"width": 390, "height": 844}}


class Visit:
    """One person's browser: a page with JavaScript off, watched for CSP violations and for
    requests that leave the live server."""

    def __init__(self, chromium, live_server):
        self.base = live_server.url
        self.context = chromium.new_context(
            base_url=self.base, java_script_enabled=False, viewport=DESKTOP
        )
        self.page: Page = self.context.new_page()
        self.violations: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", self._console)
        self.page.on("request", self._request)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.violations.append(message.text)

    def _request(self, request) -> None:
        if urlsplit(request.url).netloc != urlsplit(self.base).netloc:
            self.foreign.append(request.url)

    def snap(self, name: str) -> None:
        """Both widths of the current page, then back to the desktop width."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for label, size in WIDTHS.items():
            self.page.set_viewport_size(size)
            path = SCREENSHOTS / f"{name}-{label}-{size['width']}.png"
            self.page.screenshot(path=path, full_page=True)
        self.page.set_viewport_size(DESKTOP)

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        self.page.goto("/login/")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(password)
        self.page.locator("main").get_by_role("button", name="Log in").click()

    def log_out(self) -> None:
        self.page.get_by_role("navigation", name="Main").get_by_role(
            "button", name="Log out"
        ).click()

    def nav(self, name: str) -> None:
        self.page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()

    def close(self) -> None:
        self.context.close()
        assert self.violations == [], self.violations
        assert self.foreign == [], self.foreign


@pytest.fixture
def visit(chromium, live_server):
    opened: list[Visit] = []

    def open_visit() -> Visit:
        opened.append(Visit(chromium, live_server))
        return opened[-1]

    yield open_visit
    for one in opened:
        one.close()


@pytest.fixture
def staff_deposit(transactional_db):
    """Cash paid in at the counter: a staff deposit through the ledger service."""
    staff = UserFactory(is_staff=True)

    def deposit(account: Account, amount: int) -> None:
        services.deposit(account=account, amount=amount, initiated_by=staff, description="Cash")

    return deposit


@pytest.fixture
def bob(transactional_db) -> Account:
    """Another customer, with an EUR checking account to be paid into."""
    user = UserFactory(holder__first_name="Bob", holder__last_name="Baker")
    return account_for(user, amount=10_000, nickname="Bob's checking")


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def test_customer_journey(visit, bob, staff_deposit):
    alice = visit()
    page = alice.page

    # A visitor signs up.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Banking that adds up")
    alice.snap("01-landing")
    page.locator("main").get_by_role("link", name="Open an account").click()
    expect(page).to_have_url(re.compile(r"/signup/$"))
    alice.snap("02-signup")
    page.get_by_label("First name").fill("Alice")
    page.get_by_label("Last name").fill("Archer")
    page.get_by_label("Email address").fill("alice@example.com")
    page.get_by_label("Password").fill("a quiver of arrows 2026")
    page.get_by_role("button", name="Create my login").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_text("You have no accounts yet")).to_be_visible()
    alice.snap("03-dashboard-empty")

    # Logs out, and back in.
    alice.log_out()
    expect(page.get_by_text("You are logged out")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in").click()
    alice.snap("04-login")
    alice.log_in("alice@example.com", "a quiver of arrows 2026")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))

    # Opens an account.
    alice.nav("Open account")
    alice.snap("05-open-account")
    page.get_by_role("radio", name=re.compile("^Checking")).check()
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Nickname (optional)").fill("Everyday")
    page.get_by_role("button", name="Open the account").click()
    expect(page).to_have_url(re.compile(r"/accounts/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("heading", name="No money has moved yet")).to_be_visible()
    alice.snap("06-account-new")
    account_url = page.url
    account = Account.objects.get(holder__user__email="alice@example.com")
    assert digits(page.locator("h1 + .lead").inner_text()) == account.number

    # Staff pay cash in at the counter.
    staff_deposit(account, 250_000)
    page.reload()
    expect(page.locator(".balance-large")).to_have_text("EUR 2,500.00")

    # She sends money to Bob; a wrong amount is shown beside the amount first.
    alice.nav("Move money")
    alice.snap("07-transfer-form")
    page.get_by_label("From").select_option(str(account.pk))
    page.get_by_label("Payee's account number").fill(
        f"{bob.number[:4]} {bob.number[4:8]} {bob.number[8:]}"
    )
    page.get_by_label("Amount").fill("125.505")
    page.get_by_label("Reference (optional)").fill("Birthday dinner")
    page.get_by_role("button", name="Continue").click()
    amount = page.get_by_label("Amount")
    expect(amount).to_have_attribute("aria-invalid", "true")
    expect(amount).to_have_attribute("aria-describedby", re.compile("id_amount_error"))
    expect(page.locator("#id_amount_error")).to_have_text(
        "EUR amounts have at most 2 decimal places."
    )
    alice.snap("08-transfer-form-error")
    amount.fill("125.50")
    page.get_by_role("button", name="Continue").click()

    # The confirmation names Bob and the amount; nothing has moved yet.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check and confirm")
    expect(page.locator(".payee-name")).to_have_text("Bob Baker")
    expect(page.locator(".confirm .balance")).to_have_text("EUR 125.50")
    assert not Transaction.objects.filter(kind="transfer").exists()
    alice.snap("09-transfer-confirm")
    page.get_by_role("button", name="Send EUR 125.50").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Money sent")
    expect(page.get_by_text("Sent EUR 125.50 to Bob Baker.")).to_be_visible()
    alice.snap("10-transfer-sent")

    # It is on her dashboard and in her history.
    alice.nav("Dashboard")
    expect(page.locator(".account-card .balance")).to_have_text("EUR 2,374.50")
    recent = page.locator("table.history")
    expect(recent).to_contain_text("Birthday dinner")
    expect(recent).to_contain_text("To Bob Baker")
    expect(recent).to_contain_text("\u2212EUR 125.50")
    expect(page.locator("svg.chart path.chart-line")).to_have_count(1)
    alice.snap("11-dashboard")
    page.goto(account_url)
    expect(page.locator("table.history")).to_contain_text("To Bob Baker")
    expect(page.locator("table.history")).to_contain_text("From Northwind Bank")
    alice.snap("12-account-history")
    alice.nav("Transfers")
    expect(page.locator("table.transfers")).to_contain_text("Birthday dinner")
    expect(page.locator("table.transfers")).to_contain_text("\u2212EUR 125.50")
    alice.snap("12b-transfers")
    page.locator("table.transfers").get_by_role("link", name="Birthday dinner").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Money sent")
    expect(page.locator("main")).to_contain_text("Bob Baker")

    # She edits her profile.
    alice.nav("Profile")
    alice.snap("13-profile")
    page.get_by_label("Phone").fill("+44 20 7946 0000")
    page.get_by_label("Address").fill("221B Baker Street, London")
    page.get_by_role("button", name="Save my details").click()
    expect(page.get_by_text("Your details are saved.")).to_be_visible()
    expect(page.get_by_label("Address")).to_have_value("221B Baker Street, London")
    alice.snap("14-profile-saved")
    page.get_by_role("link", name="Change my password").click()
    alice.snap("15-password-change")

    # And logs out.
    alice.log_out()
    expect(page).to_have_url(re.compile(r"/$"))
    alice.snap("16-logged-out")
    page.goto("/dashboard/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/dashboard/$"))

    # Bob sees the money arrive, on his dashboard and in his history...
    bobs = visit()
    bobs.log_in(bob.holder.user.email)
    expect(bobs.page.locator("table.history")).to_contain_text("From Alice Archer")
    expect(bobs.page.locator("table.history")).to_contain_text("+EUR 125.50")
    expect(bobs.page.locator(".account-card .balance")).to_have_text("EUR 225.50")
    bobs.snap("17-payee-dashboard")
    bobs.page.get_by_role("link", name="Bob's checking", exact=True).click()
    expect(bobs.page.locator("table.history")).to_contain_text("Birthday dinner")
    bobs.snap("18-payee-history")

    # ...but Alice's account does not exist for him.
    response = bobs.page.goto(account_url)
    assert response.status == 404
    expect(bobs.page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(bobs.page.locator("main")).not_to_contain_text(account.number)
    bobs.snap("19-someone-elses-account-404")


def test_a_double_submitted_confirmation_posts_once(visit, transactional_db):
    user = UserFactory(email="carol@example.com")
    source = account_for(user, amount=50_000, nickname="Main")
    payee = account_for(UserFactory(), nickname="Dave's")
    carol = visit()
    page = carol.page
    carol.log_in(user.email)

    page.goto("/transfers/new/")
    page.get_by_label("Payee's account number").fill(payee.number)
    page.get_by_label("Amount").fill("40")
    page.get_by_role("button", name="Continue").click()
    form = page.locator("form.confirm")
    fields = {
        name: form.locator(f"input[name={name}]").input_value()
        for name in (
            "csrfmiddlewaretoken",
            "from_account",
            "to_account_number",
            "amount",
            "description",
            "idempotency_key",
        )
    }

    # Two clicks in a row, then the same confirmation sent once more (a retry, a reload).
    page.get_by_role("button", name="Send EUR 40.00").dblclick()
    expect(page.get_by_role("heading", level=1)).to_have_text("Money sent")
    first_result = page.url
    again = page.request.post(
        "/transfers/confirm/",
        form={**fields, "action": "send"},
        headers={"Referer": f"{carol.base}/transfers/new/"},
    )

    assert again.ok
    assert again.url == first_result
    assert "It was not sent a second time" in again.text()
    assert Transaction.objects.filter(kind="transfer").count() == 1
    payee.refresh_from_db()
    source.refresh_from_db()
    assert (source.balance, payee.balance) == (46_000, 4_000)
    page.goto(first_result)
    carol.snap("20-transfer-double-submit")


def test_repeated_wrong_passwords_show_the_429_page(visit, transactional_db, settings):
    user = UserFactory(email="erin@example.com")
    erin = visit()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        erin.log_in(user.email, "not the password")
        expect(erin.page.get_by_role("alert")).to_contain_text("not right")
    erin.snap("21-login-error")

    with erin.page.expect_response(lambda r: r.request.method == "POST") as answer:
        erin.log_in(user.email, "not the password")

    assert answer.value.status == 429
    expect(erin.page.get_by_role("heading", level=1)).to_have_text("Please wait")
    expect(erin.page.locator("main")).to_contain_text("Too many failed sign-in attempts")
    erin.snap("22-locked-out-429")
    assert not User.objects.get(email="erin@example.com").last_login


@pytest.mark.parametrize(
    ("path", "status", "heading"),
    [
        ("/no-such-page/", 404, "Page not found"),
        ("/test-only/forbidden/", 403, "Not allowed"),
        ("/test-only/broken/", 500, "Something went wrong"),
    ],
)
def test_error_pages_share_the_portals_design(visit, settings, path, status, heading):
    settings.ROOT_URLCONF = "tests.browser.urls"
    visitor = visit()
    page = visitor.page

    response = page.goto(path)

    assert response.status == status
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.locator("header.site-header")).to_be_visible()
    expect(page.locator("footer.site-footer")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Traceback")
    visitor.snap(f"23-error-{status}")
