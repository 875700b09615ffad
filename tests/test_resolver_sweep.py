"""Object-level authorisation, swept from the URL resolver (issue 9 item 3).

Every URL pattern the project serves (the API and the portal; the admin has its own login and
its own tests) is found by walking `get_resolver().url_patterns`, never listed by hand. Each
path parameter is filled with ANOTHER customer's object of the right kind (FILLERS below), and
every verb is tried as a signed-in customer: a JWT for /api/, a session for the pages.

- A path that names someone else's object answers 404 or 405, never 2xx, never 403 (it does
  not exist for you); a staff-only endpoint answers 403 to a customer, whatever the id.
- No body, on any path, carries a value of the other customer's (account number, id, email,
  name, nickname, transfer id, description).
- Nothing of theirs changes.

A new endpoint is covered the day it lands. A new path parameter fails loudly until FILLERS
says what to put in it: add an entry (the segment before it and its name), nothing else.
"""

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone

from accounts.tests.factories import UserFactory
from cards.services import authorize, issue_card
from conftest import bearer
from ledger.services import deposit
from ledger.tests.factories import account_for, ledger_rows, send

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
VERBS = ["get", "head", "post", "put", "patch", "delete"]
# The admin is a separate application with its own login page (a customer is sent there):
# tested in ledger/tests/test_admin.py.
SKIPPED_NAMESPACES = {"admin"}
# Fewer patterns than this and the walk has gone wrong (a changed include, a renamed
# namespace): it must not pass by testing nothing. Today: 45.
MIN_PATTERNS = 30
MIN_PATTERNS_WITH_AN_ID = 4


@dataclass(frozen=True)
class Victim:
    """The other customer, with an account, a transfer to a third party and a name."""

    email: str
    first_name: str
    last_name: str
    address: str
    account_id: str
    account_number: str
    nickname: str
    transfer_id: str
    description: str
    period: str  # a month of the account's statements (the current one)
    approval_id: str  # a teller's request above the limit on the victim's account
    card_id: str
    card_last4: str
    authorization_id: str  # a pending hold on the victim's card
    authorization_merchant: str

    def secrets(self) -> dict[str, str]:
        """What must never show: everything but the month, which anyone's page may show."""
        return {k: v for k, v in asdict(self).items() if k != "period"}


# (the path segment before the parameter, the parameter's name) -> the victim's value for it.
FILLERS: dict[tuple[str, str], Callable[[Victim], str]] = {
    ("accounts", "pk"): lambda v: v.account_id,  # /api/v1/accounts/{pk}/...
    ("accounts", "id"): lambda v: v.account_id,  # /accounts/{id}/ (page)
    ("transfers", "pk"): lambda v: v.transfer_id,  # /api/v1/transfers/{pk}/
    ("transfers", "id"): lambda v: v.transfer_id,  # /transfers/{id}/ (page)
    # /api/v1/accounts/{pk}/statements/{period}/ and its page: a month the victim's account has
    ("statements", "period"): lambda v: v.period,
    ("approvals", "pk"): lambda v: v.approval_id,  # /api/v1/approvals/{pk}/... (staff only)
    ("cards", "pk"): lambda v: v.card_id,  # /api/v1/cards/{pk}/...
    ("cards", "id"): lambda v: v.card_id,  # /cards/{id}/... (pages)
    # /api/v1/card-authorizations/{pk}/capture/ and void/: the victim's card's hold
    ("card-authorizations", "pk"): lambda v: v.authorization_id,
}
# Regex patterns (no named parameters to fill): a path each answers for.
REGEX_SAMPLES = {
    r"^[\s\S]*$": "no/such/thing/",  # the API's JSON 404 for any other path
}


@dataclass(frozen=True)
class Route:
    route: str  # with <converter:name> placeholders
    pattern: URLPattern
    namespace: str

    @property
    def kwargs(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.route)

    def path_for(self, victim: Victim) -> str:
        def fill(match: re.Match) -> str:
            name = match.group(1)
            before = self.route[: match.start()].rstrip("/").rsplit("/", 1)[-1]
            filler = FILLERS.get((before, name))
            if filler is None:
                pytest.fail(
                    f"{self.route}: no filler for path parameter {name!r} after {before!r}. "
                    f"Add FILLERS[({before!r}, {name!r})] in {__name__}: which of another "
                    "customer's objects goes there."
                )
            return filler(victim)

        return "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, self.route)

    def staff_only(self, verb: str) -> bool:
        """Whether the view behind this route and verb refuses anyone but staff (DRF
        permissions marked `staff_only`, as core/schema.py reads them)."""
        callback = self.pattern.callback
        cls = getattr(callback, "cls", None)
        if cls is None:
            return False
        view = cls(**getattr(callback, "initkwargs", {}))
        actions = getattr(callback, "actions", None)
        if actions is not None:
            view.action = actions.get(verb)
            if view.action is None:
                return False
        elif not hasattr(view, verb):
            return False
        return any(getattr(p, "staff_only", False) for p in view.get_permissions())

    @property
    def api(self) -> bool:
        return self.route.startswith("api/")

    def __str__(self) -> str:
        return "/" + self.route


def _route_text(pattern) -> str:
    if isinstance(pattern, RoutePattern):
        return str(pattern)
    assert isinstance(pattern, RegexPattern)
    regex = pattern.regex.pattern
    if regex in REGEX_SAMPLES:
        return REGEX_SAMPLES[regex]
    literal = regex.lstrip("^").rstrip("$").rstrip("\\Z")
    if re.fullmatch(r"[\w/.-]*", literal):
        return literal
    pytest.fail(f"Regex URL pattern {regex!r}: add a sample path to REGEX_SAMPLES.")


def walk(patterns, prefix: str = "", namespace: str = "") -> list[Route]:
    routes = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns in SKIPPED_NAMESPACES:
                continue
            routes += walk(p.url_patterns, prefix + _route_text(p.pattern), ns)
        else:
            routes.append(Route(prefix + _route_text(p.pattern), p, namespace))
    return routes


ROUTES = walk(get_resolver().url_patterns)


def test_the_sweep_sees_the_whole_surface():
    with_id = [r for r in ROUTES if r.kwargs]
    assert len(ROUTES) >= MIN_PATTERNS, [str(r) for r in ROUTES]
    assert len(with_id) >= MIN_PATTERNS_WITH_AN_ID, [str(r) for r in with_id]
    assert any(r.api for r in with_id) and any(not r.api for r in with_id)
    assert any(r.staff_only("post") for r in ROUTES)


@pytest.fixture
def victim(db) -> Victim:
    # Names no generated customer has: the attacker's own profile shows a Faker name, and a
    # Faker "Victoria" once read as the victim's leaked first name.
    user = UserFactory(
        email="quessaly.quested@example.org",
        holder__first_name="Quessaly",
        holder__last_name="Quested",
        holder__address="7 Quested Lane",
    )
    account = account_for(user, amount=50_000, nickname="Quested rainy day")
    third_party = account_for(UserFactory(), amount=0)
    send(account, third_party, 1_234, description="Quested private rent")
    approval = deposit(
        account=account,
        amount=settings.APPROVAL_LIMIT + 1,
        initiated_by=UserFactory(is_staff=True),
        description="Quested branch deposit",
    )
    issued = issue_card(owner=user, account_id=account.pk)
    card = issued.card
    authorization = authorize(
        pan=issued.pan,
        expiry_month=card.expiry_month,
        expiry_year=card.expiry_year,
        cvc=issued.cvc,
        amount=777,
        merchant="Quested secret florist",
    )
    account.refresh_from_db()
    # Read back as the victim sees it, so each value is what the API would show.
    own = bearer(user)
    transfer = own.get("/api/v1/transfers/").json()["results"][0]
    return Victim(
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        address=user.holder.address,
        account_id=str(account.pk),
        account_number=account.number,
        nickname=account.nickname,
        transfer_id=transfer["id"],
        description=transfer["description"],
        period=timezone.now().strftime("%Y-%m"),
        approval_id=str(approval.pk),
        card_id=str(card.pk),
        card_last4=f"•••• {card.last4}",
        authorization_id=str(authorization.pk),
        authorization_merchant=authorization.merchant,
    )


@pytest.fixture
def attacker(customer):
    """A customer with money of their own, so a refusal is about the object, not the funds."""
    account_for(customer, amount=50_000)
    return customer


@pytest.fixture
def attackers_card(attacker) -> dict:
    """The card data of a card of the attacker's own: the credential a merchant sends to
    capture or void an authorisation, so a refusal is about the authorisation, not the card."""
    account = attacker.holder.accounts.first()
    issued = issue_card(owner=attacker, account_id=account.pk)
    return {
        "pan": issued.pan,
        "expiry_month": issued.card.expiry_month,
        "expiry_year": issued.card.expiry_year,
        "cvc": issued.cvc,
    }


def body_for(route, victim: Victim, attackers_card: dict) -> dict:
    """`body_naming`, and the attacker's own card data where the card data are the
    credential (an authorisation's capture and void: their body takes nothing else)."""
    if "card-authorizations/<" in route.route:
        return {**attackers_card, **({"amount": 100} if "capture" in route.route else {})}
    return body_naming(victim)


def body_naming(victim: Victim) -> dict:
    """A request body that names the victim's objects wherever a body can name one."""
    return {
        "from_account": victim.account_id,
        "account": victim.account_id,
        "to_account_number": victim.account_number,
        "amount": 100,
        "currency": "EUR",
        "type": "checking",
        "nickname": "pwned",
        "description": "pwned",
        "reason": "pwned",
        "daily_limit": 1,
    }


def victims_state(victim: Victim):
    from cards.models import Card, CardAuthorization
    from ledger.models import Account

    account = Account.objects.get(pk=victim.account_id)
    card = Card.objects.get(pk=victim.card_id)
    hold = CardAuthorization.objects.get(pk=victim.authorization_id)
    return (
        account.balance,
        account.held,
        (hold.status, hold.captured_amount),
        account.status,
        account.nickname,
        ledger_rows(),
        (card.status, card.daily_limit),
    )


def send_as_customer(route: Route, verb: str, path: str, body: dict, attacker):
    if route.api:
        client = bearer(attacker)
    else:
        client = Client()  # a browser with a valid CSRF token: the check under test comes after
        client.force_login(attacker)
    if verb in ("get", "head", "delete"):
        return getattr(client, verb)(path)
    if route.api:
        return getattr(client, verb)(path, body, format="json")
    return getattr(client, verb)(path, urlencode(body), content_type=FORM)


def assert_nothing_of_theirs(response, victim: Victim, where: str, echoed=frozenset()) -> None:
    """`echoed`: what the customer typed into a form, which the form shows back to them."""
    text = response.content.decode(errors="replace") + " ".join(
        f"{k}: {v}" for k, v in response.headers.items()
    )
    leaked = {k for k, v in victim.secrets().items() if v not in echoed and v in text}
    assert not leaked, f"{where} shows another customer's {sorted(leaked)}"


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_another_customers_objects_do_not_exist_for_you(route, victim, attacker, attackers_card):
    path = route.path_for(victim)
    before = victims_state(victim)
    for verb in VERBS:
        body = body_for(route, victim, attackers_card)
        response = send_as_customer(route, verb, path, body, attacker)
        where = f"{verb.upper()} {path} ({route})"
        status = response.status_code

        assert status < 500, f"{where}: {status}"
        form = not route.api and verb in ("post", "put", "patch")
        assert_nothing_of_theirs(response, victim, where, set(body.values()) if form else set())
        if route.staff_only(verb):
            assert status == 403, f"{where} is staff only: {status} for a customer"
        elif route.kwargs:
            assert status in (404, 405), f"{where} names another customer's object: {status}"
            if route.api and status == 404 and verb != "head":
                assert response.json()["error"]["code"] == "not_found", where
    assert victims_state(victim) == before, f"{route}: the other customer's data changed"


def test_a_path_parameter_without_a_filler_fails_loudly(victim):
    new = Route("api/v1/widgets/<uuid:pk>/", ROUTES[0].pattern, "api")

    with pytest.raises(pytest.fail.Exception, match=r"FILLERS\[\('widgets', 'pk'\)\]"):
        new.path_for(victim)
