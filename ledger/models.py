import uuid
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Holder, User
from core.currencies import CURRENCY_CHOICES
from ledger.ids import uuid7
from ledger.numbers import format_account_number


class AccountQuerySet(models.QuerySet):
    """The two rules every read of accounts shares, each written here once."""

    def customer(self) -> "AccountQuerySet":
        """Customers' accounts: never the bank's own settlement accounts."""
        return self.exclude(type=Account.Type.INTERNAL)

    @staticmethod
    def holder_is(user: User) -> Q:
        """The ownership rule as a Q, for one query that combines it with others (the
        transfer's lock). Only customer accounts have a holder. When the user's holder is
        already known (`User.known_holder_id`, from an API token) the rule is `holder_id = that
        holder`: the same rows (a holder never changes user), without the join to the holder,
        which cost a third of an authenticated GET's own work and, in a transfer's lock,
        PostgreSQL a sixth of its work on the transfer (planning the join)."""
        holder_id = getattr(user, "known_holder_id", None)
        if holder_id is not None:
            return Q(holder_id=holder_id)
        return Q(holder__user=user)

    def held_by(self, user: User) -> "AccountQuerySet":
        """The accounts `user` holds: the only ones a customer can address by id. With a known
        holder, no NOT internal test either: only customer accounts have a holder (the
        `account_holder_iff_customer` constraint)."""
        if getattr(user, "known_holder_id", None) is not None:
            return self.filter(self.holder_is(user))
        return self.customer().filter(self.holder_is(user))


class Account(models.Model):
    """A bank account. `balance` is a cache of the sum of its ledger entries, written only by
    the ledger's services in the same database transaction as the entries."""

    class Type(models.TextChoices):
        CHECKING = "checking"
        SAVINGS = "savings"
        INTERNAL = "internal"  # the bank's own settlement account, one per currency

    class Status(models.TextChoices):
        ACTIVE = "active"
        FROZEN = "frozen"
        CLOSED = "closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=10, unique=True)
    holder = models.ForeignKey(
        Holder, models.PROTECT, null=True, blank=True, related_name="accounts"
    )
    type = models.CharField(max_length=10, choices=Type.choices)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    balance = models.BigIntegerField(default=0)  # minor units
    # Minor units held by open card authorisations (the cards app's holds): a cache of the sum
    # of their remaining amounts, written in the same locked transaction as the holds.
    held = models.BigIntegerField(default=0)
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.ACTIVE)
    nickname = models.CharField(max_length=140, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        permissions = [  # the staff actions on an account (ledger/permissions.py maps them)
            ("deposit", "Can deposit cash into a customer's account"),
            ("withdraw", "Can withdraw cash from a customer's account"),
            ("change_status", "Can freeze, unfreeze or close a customer's account"),
            ("approve", "Can approve a money movement above the approval limit"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(balance__gte=0) | models.Q(type="internal"),
                name="account_customer_balance_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(held__gte=0), name="account_held_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(balance__gte=models.F("held")) | models.Q(type="internal"),
                name="account_customer_available_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(type="internal", holder__isnull=True)
                | (~models.Q(type="internal") & models.Q(holder__isnull=False)),
                name="account_holder_iff_customer",
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=["checking", "savings", "internal"]),
                name="account_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "frozen", "closed"]),
                name="account_status_valid",
            ),
            models.UniqueConstraint(
                fields=["currency"],
                condition=models.Q(type="internal"),
                name="account_one_internal_per_currency",
            ),
        ]

    def __str__(self) -> str:
        return f"{format_account_number(self.number)} ({self.currency})"

    @property
    def is_internal(self) -> bool:
        return self.type == self.Type.INTERNAL

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def available_balance(self) -> int:
        """What can be spent: the balance less the money held by open card authorisations."""
        return self.balance - self.held

    def ledger_balance(self) -> int:
        """The account's balance by the books: `balance` for a customer's account; for the
        bank's own, `balance` plus its InternalBalance shards (one query)."""
        if not self.is_internal:
            return self.balance
        shards = self.internal_shards.aggregate(total=models.Sum("amount"))["total"]
        return self.balance + (shards or 0)


class AccountStatusChange(models.Model):
    """Who froze, unfroze or closed an account, when and why. Append-only."""

    account = models.ForeignKey(Account, models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=6, choices=Account.Status.choices)
    to_status = models.CharField(max_length=6, choices=Account.Status.choices)
    reason = models.CharField(max_length=500)
    changed_by = models.ForeignKey(User, models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.account}: {self.from_status} -> {self.to_status}"


class Transaction(models.Model):
    """One movement of money: two or more entries that sum to zero per currency. Immutable;
    a mistake is undone by a reversal transaction."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer"
        DEPOSIT = "deposit"
        WITHDRAWAL = "withdrawal"
        CARD_PAYMENT = "card_payment"
        REVERSAL = "reversal"

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.CharField(max_length=140, blank=True)
    initiated_by = models.ForeignKey(User, models.PROTECT, null=True, related_name="+")
    reverses = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        permissions = [("reverse", "Can reverse a transaction")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=["transfer", "deposit", "withdrawal", "card_payment", "reversal"]
                ),
                name="transaction_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="transaction_reversal_names_original",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id}"


class Entry(models.Model):
    """One leg of a transaction on one account, in signed minor units (+ credit, - debit).

    `balance_after` is the account's running balance after this entry, so history and
    statements never re-sum the past. The bank's own accounts keep none (NULL): they are
    posted to without a lock (see InternalBalance), so no order of their entries is a
    running order. `counterparty` is the other leg's account (fixed at
    posting), so a history line names who paid or was paid without reading other entries.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    transaction = models.ForeignKey(Transaction, models.PROTECT, related_name="entries")
    # No index of its own: `entry_account_history` starts with the account and serves every
    # lookup by it (the foreign key's PROTECT check too), so a second one only cost writes.
    account = models.ForeignKey(Account, models.PROTECT, related_name="entries", db_index=False)
    counterparty = models.ForeignKey(
        Account, models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    balance_after = models.BigIntegerField(null=True, blank=True)  # NULL: the bank's own
    created_at = models.DateTimeField()  # the database's clock after the posting's locks

    class Meta:
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="entry_account_history"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.currency} on {self.account_id}"


class InternalBalance(models.Model):
    """One shard of a bank's own account's balance. Deposits, withdrawals and card payments
    all touch the settlement account of their currency; had they all locked and updated its
    one row, every such posting in the bank would queue on it. The bank's own accounts have no
    balance check to protect, so `ledger.services.post` never locks them: it adds each
    internal leg to one of `SHARDS` rows picked at random (an upsert, so a missing shard is
    made), and concurrent postings rarely meet on the same row.

    An internal account's balance is `Account.balance` (frozen at what it was before the
    shards existed, so no data migration moved money) plus the sum of its shards:
    `Account.ledger_balance()`, and what `ledger_check` proves against its entries."""

    SHARDS = 16

    account = models.ForeignKey(Account, models.PROTECT, related_name="internal_shards")
    shard = models.PositiveSmallIntegerField()
    amount = models.BigIntegerField(default=0)  # signed minor units

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "shard"], name="internal_balance_one_row_per_shard"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} shard {self.shard}: {self.amount:+d}"


class ApprovalRequestQuerySet(models.QuerySet):
    """Reads by the status a person sees (`current_status`): a pending request past its
    `expires_at` is expired whether or not a decision has stored that yet."""

    def with_status(self, status: str) -> "ApprovalRequestQuerySet":
        now = timezone.now()
        pending = Q(status=ApprovalRequest.Status.PENDING)
        if status == ApprovalRequest.Status.PENDING:
            return self.filter(pending, expires_at__gt=now)
        if status == ApprovalRequest.Status.EXPIRED:
            return self.filter(Q(status=status) | (pending & Q(expires_at__lte=now)))
        return self.filter(status=status)

    def open_first(self) -> "ApprovalRequestQuerySet":
        """The back office's order: what still waits for a decision first, newest first."""
        waiting = Q(status=ApprovalRequest.Status.PENDING, expires_at__gt=timezone.now())
        return self.annotate(
            waits=models.Case(
                models.When(waiting, then=models.Value(0)),
                default=models.Value(1),
                output_field=models.IntegerField(),
            )
        ).order_by("waits", "-created_at", "-id")


class ApprovalRequest(models.Model):
    """A person's deposit, withdrawal or reversal above the approval limit, waiting for a
    second person (four eyes). Nothing is posted when it is made; an approver's decision posts
    it through the same service, with the rules checked again then, and links the posting
    (`transaction`): who approved a transaction is its request's `decided_by`."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit"
        WITHDRAWAL = "withdrawal"
        REVERSAL = "reversal"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        EXPIRED = "expired"

    LIFETIME = timedelta(hours=24)  # API.md: a pending request expires after 24 h

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    account = models.ForeignKey(Account, models.PROTECT, related_name="approval_requests")
    amount = models.BigIntegerField()  # minor units
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=140)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(User, models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(User, models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    # a reversal's original; the account above is the customer's side the reversal debits
    reverses = models.ForeignKey(
        Transaction, models.PROTECT, null=True, blank=True, related_name="+"
    )
    # what the approval posted
    transaction = models.OneToOneField(
        Transaction, models.PROTECT, null=True, blank=True, related_name="approval"
    )
    decision_reason = models.CharField(max_length=500, blank=True)  # why it was rejected

    objects = ApprovalRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="approval_amount_positive"),
            models.CheckConstraint(
                condition=Q(kind__in=["deposit", "withdrawal", "reversal"]),
                name="approval_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "rejected", "expired"]),
                name="approval_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False)
                | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="approval_reversal_names_original",
            ),
            models.CheckConstraint(
                condition=Q(status="approved", transaction__isnull=False, decided_by__isnull=False)
                | (~Q(status="approved") & Q(transaction__isnull=True)),
                name="approval_approved_iff_posted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of {self.amount} {self.currency} on {self.account_id}"

    @property
    def current_status(self) -> str:
        """`expired` once a pending request is past `expires_at`, without a job to mark it."""
        if self.status == self.Status.PENDING and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.status


class LedgerCheckRun(models.Model):
    """One run of `manage.py ledger_check` and what it found, so the back office's front page
    can show the last proof of the books. Written by the command, never edited."""

    id = models.BigAutoField(primary_key=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    transactions = models.BigIntegerField()
    entries = models.BigIntegerField()
    accounts = models.BigIntegerField()
    report = models.JSONField(default=dict)  # check -> the problems it listed

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"ledger check {self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"

    @property
    def problem_count(self) -> int:
        return sum(len(problems) for problems in self.report.values())


class IdempotencyKey(models.Model):
    """A money-moving request's `Idempotency-Key`, the fingerprint of its request and the
    response it got. Written in the same database transaction as the posting: a retry finds
    the finished response or nothing at all."""

    id = models.BigAutoField(primary_key=True)
    scope = models.CharField(max_length=64)  # "user:<uuid>" or "card:<uuid>"
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    # Not indexed: nothing looks a key up by its transaction (transactions are never deleted,
    # so PROTECT never asks either), and without an index on it the UPDATE that stores the
    # answer changes no indexed column, so PostgreSQL can write it as a heap-only tuple.
    transaction = models.ForeignKey(
        Transaction, models.PROTECT, null=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="idempotency_key_unique_per_scope"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"
