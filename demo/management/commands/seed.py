"""`manage.py seed`: a demo bank to click through.

Customers with names and addresses, checking and savings accounts in euros, pounds and
dollars, and six months of history: salaries from employers, rent to landlords, groceries,
bills, cash machines, savings and money between friends. Every cent is posted through the
ledger's services (backdated with `ledger.clock.posting_time`, in time order), so
`manage.py ledger_check` is clean afterwards.

Idempotent: a second run changes nothing. `--users N` adds customers up to N (new customers
get history only while the ledger is still empty; afterwards they start with an opening
deposit today). `--reset` empties the whole database first (refused in production).

The logins: in the local demo, the published passwords below. In production (SEED_DEMO=true
in a container with DJANGO_ENV=production) no login gets a published password: the staff
login takes `SEED_STAFF_PASSWORD` and the customers `SEED_DEMO_PASSWORD` from the environment
(each must pass the password validators), or a generated one printed once by this run. Logins
that already exist keep their passwords.
"""

import itertools
import os
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User
from accounts.services import register_customer, update_profile
from cards.models import Card
from cards.services import issue_card
from core.errors import BankError
from ledger import services
from ledger.clock import posting_time
from ledger.models import Account, Entry

DEMO_PASSWORD = "demo-password-2026"
STAFF_PASSWORD = "staff-password-2026"
DEMO_EMAIL = "demo@example.com"
DEMO_LOGINS = [(DEMO_EMAIL, DEMO_PASSWORD, "Dana", "Demo")]
STAFF_LOGIN = ("staff@example.com", STAFF_PASSWORD)
STAFF_ROLES = ["teller", "back office", "approver", "auditor"]
HISTORY_DAYS = 183  # six months
DEFAULT_USERS = 12

FIRST_NAMES = [
    "Amelia", "Ben", "Clara", "Daniel", "Elif", "Felix", "Grace", "Hugo", "Ines", "Jonas",
    "Keira", "Luca", "Maya", "Noah", "Olivia", "Pavel", "Quinn", "Rosa", "Samir", "Tessa",
    "Umar", "Vera", "Wim", "Yara", "Zoe", "Aisha", "Bruno", "Chloe", "Dev", "Emma",
]  # fmt: skip
LAST_NAMES = [
    "Andersen", "Bianchi", "Carter", "Dubois", "Evans", "Fischer", "Garcia", "Hughes",
    "Ivanova", "Jansen", "Kowalski", "Larsen", "Moreau", "Novak", "O'Brien", "Petrov",
    "Quint", "Rossi", "Schmidt", "Taylor", "Ueda", "Vasquez", "Walsh", "Young", "Zimmer",
]  # fmt: skip
ADDRESSES = {
    "EUR": [
        ("Keizersgracht", "1015 CX Amsterdam, Netherlands"),
        ("Oranienstraße", "10999 Berlin, Germany"),
        ("Rue de la Roquette", "75011 Paris, France"),
        ("Calle de Toledo", "28005 Madrid, Spain"),
    ],
    "GBP": [
        ("Camden High Street", "London NW1 7JE, United Kingdom"),
        ("Deansgate", "Manchester M3 2BW, United Kingdom"),
    ],
    "USD": [
        ("Atlantic Avenue", "Brooklyn, NY 11217, United States"),
        ("Valencia Street", "San Francisco, CA 94110, United States"),
    ],
}
PHONE_PREFIX = {"EUR": "+31 20 ", "GBP": "+44 20 ", "USD": "+1 718 "}
HOME_CURRENCIES = ["EUR", "GBP", "EUR", "USD"]

# Businesses that bank with us too: they pay salaries and are paid rent, groceries and bills.
# (key, name, role, currency)
BUSINESSES = [
    ("harbour", "Harbour Logistics GmbH", "employer", "EUR"),
    ("lumen", "Lumen Software BV", "employer", "EUR"),
    ("parkside", "Parkside Lettings", "landlord", "EUR"),
    ("freshco", "FreshCo Markets", "grocer", "EUR"),
    ("stadtwerk", "Stadtwerke Nord", "utility", "EUR"),
    ("thames", "Thames Analytics Ltd", "employer", "GBP"),
    ("camden", "Camden Homes Ltd", "landlord", "GBP"),
    ("greenleaf", "Greenleaf Grocers", "grocer", "GBP"),
    ("britpower", "BritPower Energy", "utility", "GBP"),
    ("hudson", "Hudson Robotics Inc", "employer", "USD"),
    ("brooklyn", "Brooklyn Realty LLC", "landlord", "USD"),
    ("corner", "Corner Market", "grocer", "USD"),
    ("conedge", "ConEdge Power", "utility", "USD"),
]
FRIENDLY = [
    "Dinner at Luca's", "Concert tickets", "Birthday present", "Paying you back",
    "Weekend trip", "Football tickets", "Taxi home", "Flat warming gift", "Book club",
]  # fmt: skip


@dataclass
class Posting:
    """One movement of the demo's history, posted at `at` through a ledger service."""

    at: datetime
    kind: str  # "deposit", "withdraw" or "transfer"
    amount: int
    description: str
    by: User | None  # None: the bank's own process (a wire in, a cash machine)
    account: Account | None = None  # deposit, withdraw
    source: Account | None = None  # transfer
    destination: Account | None = None

    def post(self) -> None:
        with posting_time(self.at):
            if self.kind == "transfer":
                services.transfer(
                    from_account=self.source.pk,
                    to_account_number=self.destination.number,
                    amount=self.amount,
                    initiated_by=self.by,
                    description=self.description,
                )
            elif self.kind == "deposit":
                services.deposit(
                    account=self.account,
                    amount=self.amount,
                    initiated_by=self.by,
                    description=self.description,
                )
            else:
                services.withdraw(
                    account=self.account,
                    amount=self.amount,
                    initiated_by=self.by,
                    description=self.description,
                )


@dataclass
class Person:
    user: User
    currency: str
    checking: Account
    savings: Account | None = None
    travel: Account | None = None  # a second currency
    salary: int = 0
    rent: int = 0


def cents(rng: random.Random, low: float, high: float, *, whole: bool = False) -> int:
    amount = rng.uniform(low, high)
    return round(amount) * 100 if whole else round(amount * 100)


def month_starts(start: date, end: date):
    month = date(start.year, start.month, 1)
    while month <= end:
        yield month
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


class Command(BaseCommand):
    help = "Create a demo bank: customers, accounts and six months of history (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--users",
            type=int,
            default=DEFAULT_USERS,
            help=f"How many personal customers, the demo login included (default {DEFAULT_USERS}).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Empty the WHOLE database first (a demo database only; refused in production).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")

    def handle(self, *args, users, reset, seed, verbosity, **options):
        if users < 1:
            raise CommandError("--users must be at least 1.")
        if reset:
            if settings.PRODUCTION:
                raise CommandError("--reset empties the database; it is refused in production.")
            call_command("flush", interactive=False, verbosity=0)
        self.verbosity = verbosity
        self.customer_password, self.staff_password = self._passwords()
        self.created_logins: list[tuple[str, str, str]] = []  # (role, email, password)
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.now = timezone.now().replace(microsecond=0)
        self.start = datetime.combine(
            (self.now - timedelta(days=HISTORY_DAYS)).date(), time.min, tzinfo=UTC
        )
        backdate = not Entry.objects.exists()  # history must be posted before anything else

        staff = self._staff()
        businesses = self._businesses(backdate)
        people = self._people(users, backdate)

        if not backdate and people:
            postings = self._openings_today(people, staff)
            self._say(
                "The ledger already has entries, so new customers start with an opening "
                "deposit today (use --reset for a fresh demo with six months of history)."
            )
        else:
            postings = self._history(people, businesses, staff) if people else []
        refused = self._post(postings)
        self._demo_card()

        if people or postings:
            self._say(
                f"Seeded {len(people)} customers and {len(businesses)} businesses: "
                f"{len(postings) - refused} postings"
                + (f" ({refused} refused for want of funds)" if refused else "")
                + "."
            )
        else:
            self._say("The demo bank is already seeded; nothing to do.")
        self._print_logins(users)

    def _demo_card(self) -> None:
        """A debit card on the demo login's first active account, once. Its number and CVC
        are not printed (nor kept anywhere): the cards page issues one to see them."""
        demo = User.objects.filter(email=DEMO_EMAIL).first()
        if demo is None or Card.objects.held_by(demo).exists():
            return
        account = Account.objects.held_by(demo).filter(status=Account.Status.ACTIVE).first()
        if account is not None:
            issue_card(owner=demo, account_id=account.pk)
            self._say("Issued a debit card to the demo login (its number is not shown).")

    # --- people ---------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        if self.verbosity:
            self.stdout.write(text)

    def _passwords(self) -> tuple[str, str]:
        """(customers', staff's): the published ones only outside production."""
        if not settings.PRODUCTION:
            return DEMO_PASSWORD, STAFF_PASSWORD
        return (
            self._production_password("SEED_DEMO_PASSWORD", DEMO_PASSWORD),
            self._production_password("SEED_STAFF_PASSWORD", STAFF_PASSWORD),
        )

    def _production_password(self, variable: str, published: str) -> str:
        chosen = os.environ.get(variable, "")
        if not chosen:
            return secrets.token_urlsafe(18)
        if chosen == published:
            raise CommandError(f"{variable} is the demo's published password; choose another.")
        try:
            validate_password(chosen)
        except ValidationError as error:
            raise CommandError(f"{variable} is too weak: {' '.join(error.messages)}") from None
        return chosen

    def _staff(self) -> User:
        """The demo's staff login: not a superuser but every staff role, so the admin shows
        what each role allows (the roles are groups made by the ledger's migrations)."""
        email = STAFF_LOGIN[0]
        staff = User.objects.filter(email=email).first()
        if staff is None:
            staff = User.objects.create_user(email, self.staff_password, is_staff=True)
            update_profile(user=staff, first_name="Sam", last_name="Staff")
            self.created_logins.append(("staff", email, self.staff_password))
        staff.groups.add(*Group.objects.filter(name__in=STAFF_ROLES))
        return staff

    def _open(self, user: User, type: str, currency: str, nickname: str, backdate: bool):
        at = self.start - timedelta(days=2) if backdate else self.now
        with posting_time(at):
            return services.open_account(
                owner=user, type=type, currency=currency, nickname=nickname
            )

    def _businesses(self, backdate: bool) -> dict[str, tuple[str, str, User, Account]]:
        """Only the businesses created in this run: older ones already have their history."""
        created = {}
        for key, name, role, currency in BUSINESSES:
            email = f"{key}@business.example.com"
            if User.objects.filter(email=email).exists():
                continue
            user = register_customer(
                email=email,
                password=secrets.token_urlsafe(24),  # nobody logs in as a business in the demo
                first_name=name,
                last_name="",
            )
            account = self._open(user, "checking", currency, "Operating account", backdate)
            created[key] = (role, currency, user, account)
        return created

    def _identity(self, index: int) -> tuple[str, str, str, str]:
        if index == 0:
            email, _, first, last = DEMO_LOGINS[0]
            return email, first, last, "EUR"
        first = FIRST_NAMES[(index * 7) % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 11) % len(LAST_NAMES)]
        handle = f"{first}.{last}".lower().replace("'", "")
        return f"{handle}{index}@example.com", first, last, HOME_CURRENCIES[index % 4]

    def _people(self, count: int, backdate: bool) -> list[Person]:
        people = []
        for index in tqdm(range(count), desc="Customers", disable=not self.verbosity):
            email, first, last, currency = self._identity(index)
            if User.objects.filter(email=email).exists():
                continue
            rng = random.Random(f"person-{index}")  # noqa: S311 - demo data, not secrets
            user = register_customer(
                email=email, password=self.customer_password, first_name=first, last_name=last
            )
            self.created_logins.append(("customer", email, self.customer_password))
            street, city = rng.choice(ADDRESSES[currency])
            update_profile(
                user=user,
                phone=f"{PHONE_PREFIX[currency]}{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                address=f"{rng.randint(2, 180)} {street}, {city}",
                date_of_birth=date(rng.randint(1962, 2002), rng.randint(1, 12), rng.randint(1, 28)),
            )
            person = Person(
                user=user,
                currency=currency,
                checking=self._open(user, "checking", currency, "Everyday", backdate),
                salary=cents(rng, 2600, 4800, whole=True),
            )
            person.rent = round(person.salary * rng.uniform(0.25, 0.38) / 1000) * 1000
            if index == 0 or rng.random() < 0.75:
                person.savings = self._open(user, "savings", currency, "Rainy day", backdate)
            if index == 0 or rng.random() < 0.25:
                other = "GBP" if currency != "GBP" else "EUR"
                person.travel = self._open(user, "checking", other, f"Travel {other}", backdate)
            people.append(person)
        return people

    # --- history --------------------------------------------------------------------------

    def _at(self, day: date, hour: int, rng: random.Random) -> datetime:
        return datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), UTC)

    def _history(self, people: list[Person], businesses: dict, staff: User) -> list[Posting]:
        rng = self.rng
        by_role: dict[tuple[str, str], list[tuple[User, Account]]] = {}
        for role, currency, user, account in businesses.values():
            by_role.setdefault((role, currency), []).append((user, account))

        def business(role: str, currency: str) -> tuple[User, Account] | None:
            options = by_role.get((role, currency))
            return rng.choice(options) if options else None

        first_day, last_day = self.start.date(), self.now.date()
        postings: list[Posting] = []
        add = postings.append

        # Employers are paid by their clients from outside the bank: a wire in each month.
        for role, currency, _user, account in businesses.values():
            if role != "employer":
                continue
            staff_on = [p for p in people if p.currency == currency]
            payroll = sum(p.salary for p in staff_on) + 500_000
            for month in month_starts(first_day, last_day):
                day = max(month + timedelta(days=rng.randint(2, 6)), first_day)
                add(
                    Posting(
                        self._at(day, 3, rng),
                        "deposit",
                        payroll,
                        "Client receipts",
                        None,  # a wire from another bank: the bank's own process, no teller
                        account,
                    )
                )

        for person in people:
            user, currency, checking = person.user, person.currency, person.checking
            employer = business("employer", currency)
            landlord = business("landlord", currency)
            grocer = business("grocer", currency)
            utility = business("utility", currency)
            opening_day = first_day  # before anything else happens on these accounts
            add(
                Posting(
                    self._at(opening_day, 0, rng),
                    "deposit",
                    person.rent * 2 + cents(rng, 900, 2500, whole=True),
                    "Opening balance from previous bank",
                    None,  # a wire from the previous bank
                    checking,
                )
            )
            if person.savings:
                add(
                    Posting(
                        self._at(opening_day, 0, rng),
                        "deposit",
                        cents(rng, 2000, 12000, whole=True),
                        "Savings moved from previous bank",
                        None,
                        person.savings,
                    )
                )
            if person.travel:
                add(
                    Posting(
                        self._at(opening_day + timedelta(days=3), 12, rng),
                        "deposit",
                        cents(rng, 300, 900, whole=True),
                        "Cash deposit",
                        staff,
                        person.travel,
                    )
                )
                shop = business("grocer", person.travel.currency)
                for _ in range(rng.randint(4, 8)):
                    day = first_day + timedelta(days=rng.randint(10, HISTORY_DAYS - 2))
                    if shop:
                        add(
                            Posting(
                                self._at(day, rng.randint(9, 20), rng),
                                "transfer",
                                cents(rng, 8, 45),
                                "Shopping abroad",
                                user,
                                source=person.travel,
                                destination=shop[1],
                            )
                        )

            for month in month_starts(first_day, last_day):
                label = f"{month:%B %Y}"
                if landlord and month > first_day:
                    add(
                        Posting(
                            self._at(month, 8, rng),
                            "transfer",
                            person.rent,
                            f"Rent {label}",
                            user,
                            source=checking,
                            destination=landlord[1],
                        )
                    )
                if utility:
                    add(
                        Posting(
                            self._at(month + timedelta(days=14), 7, rng),
                            "transfer",
                            cents(rng, 55, 140),
                            f"Electricity and gas {label}",
                            user,
                            source=checking,
                            destination=utility[1],
                        )
                    )
                if employer:
                    add(
                        Posting(
                            self._at(month + timedelta(days=24), 6, rng),
                            "transfer",
                            person.salary,
                            f"Salary {label}",
                            employer[0],
                            source=employer[1],
                            destination=checking,
                        )
                    )
                if person.savings:
                    add(
                        Posting(
                            self._at(month + timedelta(days=25), 19, rng),
                            "transfer",
                            cents(rng, 150, 450, whole=True),
                            "Monthly savings",
                            user,
                            source=checking,
                            destination=person.savings,
                        )
                    )
                for week in range(4):
                    for _ in range(rng.randint(1, 2)):
                        if grocer:
                            day = month + timedelta(days=week * 7 + rng.randint(0, 6))
                            add(
                                Posting(
                                    self._at(day, rng.randint(9, 20), rng),
                                    "transfer",
                                    cents(rng, 18, 135),
                                    "Groceries",
                                    user,
                                    source=checking,
                                    destination=grocer[1],
                                )
                            )
                if rng.random() < 0.6:
                    day = month + timedelta(days=rng.randint(0, 27))
                    add(
                        Posting(
                            self._at(day, rng.randint(10, 22), rng),
                            "withdraw",
                            rng.choice([40, 50, 60, 80, 100, 150]) * 100,
                            "Cash machine",
                            None,  # the machine, not a teller (nobody tellers their own account)
                            checking,
                        )
                    )
                friends = [p for p in people if p is not person and p.currency == currency]
                for _ in range(rng.randint(0, 2)):
                    if friends:
                        friend = rng.choice(friends)
                        day = month + timedelta(days=rng.randint(0, 27))
                        add(
                            Posting(
                                self._at(day, rng.randint(12, 23), rng),
                                "transfer",
                                cents(rng, 12, 180),
                                rng.choice(FRIENDLY),
                                user,
                                source=checking,
                                destination=friend.checking,
                            )
                        )

        window_end = self.now - timedelta(minutes=10)
        postings = [p for p in postings if self.start <= p.at <= window_end]
        # Distinct times, oldest first: every balance_after is then the running sum in time order.
        postings.sort(key=lambda p: p.at)
        for earlier, later in itertools.pairwise(postings):
            if later.at <= earlier.at:
                later.at = earlier.at + timedelta(seconds=1)
        return postings

    def _openings_today(self, people: list[Person], staff: User) -> list[Posting]:
        return [
            Posting(
                self.now,
                "deposit",
                cents(self.rng, 500, 3000, whole=True),
                "Opening deposit",
                staff,
                person.checking,
            )
            for person in people
        ]

    def _post(self, postings: list[Posting]) -> int:
        refused = 0
        bar = tqdm(
            postings, desc="History", unit="posting", disable=not (self.verbosity and postings)
        )
        for posting in bar:
            try:
                posting.post()
            except BankError as error:  # e.g. a friend's transfer before the salary arrived
                refused += 1
                if self.verbosity > 1:
                    self.stderr.write(f"refused {posting.description}: {error.code}")
        return refused

    def _print_logins(self, users: int) -> None:
        if settings.PRODUCTION:
            self._print_production_logins()
            return
        if not self.verbosity:
            return
        self.stdout.write("Demo logins:")
        for email, password, *_ in DEMO_LOGINS:
            self.stdout.write(f"  customer  {email}  /  {password}")
        others = [self._identity(index)[0] for index in range(1, users)]
        for email in others[:2]:
            self.stdout.write(f"  customer  {email}  /  {DEMO_PASSWORD}")
        if len(others) > 2:
            self.stdout.write(f"  ... and {len(others) - 2} more customers with the same password")
        self.stdout.write(f"  staff     {STAFF_LOGIN[0]}  /  {STAFF_LOGIN[1]}   (also /admin/)")

    def _print_production_logins(self) -> None:
        """Only the logins this run created, and only a password the operator did not choose
        (a generated one is shown here once; nothing else knows it)."""
        chosen = {
            "customer": bool(os.environ.get("SEED_DEMO_PASSWORD")),
            "staff": bool(os.environ.get("SEED_STAFF_PASSWORD")),
        }
        if not self.created_logins:
            self._say("No new logins; existing ones keep their passwords.")
            return
        self.stdout.write("Logins created by this run (production: no published password):")
        shown = self.created_logins[:3] + [x for x in self.created_logins[3:] if x[0] == "staff"]
        for role, email, password in shown:
            secret = "(the password from the environment)" if chosen[role] else password
            self.stdout.write(f"  {role:<9} {email}  /  {secret}")
        if len(self.created_logins) > len(shown):
            self.stdout.write("  ... and more customers with the same password")
