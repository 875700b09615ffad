from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import api_urlpatterns as accounts_api
from accounts.urls import page_urlpatterns as accounts_pages
from cards.urls import api_urlpatterns as cards_api
from cards.urls import page_urlpatterns as cards_pages
from core import errors, health, pages
from ledger.urls import api_urlpatterns as ledger_api
from ledger.urls import page_urlpatterns as ledger_pages
from statements.urls import api_urlpatterns as statements_api
from statements.urls import page_urlpatterns as statements_pages

api_v1 = [
    *accounts_api,
    *ledger_api,
    *statements_api,
    *cards_api,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Last: any other path under /api/, in any verb, is the JSON 404, even with DEBUG on.
    # [\s\S], not `.`: a line break (%0A) in the path too; `.` stops at it (found by bin/fuzz).
    re_path(r"^[\s\S]*$", errors.api_not_found),
]

# The customer portal: server-rendered pages on session auth, from the same selectors and
# services as the API.
portal = [
    path("", pages.landing, name="landing"),
    *accounts_pages,
    *ledger_pages,
    *statements_pages,
    *cards_pages,
]

urlpatterns = [
    # First: an API request is resolved without trying the portal's patterns one by one
    # (none of which starts with api/), which was 40% of resolving it.
    path("api/v1/", include((api_v1, "api"))),
    path("", include((portal, "pages"))),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (Django admin's).
    path("favicon.ico", pages.favicon),
]

handler400 = "core.errors.handler400"
handler403 = "core.errors.handler403"
handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
