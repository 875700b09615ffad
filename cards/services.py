"""Every write of the cards app: issuing, the lifecycle, the staff freeze and card payments.

A card payment (`pay`) is two steps, because a refusal must still leave a trace:

1. `verify_card`: the card data is the credential. The number's fingerprint under every key,
   one HMAC for the CVC and one UPDATE that counts a failure happen whatever is presented, so
   an unknown number, a wrong expiry and a wrong CVC cost the same and answer the same
   (`InvalidCardError`). The failure count commits in its own transaction even though the
   payment is refused; the fifth failure in a UTC day freezes the card, in the same UPDATE.
2. `_post_payment`, one durable transaction: the ledger's `card_debit` claims the idempotency
   key (scoped to the card), locks the card's account, then `ensure_card_can_pay` checks the
   card under that lock (status, expiry, daily limit), then the ledger checks the account;
   the posting and its `CardPayment` row commit together, or nothing does.

The daily limit is `spent_today` (approved direct payments and authorisations since 00:00
UTC) plus the new amount, checked under the account's lock, so concurrent payments queue and
cannot overrun it.

Authorisations (holds): `authorize` runs the same card checks as `pay`, then the ledger's
`place_hold` holds the amount of the account's available balance and a `CardAuthorization`
records it, in one durable transaction. `capture`, `void` and `expire_holds` each lock the
account first (the ledger's lock, the one every posting takes), then the authorisation's row,
so they serialise with each other and with every payment and transfer on the account; what
they release comes off the account's `held` in the same transaction as the status change.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Sum, Value, When
from django.utils import timezone

from accounts.models import User
from audit import services as audit
from audit.models import AuditRecord
from cards import keys
from cards.errors import (
    AuthorizationClosedError,
    CardExpiredError,
    CardInactiveError,
    CardInsufficientFundsError,
    CardLimitExceededError,
    CardNotActiveError,
    InvalidCardError,
)
from cards.models import Card, CardAuthorization, CardPayment
from core.errors import NotFound, ValidationFailed
from ledger import posting_sql
from ledger import services as ledger
from ledger.errors import AccountInactiveError, InsufficientFundsError
from ledger.idempotency import Idempotency
from ledger.models import Account, Transaction

Status = Card.Status


@dataclass(frozen=True)
class IssuedCard:
    """A new card with its number and CVC: shown once, in the answer to the issue, and never
    kept anywhere."""

    card: Card
    pan: str
    cvc: str


def today_utc() -> date:
    return timezone.now().astimezone(UTC).date()


def ensure_daily_limit(daily_limit: int) -> int:
    if (
        isinstance(daily_limit, bool)
        or not isinstance(daily_limit, int)
        or not 0 < daily_limit <= settings.CARD_DAILY_LIMIT_MAX
    ):
        raise ValidationFailed(
            {"daily_limit": [f"Must be a whole number from 1 to {settings.CARD_DAILY_LIMIT_MAX}."]}
        )
    return daily_limit


# --- issuing and the lifecycle ----------------------------------------------------------------


@transaction.atomic(durable=True)
def issue_card(*, owner: User, account_id: UUID, daily_limit: int | None = None) -> IssuedCard:
    """A debit card on an active account `owner` holds (NotFound for anyone else's): a number
    from the bank's BIN drawn from a CSPRNG, valid CARD_VALID_YEARS years."""
    account = Account.objects.held_by(owner).filter(pk=account_id).first()
    if account is None:
        raise NotFound()
    if not account.is_active:
        raise AccountInactiveError()
    limit = ensure_daily_limit(
        settings.CARD_DAILY_LIMIT_DEFAULT if daily_limit is None else daily_limit
    )
    now = timezone.now()
    month, year = now.month, now.year + settings.CARD_VALID_YEARS
    key_id = keys.current_key_id()
    for _attempt in range(10):
        pan = keys.new_pan()
        if Card.objects.filter(fingerprint__in=keys.fingerprints(pan)).exists():
            continue  # this number is taken (under any key): draw another
        try:
            with transaction.atomic():
                card = Card.objects.create(
                    account=account,
                    last4=pan[-4:],
                    fingerprint=keys.fingerprint(pan, key_id),
                    key_id=key_id,
                    expiry_month=month,
                    expiry_year=year,
                    daily_limit=limit,
                    created_at=now,
                )
        except IntegrityError:  # drawn by a concurrent issue a moment ago
            continue
        return IssuedCard(card=card, pan=pan, cvc=keys.cvc_for(pan, month, year))
    raise RuntimeError("Could not draw a free card number.")


def _lock(card: Card) -> Card:
    locked = Card.objects.select_for_update().get(pk=card.pk)
    if locked.status == Status.CANCELLED:
        raise CardInactiveError()
    return locked


def _set_status(card: Card, status: str) -> Card:
    locked = _lock(card)
    if locked.status != status:
        locked.status = status
        locked.save(update_fields=["status"])
    return locked


@transaction.atomic(durable=True)
def freeze_card(*, card: Card) -> Card:
    """The holder's freeze: payments are declined until it is unfrozen. The account is not
    touched."""
    return _set_status(card, Status.FROZEN)


@transaction.atomic(durable=True)
def unfreeze_card(*, card: Card) -> Card:
    """The holder's unfreeze, which also clears the day's wrong CVCs: the holder, signed in,
    vouches for the card again."""
    locked = _set_status(card, Status.ACTIVE)
    if locked.cvc_failures:
        locked.cvc_failures = 0
        locked.save(update_fields=["cvc_failures"])
    return locked


@transaction.atomic(durable=True)
def cancel_card(*, card: Card) -> Card:
    """Final: any later action on the card is CardInactiveError."""
    return _set_status(card, Status.CANCELLED)


@transaction.atomic(durable=True)
def set_daily_limit(*, card: Card, daily_limit: int) -> Card:
    ensure_daily_limit(daily_limit)
    locked = _lock(card)
    locked.daily_limit = daily_limit
    locked.save(update_fields=["daily_limit"])
    return locked


@transaction.atomic(durable=True)
def staff_freeze_card(*, card: Card, reason: str, by: User | None) -> Card:
    """Back office freezes a card (the admin): a reason, never a card on one's own account,
    and an audit record in the same transaction."""
    ledger.ensure_staff_rules(by=by, accounts=[card.account], why=reason, field="reason")
    was = _lock(card).status
    locked = _set_status(card, Status.FROZEN)
    audit.record(
        actor=by,
        action=AuditRecord.Action.FREEZE,
        target_type=AuditRecord.Target.CARD,
        target_id=locked.pk,
        target_label=str(locked),
        reason=reason,
        details={"from_status": was, "to_status": Status.FROZEN, "account": str(card.account_id)},
    )
    return locked


# --- payments ---------------------------------------------------------------------------------


def verify_card(*, pan: str, expiry_month: int, expiry_year: int, cvc: str) -> Card:
    """The card these card data name, or InvalidCardError, at the same cost either way.

    A card blocked by wrong CVCs today answers InvalidCardError even to the right data, until
    the day ends or its holder unfreezes it: otherwise a guesser who froze it with five wrong
    CVCs could go on guessing and know the right one by its different refusal
    (`card_inactive`)."""
    prints = keys.fingerprints(pan)
    card = Card.objects.select_related("account").filter(fingerprint__in=prints).first()
    cvc_ok = keys.cvc_matches(pan, expiry_month, expiry_year, cvc)
    expiry_ok = card is not None and (card.expiry_month, card.expiry_year) == (
        expiry_month,
        expiry_year,
    )
    if card is not None and cvc_ok and expiry_ok and not _blocked(card):
        return card
    _count_failure(prints)  # one UPDATE, of no row when the number is unknown
    raise InvalidCardError()


def _blocked(card: Card) -> bool:
    return (
        card.cvc_failures_on == today_utc()
        and card.cvc_failures >= settings.CARD_CVC_FAILURES_TO_FREEZE
    )


@transaction.atomic(durable=True)
def _count_failure(prints: list[str]) -> None:
    """Count a wrong CVC or expiry for the card (if any) with these fingerprints: committed
    on its own, the refusal does not roll it back. The fifth today freezes an active card."""
    today = today_utc()
    already = Q(cvc_failures_on=today)
    freeze_now = already & Q(cvc_failures__gte=settings.CARD_CVC_FAILURES_TO_FREEZE - 1)
    Card.objects.filter(fingerprint__in=prints).update(
        cvc_failures=Case(When(already, then=F("cvc_failures") + 1), default=Value(1)),
        cvc_failures_on=today,
        status=Case(
            When(freeze_now & Q(status=Status.ACTIVE), then=Value(Status.FROZEN)),
            default=F("status"),
        ),
    )


def spent_today(card: Card, today: date) -> int:
    """What counts toward the card's daily limit today: its approved direct payments and its
    approved authorisations (their whole amount, whatever became of them) since 00:00 UTC.
    A capture's payment is not counted again. Read under the card's account lock."""
    start = datetime.combine(today, time.min, tzinfo=UTC)
    paid = CardPayment.objects.filter(
        card=card, authorization__isnull=True, created_at__gte=start
    ).aggregate(total=Sum("amount"))["total"]
    authorised = CardAuthorization.objects.filter(card=card, created_at__gte=start).aggregate(
        total=Sum("amount")
    )["total"]
    return (paid or 0) + (authorised or 0)


def ensure_card_can_pay(card: Card, amount: int) -> Card:
    """The card's rules, read fresh under the account's lock: active, not expired, within its
    daily limit. Returns the card as locked."""
    locked = Card.objects.select_for_update().get(pk=card.pk)
    today = today_utc()
    if locked.status != Status.ACTIVE:
        raise CardNotActiveError()
    if locked.expired_on(today):
        raise CardExpiredError()
    if spent_today(locked, today) + amount > locked.daily_limit:
        raise CardLimitExceededError()
    return locked


def card_scope(card: Card) -> str:
    return f"card:{card.pk}"


def pay(
    *,
    pan: str,
    expiry_month: int,
    expiry_year: int,
    cvc: str,
    amount: int,
    merchant: str,
    idempotency: Idempotency | None = None,
) -> Transaction:
    """A merchant's card payment: the transaction posted (its id is the payment's), or a
    CardDeclinedError subclass with nothing posted. An idempotency key is scoped to the card,
    which only the card data name: its scope is set here."""
    card = verify_card(pan=pan, expiry_month=expiry_month, expiry_year=expiry_year, cvc=cvc)
    if idempotency is not None:
        idempotency.scope = card_scope(card)
    return _post_payment(card=card, amount=amount, merchant=merchant, idempotency=idempotency)


@transaction.atomic(durable=True)
def _post_payment(
    *, card: Card, amount: int, merchant: str, idempotency: Idempotency | None
) -> Transaction:
    try:
        txn = ledger.card_debit(
            account=card.account,
            amount=amount,
            merchant=merchant,
            check=lambda account: ensure_card_can_pay(card, amount),
            idempotency=idempotency,
        )
    except AccountInactiveError:  # a frozen or closed account declines its cards
        raise CardNotActiveError() from None
    except InsufficientFundsError:
        raise CardInsufficientFundsError() from None
    CardPayment.objects.create(
        id=txn.pk,
        card=card,
        transaction=txn,
        amount=amount,
        currency=card.account.currency,
        merchant=merchant,
        created_at=txn.created_at,
    )
    return txn


# --- authorisations (holds) ---------------------------------------------------------------------


def authorize(
    *,
    pan: str,
    expiry_month: int,
    expiry_year: int,
    cvc: str,
    amount: int,
    merchant: str,
    idempotency: Idempotency | None = None,
) -> CardAuthorization:
    """A merchant's authorisation: the pending hold, or a CardDeclinedError subclass with
    nothing held. The same checks as `pay`, against the available balance."""
    card = verify_card(pan=pan, expiry_month=expiry_month, expiry_year=expiry_year, cvc=cvc)
    if idempotency is not None:
        idempotency.scope = card_scope(card)
    return _hold(card=card, amount=amount, merchant=merchant, idempotency=idempotency)


@transaction.atomic(durable=True)
def _hold(
    *, card: Card, amount: int, merchant: str, idempotency: Idempotency | None
) -> CardAuthorization:
    try:
        account = ledger.place_hold(
            account=card.account,
            amount=amount,
            check=lambda account: ensure_card_can_pay(card, amount),
            idempotency=idempotency,
        )
    except AccountInactiveError:
        raise CardNotActiveError() from None
    except InsufficientFundsError:
        raise CardInsufficientFundsError() from None
    now = timezone.now()
    authorization = CardAuthorization.objects.create(
        card=card,
        account=account,
        amount=amount,
        currency=account.currency,
        merchant=merchant,
        expires_at=now + settings.HOLD_LIFETIME,
        created_at=now,
    )
    if idempotency is not None:
        posting_sql.send([idempotency.completion(authorization)])
    return authorization


def _lock_open(card: Card, authorization_id: UUID) -> tuple[Account, CardAuthorization]:
    """The card's authorisation `authorization_id` (NotFound for another card's), its account
    locked first, then its own row; AuthorizationClosedError unless it still holds money and
    has not expired."""
    found = CardAuthorization.objects.filter(card=card, pk=authorization_id).first()
    if found is None:
        raise NotFound()  # another card's authorisation does not exist for this one
    account = ledger.lock_account(found.account_id)
    locked = CardAuthorization.objects.select_for_update().get(pk=found.pk)
    if locked.status != CardAuthorization.Status.PENDING or locked.expires_at <= timezone.now():
        raise AuthorizationClosedError()
    return account, locked


def capture(
    *,
    authorization_id: UUID,
    pan: str,
    expiry_month: int,
    expiry_year: int,
    cvc: str,
    amount: int | None = None,
    idempotency: Idempotency | None = None,
) -> tuple[CardAuthorization, Transaction]:
    """Capture `amount` (default: all that remains) of an open authorisation: one card
    payment posted and that part of the hold released, atomically. The hold is closed when
    nothing remains. ValidationFailed for more than remains."""
    card = verify_card(pan=pan, expiry_month=expiry_month, expiry_year=expiry_year, cvc=cvc)
    if idempotency is not None:
        idempotency.scope = card_scope(card)
    return _capture(
        card=card, authorization_id=authorization_id, amount=amount, idempotency=idempotency
    )


@transaction.atomic(durable=True)
def _capture(
    *, card: Card, authorization_id: UUID, amount: int | None, idempotency: Idempotency | None
) -> tuple[CardAuthorization, Transaction]:
    if idempotency is not None:
        idempotency.claim()
    account, authorization = _lock_open(card, authorization_id)
    remaining = authorization.remaining
    amount = remaining if amount is None else amount
    if not 0 < amount <= remaining:
        raise ValidationFailed({"amount": [f"Must be from 1 to what remains held: {remaining}."]})
    authorization.captured_amount += amount
    if authorization.captured_amount == authorization.amount:
        authorization.status = CardAuthorization.Status.CLOSED
    authorization.save(update_fields=["captured_amount", "status"])
    txn = ledger.capture_hold(account=account, amount=amount, merchant=authorization.merchant)
    CardPayment.objects.create(
        id=txn.pk,
        card=card,
        transaction=txn,
        authorization=authorization,
        amount=amount,
        currency=account.currency,
        merchant=authorization.merchant,
        created_at=txn.created_at,
    )
    if idempotency is not None:  # its answer names the payment: stored once that is written
        posting_sql.send([idempotency.completion(txn)])
    return authorization, txn


def void(
    *, authorization_id: UUID, pan: str, expiry_month: int, expiry_year: int, cvc: str
) -> CardAuthorization:
    """The merchant lets the rest of an open authorisation go: what remains is released."""
    card = verify_card(pan=pan, expiry_month=expiry_month, expiry_year=expiry_year, cvc=cvc)
    return _void(card=card, authorization_id=authorization_id)


@transaction.atomic(durable=True)
def _void(*, card: Card, authorization_id: UUID) -> CardAuthorization:
    account, authorization = _lock_open(card, authorization_id)
    ledger.release_hold(account=account, amount=authorization.remaining)
    authorization.status = CardAuthorization.Status.VOIDED
    authorization.save(update_fields=["status"])
    return authorization


def expire_holds(*, now: datetime | None = None) -> int:
    """Release every pending hold past its `expires_at`; the number released. Each hold in its
    own transaction, account locked first as a capture does; a hold another process has locked
    is skipped (it is being captured, voided or expired: the next run sees what it became),
    and a hold no longer pending is left alone, so runs may overlap and repeat."""
    now = now or timezone.now()
    due = CardAuthorization.objects.open().filter(expires_at__lte=now).order_by("expires_at")
    # Read whole before the first release: no cursor stays open across the transactions.
    due = list(due.values_list("pk", "account_id"))
    return sum(
        _expire_one(authorization_id=pk, account_id=account_id, now=now) for pk, account_id in due
    )


@transaction.atomic(durable=True)
def _expire_one(*, authorization_id: UUID, account_id: UUID, now: datetime) -> bool:
    account = ledger.lock_account(account_id)
    authorization = (
        CardAuthorization.objects.select_for_update(skip_locked=True)
        .filter(pk=authorization_id, status=CardAuthorization.Status.PENDING, expires_at__lte=now)
        .first()
    )
    if authorization is None:
        return False
    ledger.release_hold(account=account, amount=authorization.remaining)
    authorization.status = CardAuthorization.Status.EXPIRED
    authorization.save(update_fields=["status"])
    return True


def open_holds_by_account():
    """For `ledger_check` (registered in `cards.apps`): what each account's open holds hold."""
    return (
        CardAuthorization.objects.open()
        .values("account_id")
        .annotate(total=Sum(F("amount") - F("captured_amount")))
        .values_list("account_id", "total")
        .order_by()
    )
