from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.urls import api_urlpatterns as accounts_api
from bankproject import errors, health
from ledger.urls import api_urlpatterns as ledger_api

api_v1 = [
    *accounts_api,
    *ledger_api,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Last: any other path under /api/ is the JSON 404, even with DEBUG on.
    re_path(r"^.*$", errors.handler404),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/v1/", include((api_v1, "api"))),
    path("admin/", admin.site.urls),
]

handler400 = "bankproject.errors.handler400"
handler403 = "bankproject.errors.handler403"
handler404 = "bankproject.errors.handler404"
handler500 = "bankproject.errors.handler500"
