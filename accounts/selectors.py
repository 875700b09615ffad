from accounts.models import Holder, User


def profile_for(user: User) -> Holder:
    """The holder behind a login; staff created with createsuperuser start with a blank one."""
    return Holder.objects.select_related("user").filter(user=user).first() or Holder(user=user)
