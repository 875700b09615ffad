from django.urls import path
from rest_framework.routers import SimpleRouter

from ledger import pages
from ledger.views import AccountViewSet, TransferViewSet

# Path converters, so the viewsets' `lookup_value_converter = "uuid"` applies: an id that is not
# a UUID never reaches a query (where it would raise), it is the plain JSON 404.
router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("accounts", AccountViewSet, basename="account")
router.register("transfers", TransferViewSet, basename="transfer")

api_urlpatterns = router.urls

page_urlpatterns = [
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("accounts/new/", pages.account_new, name="account-new"),
    path("accounts/<uuid:id>/", pages.account_detail, name="account"),
    path("transfers/new/", pages.transfer_new, name="transfer-new"),
    path("transfers/confirm/", pages.transfer_confirm, name="transfer-confirm"),
    path("transfers/<uuid:id>/", pages.transfer_detail, name="transfer"),
]
