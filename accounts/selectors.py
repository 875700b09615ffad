from uuid import UUID

from django.db.models import QuerySet

from accounts.models import Account, Holder, User
from bankproject.errors import NotFound


def profile_for(user: User) -> Holder:
    """The holder behind a login; staff created with createsuperuser start with a blank one."""
    return Holder.objects.select_related("user").filter(user=user).first() or Holder(user=user)


def accounts_for(user: User) -> QuerySet[Account]:
    """The caller's own accounts: the only accounts a customer can address by id."""
    return Account.objects.filter(holder__user=user).exclude(type=Account.Type.INTERNAL)


def account_get(*, user: User, id: UUID) -> Account:
    if account := accounts_for(user).filter(id=id).first():
        return account
    raise NotFound()  # someone else's account does not exist for you


def account_get_for_staff(*, id: UUID) -> Account:
    """Staff endpoints act on any customer's account (never the bank's own)."""
    account = (
        Account.objects.exclude(type=Account.Type.INTERNAL)
        .select_related("holder")
        .filter(id=id)
        .first()
    )
    if account is None:
        raise NotFound()
    return account


def payee_get(*, number: str) -> Account:
    """A customer account to pay into, found by its number. The payee's holder comes along,
    so a confirmation can name who will receive the money."""
    account = (
        Account.objects.exclude(type=Account.Type.INTERNAL)
        .select_related("holder")
        .filter(number=number)
        .first()
    )
    if account is None:
        raise NotFound("No account has this number.")
    return account
