"""The bank's admin site: branded, and a front page that starts with what needs attention
(pending approvals, frozen accounts, the last proof of the books). Installed as the default
site by `bankproject.apps.BankAdminConfig`, so every app's `admin.register` lands here."""

from django.contrib import admin

from ledger.selectors import needs_attention


class BankAdminSite(admin.AdminSite):
    site_header = "Northwind Bank · back office"
    site_title = "Northwind Bank back office"
    index_title = "Back office"
    index_template = "admin/bank_index.html"

    def index(self, request, extra_context=None):
        return super().index(request, {"attention": needs_attention(), **(extra_context or {})})
