from django.contrib.admin.apps import AdminConfig


class BankAdminConfig(AdminConfig):
    """Django's admin with the bank's site (bankproject/admin_site.py). Its own module, with
    no import of the apps: INSTALLED_APPS loads it before any model exists."""

    default_site = "bankproject.admin_site.BankAdminSite"
