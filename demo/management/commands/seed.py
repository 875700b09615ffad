"""`manage.py seed`: a demo bank to click through, or a bank at scale to measure.

Customers with names and addresses, checking and savings accounts in euros, pounds and
dollars, and `--months` (default 6) of history: salaries from employers, rent to landlords,
groceries and shopping paid by card, bills, cash machines, savings, money between friends, and
a few accounts frozen by the back office along the way. `--users 1000 --months 12` builds a
year of it (about 163,000 transactions, 326,000 entries): measured at 33-42 s on SQLite and
46-85 s on PostgreSQL on a 2-core machine shared with other work, about 20 s of PostgreSQL's
being its deferred trigger proving every transaction balanced at commit.

How the history keeps every ledger invariant without going through the per-request services
(which cost a round trip and a lock per posting, minutes at this scale):

- **One plan, in time order.** Every movement is planned first (`Posting`), sorted by time and
  given a distinct second, so posting order is time order; transaction and entry ids are uuid7
  drawn in that order, so `(created_at, id)`, the order `ledger_check` and the history use,
  is posting order too.
- **The services' rules, replayed in Python.** `Books` holds each account's balance and
  freeze time and applies the rules the services apply under their locks: same currency, both
  accounts active at that moment, a customer account never below zero. A movement that breaks
  one is refused (counted, not posted), as the service would refuse it.
- **Balanced, running, cached.** Each transaction gets exactly two entries, -amount and
  +amount in one currency (cash and card payments to other banks' merchants move through the
  bank's settlement account, as the services do); a customer entry's `balance_after` is the
  account's running balance in Python, and the bank's own accounts keep none (NULL, as
  `ledger.services.post` writes them); at the end each account's cached `balance` row is moved
  by what the seed posted to it, so it stays the sum of its entries (with an internal
  account's InternalBalance shards, which the seed leaves alone).
- **Inserts the database still checks.** Rows go in through `demo/bulk_sql.py` in batches; nothing
  is updated or deleted, so the append-only triggers hold, and on PostgreSQL the deferred
  balanced-transaction trigger checks every transaction at commit. The check constraints
  (non-zero entries, no negative customer balance) check every row.
- **All or nothing.** New customers, their accounts and the whole history are written in one
  database transaction: a failed run leaves nothing behind, and a re-run starts clean.
- Cash movements and freezes write their audit records (actor, reason, amount) as the
  services do, at the time of the movement.

Idempotent: a second run changes nothing. `--users N` adds customers up to N (new customers
get history only while the ledger is still empty; afterwards they start with an opening
deposit today, through the ledger's deposit service). `--reset` empties the whole database
first (refused in production).

Production: the seed is refused unless asked for with `--allow-production` (the container's
`SEED_DEMO=true`). Then no login gets a published password: the staff login takes
`SEED_STAFF_PASSWORD` and the customers `SEED_DEMO_PASSWORD` from the environment (each must
pass the password validators), or a generated one printed once by this run. Logins that
already exist keep their passwords.
"""

import itertools
import os
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import Holder, User
from accounts.services import update_profile
from audit.models import AuditRecord
from cards import keys
from cards.models import Card, CardPayment
from core.errors import BankError
from demo.bulk_sql import Table
from ledger import services
from ledger.ids import uuid7
from ledger.models import Account, AccountStatusChange, Entry, Transaction
from ledger.numbers import new_account_number

DEMO_PASSWORD = "demo-password-2026"
STAFF_PASSWORD = "staff-password-2026"
DEMO_EMAIL = "demo@example.com"
DEMO_LOGINS = [(DEMO_EMAIL, DEMO_PASSWORD, "Dana", "Demo")]
STAFF_LOGIN = ("staff@example.com", STAFF_PASSWORD)
STAFF_ROLES = ["teller", "back office", "approver", "auditor"]
DEFAULT_MONTHS = 6
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


# Merchants that bank elsewhere: a card payment to them settles through the settlement account.
CARD_MERCHANTS = {
    "EUR": ["Deutsche Bahn", "Spotify", "Shell Station", "Zalando", "Cinema Paradiso"],
    "GBP": ["Transport for London", "Spotify", "Pret A Manger", "Boots", "Odeon Cinemas"],
    "USD": ["MTA MetroCard", "Spotify", "Shell Station", "Target", "AMC Theatres"],
}
FREEZE_REASONS = [
    "Card reported stolen by the customer",
    "Unusual activity: verifying identity",
    "Court order received",
]
FROZEN_SHARE = 50  # one customer in this many has an account frozen along the way
BATCH = 5000  # transactions per bulk insert
Kind = Transaction.Kind


@dataclass(slots=True)
class Posting:
    """One movement of the plan: `amount` from `source` to `destination` at `at`. Cash in and
    out and card payments to other banks' merchants have the settlement account on one side."""

    at: datetime
    kind: str  # a Transaction.Kind
    amount: int
    description: str
    by: User | None  # None: the bank's own process (a wire in, a cash machine, a card scheme)
    source: Account
    destination: Account
    card: object | None = None  # the card a card payment was made with, once cards are issued


@dataclass
class Person:
    user: User
    currency: str
    checking: Account
    savings: Account | None = None
    travel: Account | None = None  # a second currency
    salary: int = 0
    rent: int = 0
    frozen_at: datetime | None = None  # the checking account is frozen from then on
    freeze_reason: str = ""


def cents(rng: random.Random, low: float, high: float, *, whole: bool = False) -> int:
    amount = rng.uniform(low, high)
    return round(amount) * 100 if whole else round(amount * 100)


def month_starts(start: date, end: date) -> Iterator[date]:
    month = date(start.year, start.month, 1)
    while month <= end:
        yield month
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


class Books:
    """The ledger's rules and running balances, kept in Python while the plan is posted in
    bulk (the module docstring says why this keeps every invariant)."""

    def __init__(self, accounts: list[Account], *, staff: User, verbosity: int):
        self.balance = {account.pk: account.balance for account in accounts}
        self.accounts = {account.pk: account for account in accounts}
        self.frozen_from: dict = {}  # account pk -> the moment it was frozen
        self.staff = staff
        self.verbosity = verbosity
        self.refused = 0
        self.posted = 0

    def refuses(self, posting: Posting) -> bool:
        source, destination = posting.source, posting.destination
        for account in (source, destination):
            frozen = self.frozen_from.get(account.pk)
            if frozen is not None and posting.at >= frozen:
                return True  # a frozen account neither sends nor receives
        if source.currency != destination.currency:
            return True
        return not source.is_internal and self.balance[source.pk] < posting.amount

    def post(self, postings: list[Posting]) -> None:
        self.payment_table = Table(
            CardPayment,
            # no authorization: the seed's card payments are direct payments, not captures
            [
                "id",
                "card",
                "transaction",
                "authorization",
                "amount",
                "currency",
                "merchant",
                "created_at",
            ],
        )
        txn_table = Table(
            Transaction, ["id", "kind", "description", "initiated_by", "reverses", "created_at"]
        )
        entry_table = Table(
            Entry,
            [
                "id",
                "transaction",
                "account",
                "counterparty",
                "amount",
                "currency",
                "balance_after",
                "created_at",
            ],
        )
        # Prepared once per distinct value (bulk_sql's contract), not once per row.
        prep_id, prep_moment = txn_table.prep["id"], txn_table.prep["created_at"]
        prep_account = entry_table.prep["account"]
        db_id = {pk: prep_account(pk) for pk in self.accounts}
        db_user: dict = {None: None}
        txns: list[tuple] = []
        entries: list[tuple] = []
        records: list[AuditRecord] = []
        payments: list[tuple] = []  # CardPayment rows of the card payments made with a card
        db_card: dict = {}
        balance = self.balance
        bar = tqdm(
            postings, desc="History", unit="posting", disable=not (self.verbosity and postings)
        )
        for posting in bar:
            if self.refuses(posting):
                self.refused += 1
                continue
            source, destination, amount = posting.source, posting.destination, posting.amount
            src, dst = source.pk, destination.pk
            txn_id = uuid7()
            db_txn, at = prep_id(txn_id), prep_moment(posting.at)
            by = posting.by.pk if posting.by else None
            if by not in db_user:
                db_user[by] = txn_table.prep["initiated_by"](by)
            txns.append((db_txn, posting.kind, posting.description, db_user[by], None, at))
            balance[src] -= amount
            balance[dst] += amount
            # The bank's own accounts keep no running balance (ledger.services.post says why).
            entries.append(
                (prep_id(uuid7()), db_txn, db_id[src], db_id[dst], -amount,
                 source.currency, None if source.is_internal else balance[src], at)
            )  # fmt: skip
            entries.append(
                (prep_id(uuid7()), db_txn, db_id[dst], db_id[src], amount,
                 destination.currency, None if destination.is_internal else balance[dst], at)
            )  # fmt: skip
            if posting.card is not None:
                card = posting.card.pk
                if card not in db_card:
                    db_card[card] = self.payment_table.prep["card"](card)
                payments.append(
                    (db_txn, db_card[card], db_txn, None, amount, source.currency,
                     posting.description, at)
                )  # fmt: skip
            if posting.kind in (Kind.DEPOSIT, Kind.WITHDRAWAL):
                customer = destination if posting.kind == Kind.DEPOSIT else source
                records.append(self._cash_record(posting, customer, txn_id))
            if len(txns) >= BATCH:
                self._insert(txn_table, txns, entry_table, entries, records, payments)
        self._insert(txn_table, txns, entry_table, entries, records, payments)

    def _cash_record(self, posting: Posting, account: Account, txn_id) -> AuditRecord:
        """What `ledger.services.deposit` and `withdraw` record for the same movement."""
        return AuditRecord(
            actor=posting.by,
            action="deposit" if posting.kind == Kind.DEPOSIT else "withdraw",
            target_type=AuditRecord.Target.ACCOUNT,
            target_id=account.pk,
            target_label=str(account),
            reason=posting.description,
            details={
                "amount": posting.amount,
                "currency": account.currency,
                "transaction": str(txn_id),
            },
            created_at=posting.at,
        )

    def _insert(
        self, txn_table, txns: list, entry_table, entries: list, records: list, payments: list
    ) -> None:
        txn_table.insert(txns)
        entry_table.insert(entries)
        self.payment_table.insert(payments)
        payments.clear()
        AuditRecord.objects.bulk_create(records, batch_size=500)
        self.posted += len(txns)
        txns.clear()
        entries.clear()
        records.clear()

    def freeze(self, account: Account, *, at: datetime, reason: str) -> None:
        """The back office froze it at `at`: what `ledger.services.freeze_account` writes."""
        self.frozen_from[account.pk] = at
        AccountStatusChange.objects.create(
            account=account,
            from_status=Account.Status.ACTIVE,
            to_status=Account.Status.FROZEN,
            reason=reason,
            changed_by=self.staff,
            created_at=at,
        )
        AuditRecord.objects.create(
            actor=self.staff,
            action=AuditRecord.Action.FREEZE,
            target_type=AuditRecord.Target.ACCOUNT,
            target_id=account.pk,
            target_label=str(account),
            reason=reason,
            details={"from_status": Account.Status.ACTIVE, "to_status": Account.Status.FROZEN},
            created_at=at,
        )

    def write_balances(self) -> None:
        """Each cached balance := its running balance, the sum of the entries just written."""
        changed = []
        for pk, account in self.accounts.items():
            status = Account.Status.FROZEN if pk in self.frozen_from else account.status
            if account.balance != self.balance[pk] or account.status != status:
                account.balance, account.status = self.balance[pk], status
                changed.append(account)
        Account.objects.bulk_update(changed, ["balance", "status"], batch_size=500)


class Command(BaseCommand):
    help = "Create a demo bank: customers, accounts and months of history (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--users",
            type=int,
            default=DEFAULT_USERS,
            help=f"How many personal customers, the demo login included (default {DEFAULT_USERS}).",
        )
        parser.add_argument(
            "--months",
            type=int,
            default=DEFAULT_MONTHS,
            help=f"Months of history for a new bank (default {DEFAULT_MONTHS}, at most 60).",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Empty the WHOLE database first (a demo database only; refused in production).",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed demo customers into a production database on purpose (SEED_DEMO=true).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed (default 2026).")

    def handle(self, *args, users, months, reset, allow_production, seed, verbosity, **options):
        if users < 1:
            raise CommandError("--users must be at least 1.")
        if not 1 <= months <= 60:
            raise CommandError("--months must be between 1 and 60.")
        if settings.PRODUCTION and not allow_production:
            raise CommandError(
                "This is a production database: the demo seed is refused unless asked for "
                "with --allow-production (in the container, SEED_DEMO=true)."
            )
        if reset:
            if settings.PRODUCTION:
                raise CommandError("--reset empties the database; it is refused in production.")
            call_command("flush", interactive=False, verbosity=0)
        self.verbosity = verbosity
        self.customer_password, self.staff_password = self._passwords()
        self.created_logins: list[tuple[str, str, str]] = []  # (role, email, password)
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.now = timezone.now().replace(microsecond=0)
        self.days = round(months * 365 / 12)
        self.start = datetime.combine(
            (self.now - timedelta(days=self.days)).date(), time.min, tzinfo=UTC
        )
        self.taken_numbers = set(Account.objects.values_list("number", flat=True))
        backdate = not Entry.objects.exists()  # history must be posted before anything else

        staff = self._staff()
        if backdate:
            with transaction.atomic():  # the customers and their history, or nothing
                businesses = self._businesses(backdate)
                people = self._people(users, backdate)
                postings, books = self._history(people, businesses, staff)
                books.post(postings)
                books.write_balances()
            posted, refused = books.posted, books.refused
        else:
            with transaction.atomic():
                businesses = self._businesses(backdate)
                people = self._people(users, backdate)
            posted, refused = self._openings_today(people, staff)
            if people:
                self._say(
                    "The ledger already has entries, so new customers start with an opening "
                    "deposit today (use --reset for a fresh demo with months of history)."
                )

        if people or businesses:
            self._say(
                f"Seeded {len(people)} customers and {len(businesses)} businesses: "
                f"{posted} postings"
                + (f" ({refused} refused for want of funds or a frozen account)" if refused else "")
                + "."
            )
        else:
            self._say("The demo bank is already seeded; nothing to do.")
        self._print_logins(users)

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

    def _number(self) -> str:
        while (number := new_account_number()) in self.taken_numbers:
            continue
        self.taken_numbers.add(number)
        return number

    def _account(self, holder: Holder, type: str, currency: str, nickname: str, backdate: bool):
        return Account(
            holder=holder,
            type=type,
            currency=currency,
            nickname=nickname,
            number=self._number(),
            created_at=self.start - timedelta(days=2) if backdate else self.now,
        )

    def _businesses(self, backdate: bool) -> dict[str, tuple[str, str, User, Account]]:
        """Only the businesses created in this run: older ones already have their history."""
        existing = set(
            User.objects.filter(email__endswith="@business.example.com").values_list(
                "email", flat=True
            )
        )
        created, users, holders, accounts = {}, [], [], []
        for key, name, role, currency in BUSINESSES:
            email = f"{key}@business.example.com"
            if email in existing:
                continue
            # Nobody signs in as a business in the demo: an unusable password.
            user = User(email=email, password=make_password(None))
            holder = Holder(user=user, first_name=name, last_name="")
            account = self._account(holder, "checking", currency, "Operating account", backdate)
            users.append(user)
            holders.append(holder)
            accounts.append(account)
            created[key] = (role, currency, user, account)
        self._insert_customers(users, holders, accounts)
        return created

    def _insert_customers(self, users: list, holders: list, accounts: list) -> None:
        User.objects.bulk_create(users, batch_size=1000)  # uuid pks, drawn when built
        Holder.objects.bulk_create(holders, batch_size=1000)
        for account in accounts:
            account.holder = account.holder  # the holder's pk, returned by its insert
        Account.objects.bulk_create(accounts, batch_size=1000)

    def _identity(self, index: int) -> tuple[str, str, str, str]:
        if index == 0:
            email, _, first, last = DEMO_LOGINS[0]
            return email, first, last, "EUR"
        first = FIRST_NAMES[(index * 7) % len(FIRST_NAMES)]
        last = LAST_NAMES[(index * 11) % len(LAST_NAMES)]
        handle = f"{first}.{last}".lower().replace("'", "")
        return f"{handle}{index}@example.com", first, last, HOME_CURRENCIES[index % 4]

    def _people(self, count: int, backdate: bool) -> list[Person]:
        existing = set(
            User.objects.filter(email__endswith="@example.com").values_list("email", flat=True)
        )
        # One hash for everyone: they share the demo password, and hashing it a thousand times
        # (PBKDF2, about 0.3 s each) would be most of the run.
        password_hash = make_password(self.customer_password)
        people, users, holders, accounts = [], [], [], []
        for index in tqdm(range(count), desc="Customers", disable=not self.verbosity):
            email, first, last, currency = self._identity(index)
            if email in existing:
                continue
            rng = random.Random(f"person-{index}")  # noqa: S311 - demo data, not secrets
            user = User(email=email, password=password_hash)
            self.created_logins.append(("customer", email, self.customer_password))
            street, city = rng.choice(ADDRESSES[currency])
            holder = Holder(
                user=user,
                first_name=first,
                last_name=last,
                phone=f"{PHONE_PREFIX[currency]}{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                address=f"{rng.randint(2, 180)} {street}, {city}",
                date_of_birth=date(rng.randint(1962, 2002), rng.randint(1, 12), rng.randint(1, 28)),
            )
            person = Person(
                user=user,
                currency=currency,
                checking=self._account(holder, "checking", currency, "Everyday", backdate),
                salary=cents(rng, 2600, 4800, whole=True),
            )
            person.rent = round(person.salary * rng.uniform(0.25, 0.38) / 1000) * 1000
            if index == 0 or rng.random() < 0.75:
                person.savings = self._account(holder, "savings", currency, "Rainy day", backdate)
            if index == 0 or rng.random() < 0.25:
                other = "GBP" if currency != "GBP" else "EUR"
                person.travel = self._account(
                    holder, "checking", other, f"Travel {other}", backdate
                )
            users.append(user)
            holders.append(holder)
            accounts.extend(a for a in (person.checking, person.savings, person.travel) if a)
            people.append(person)
        self._insert_customers(users, holders, accounts)
        return people

    # --- history --------------------------------------------------------------------------

    def _at(self, day: date, hour: int, rng: random.Random) -> datetime:
        return datetime.combine(day, time(hour, rng.randint(0, 59), rng.randint(0, 59)), UTC)

    def _issue_cards(self, people: list[Person]) -> dict:
        """A debit card on each new customer's checking and travel account, issued the day it
        opened: {account pk: card}; every card payment of the plan carries its card
        (`Posting.card`) and gets its CardPayment row. Issued in bulk as `issue_card` would
        (a number from the BIN drawn from a CSPRNG, only its last4 and keyed fingerprint
        kept), valid CARD_VALID_YEARS from today; the numbers are forgotten at once, so
        nobody can pay with a seeded card (the cards page issues one whose number is shown)."""
        key_id = keys.current_key_id()
        expiry = (self.now.month, self.now.year + settings.CARD_VALID_YEARS)
        cards: dict = {}
        prints: set[str] = set()
        spending = [a for p in people for a in (p.checking, p.travel) if a is not None]
        for account in spending:
            while True:
                pan = keys.new_pan()
                fingerprint = keys.fingerprint(pan, key_id)
                if fingerprint not in prints:
                    break
            prints.add(fingerprint)
            cards[account.pk] = Card(
                account=account,
                last4=pan[-4:],
                fingerprint=fingerprint,
                key_id=key_id,
                expiry_month=expiry[0],
                expiry_year=expiry[1],
                daily_limit=settings.CARD_DAILY_LIMIT_DEFAULT,
                created_at=account.created_at,
            )
        # A number already issued (one in a billion per card) would be drawn again by
        # issue_card; here its card is left out and that customer's card payments name the
        # merchant only.
        taken = set(
            Card.objects.filter(fingerprint__in=prints).values_list("fingerprint", flat=True)
        )
        cards = {pk: card for pk, card in cards.items() if card.fingerprint not in taken}
        Card.objects.bulk_create(cards.values(), batch_size=500)
        return cards

    def _history(
        self, people: list[Person], businesses: dict, staff: User
    ) -> tuple[list[Posting], Books]:
        rng = self.rng
        settlement = {c: services.settlement_account(c) for c in ("EUR", "GBP", "USD")}
        by_role: dict[tuple[str, str], list[tuple[User, Account]]] = {}
        for role, currency, user, account in businesses.values():
            by_role.setdefault((role, currency), []).append((user, account))

        def business(role: str, currency: str) -> tuple[User, Account] | None:
            options = by_role.get((role, currency))
            return rng.choice(options) if options else None

        cards = self._issue_cards(people)
        first_day, last_day = self.start.date(), self.now.date()
        postings: list[Posting] = []
        add = postings.append

        def cash_in(at, amount, description, by, account):
            add(
                Posting(
                    at, Kind.DEPOSIT, amount, description, by, settlement[account.currency], account
                )
            )

        def card_payment(at, amount, merchant, account, merchant_account=None):
            to = merchant_account or settlement[account.currency]
            add(
                Posting(
                    at,
                    Kind.CARD_PAYMENT,
                    amount,
                    merchant,
                    None,
                    account,
                    to,
                    cards.get(account.pk),
                )
            )

        # Employers are paid by their clients from outside the bank: a wire in each month.
        for role, currency, _user, account in businesses.values():
            if role != "employer":
                continue
            staff_on = [p for p in people if p.currency == currency]
            payroll = sum(p.salary for p in staff_on) + 500_000
            for month in month_starts(first_day, last_day):
                day = max(month + timedelta(days=rng.randint(2, 6)), first_day)
                # A wire from another bank: the bank's own process, no teller.
                cash_in(self._at(day, 3, rng), payroll, "Client receipts", None, account)

        neighbours: dict[str, list[Person]] = {}
        for person in people:
            neighbours.setdefault(person.currency, []).append(person)

        for person in people:
            user, currency, checking = person.user, person.currency, person.checking
            friends = neighbours[currency]
            employer = business("employer", currency)
            landlord = business("landlord", currency)
            grocer = business("grocer", currency)
            utility = business("utility", currency)
            merchants = CARD_MERCHANTS[currency]
            opening_day = first_day  # before anything else happens on these accounts
            cash_in(
                self._at(opening_day, 0, rng),
                person.rent * 2 + cents(rng, 900, 2500, whole=True),
                "Opening balance from previous bank",
                None,  # a wire from the previous bank
                checking,
            )
            if person.savings:
                cash_in(
                    self._at(opening_day, 0, rng),
                    cents(rng, 2000, 12000, whole=True),
                    "Savings moved from previous bank",
                    None,
                    person.savings,
                )
            if person.travel:
                cash_in(
                    self._at(opening_day + timedelta(days=3), 12, rng),
                    cents(rng, 300, 900, whole=True),
                    "Cash deposit",
                    staff,
                    person.travel,
                )
                shop = business("grocer", person.travel.currency)
                for _ in range(rng.randint(4, 8)):
                    day = first_day + timedelta(days=rng.randint(10, max(10, self.days - 2)))
                    if shop:
                        card_payment(
                            self._at(day, rng.randint(9, 20), rng),
                            cents(rng, 8, 45),
                            shop[0].holder.first_name,
                            person.travel,
                            shop[1],
                        )

            for month in month_starts(first_day, last_day):
                label = f"{month:%B %Y}"
                if landlord and month > first_day:
                    add(
                        Posting(
                            self._at(month, 8, rng),
                            Kind.TRANSFER,
                            person.rent,
                            f"Rent {label}",
                            user,
                            checking,
                            landlord[1],
                        )
                    )
                if utility:
                    add(
                        Posting(
                            self._at(month + timedelta(days=14), 7, rng),
                            Kind.TRANSFER,
                            cents(rng, 55, 140),
                            f"Electricity and gas {label}",
                            user,
                            checking,
                            utility[1],
                        )
                    )
                if employer:
                    add(
                        Posting(
                            self._at(month + timedelta(days=24), 6, rng),
                            Kind.TRANSFER,
                            person.salary,
                            f"Salary {label}",
                            employer[0],
                            employer[1],
                            checking,
                        )
                    )
                if person.savings:
                    add(
                        Posting(
                            self._at(month + timedelta(days=25), 19, rng),
                            Kind.TRANSFER,
                            cents(rng, 150, 450, whole=True),
                            "Monthly savings",
                            user,
                            checking,
                            person.savings,
                        )
                    )
                for week in range(4):
                    for _ in range(rng.randint(1, 2)):
                        if grocer:
                            day = month + timedelta(days=week * 7 + rng.randint(0, 6))
                            card_payment(
                                self._at(day, rng.randint(9, 20), rng),
                                cents(rng, 18, 135),
                                grocer[0].holder.first_name,
                                checking,
                                grocer[1],
                            )
                for _ in range(rng.randint(1, 3)):
                    day = month + timedelta(days=rng.randint(0, 27))
                    card_payment(
                        self._at(day, rng.randint(7, 23), rng),
                        cents(rng, 4, 90),
                        rng.choice(merchants),
                        checking,
                    )
                if rng.random() < 0.6:
                    day = month + timedelta(days=rng.randint(0, 27))
                    add(
                        Posting(
                            self._at(day, rng.randint(10, 22), rng),
                            Kind.WITHDRAWAL,
                            rng.choice([40, 50, 60, 80, 100, 150]) * 100,
                            "Cash machine",
                            None,  # the machine, not a teller (nobody tellers their own account)
                            checking,
                            settlement[currency],
                        )
                    )
                for _ in range(rng.randint(0, 2)):
                    friend = rng.choice(friends)
                    if friend is not person:
                        day = month + timedelta(days=rng.randint(0, 27))
                        add(
                            Posting(
                                self._at(day, rng.randint(12, 23), rng),
                                Kind.TRANSFER,
                                cents(rng, 12, 180),
                                rng.choice(FRIENDLY),
                                user,
                                checking,
                                friend.checking,
                            )
                        )

        window_end = self.now - timedelta(minutes=10)
        postings = [p for p in postings if self.start <= p.at <= window_end]
        # Distinct times, oldest first: every balance_after is then the running sum in time order.
        postings.sort(key=lambda p: p.at)
        for earlier, later in itertools.pairwise(postings):
            if later.at <= earlier.at:
                later.at = earlier.at + timedelta(seconds=1)

        accounts = list(settlement.values())
        accounts += [b[3] for b in businesses.values()]
        for person in people:
            accounts += [a for a in (person.checking, person.savings, person.travel) if a]
        books = Books(accounts, staff=staff, verbosity=self.verbosity)
        self._freeze_some(people, books)
        return postings, books

    def _freeze_some(self, people: list[Person], books: Books) -> None:
        """A few customers' everyday accounts frozen by the back office at some point in the
        history: from then on nothing moves in or out of them."""
        if len(people) < 3:
            return
        span = self.now - self.start
        chosen = self.rng.sample(people[1:], max(1, len(people) // FROZEN_SHARE))
        for person in chosen:
            at = (self.start + span * self.rng.uniform(0.6, 0.97)).replace(microsecond=0)
            books.freeze(person.checking, at=at, reason=self.rng.choice(FREEZE_REASONS))

    def _openings_today(self, people: list[Person], staff: User) -> tuple[int, int]:
        """Customers added to a bank that already has history: an opening deposit today,
        through the ledger's own service (the bulk path only writes a history from empty)."""
        posted = refused = 0
        for person in tqdm(people, desc="Openings", disable=not (self.verbosity and people)):
            try:
                services.deposit(
                    account=person.checking,
                    amount=cents(self.rng, 500, 3000, whole=True),
                    initiated_by=staff,
                    description="Opening deposit",
                )
                posted += 1
            except BankError as error:
                refused += 1
                if self.verbosity > 1:
                    self.stderr.write(f"refused an opening deposit: {error.code}")
        return posted, refused

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
