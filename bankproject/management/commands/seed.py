"""`manage.py seed`: a demo bank to click through. Idempotent: a second run changes nothing."""

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import register_customer

DEMO_PASSWORD = "demo-password-2026"
STAFF_PASSWORD = "staff-password-2026"
DEMO_LOGINS = [("demo@example.com", DEMO_PASSWORD, "Dana", "Demo")]
STAFF_LOGIN = ("staff@example.com", STAFF_PASSWORD)


class Command(BaseCommand):
    help = "Create the demo customers and a staff login (idempotent)."

    def handle(self, *args, **options):
        for email, password, first, last in DEMO_LOGINS:
            if not User.objects.filter(email=email).exists():
                register_customer(email=email, password=password, first_name=first, last_name=last)
        email, password = STAFF_LOGIN
        if not User.objects.filter(email=email).exists():
            User.objects.create_superuser(email, password)

        self.stdout.write("Demo logins:")
        for email, password, *_ in DEMO_LOGINS:
            self.stdout.write(f"  customer  {email}  /  {password}")
        self.stdout.write(f"  staff     {STAFF_LOGIN[0]}  /  {STAFF_LOGIN[1]}   (also /admin/)")
