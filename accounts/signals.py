"""Every path that changes a user's password or deactivates them ends their sessions: the
portal's password change, the admin's change form, password form and deactivate action, the
API, the shell. A `pre_save` receiver compares the row about to be written with the stored one
(one read, only when `password` or `is_active` may be written) and the `post_save` receiver
calls accounts.services.revoke_all_sessions in the same transaction as the save.

Setting a first password (the stored one is empty or unusable: no session could have been
started with it) is not a change. A hasher upgrade at login (Django re-hashes the same password
with more iterations after an upgrade) is one, and ends the user's other sessions once: the
safe side. A queryset `.update()` sends no signal; call revoke_all_sessions beside it.
"""

from django.contrib.auth.hashers import is_password_usable
from django.db.models.signals import post_save, pre_save

from accounts.models import User
from accounts.services import revoke_all_sessions

WATCHED = {"password", "is_active"}


def note_session_ending_change(sender, instance: User, raw=False, update_fields=None, **kwargs):
    instance._ends_sessions = False
    if raw or instance._state.adding:
        return
    if update_fields is not None and not WATCHED & set(update_fields):
        return
    stored = sender.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if stored is None:
        return
    old_password = stored["password"]
    password_changed = (
        bool(old_password)
        and is_password_usable(old_password)
        and old_password != instance.password
    )
    deactivated = stored["is_active"] and not instance.is_active
    instance._ends_sessions = password_changed or deactivated


def end_sessions(sender, instance: User, raw=False, **kwargs) -> None:
    if not raw and getattr(instance, "_ends_sessions", False):
        instance._ends_sessions = False
        revoke_all_sessions(user=instance)


def connect() -> None:
    pre_save.connect(note_session_ending_change, sender=User, dispatch_uid="sessions-pre-save")
    post_save.connect(end_sessions, sender=User, dispatch_uid="sessions-post-save")
