from django.urls import path
from rest_framework.routers import SimpleRouter

from ledger import pages
from ledger.views import AccountViewSet, ApprovalViewSet, TransferViewSet

# Path converters, so the viewsets' `lookup_value_converter = "uuid"` applies: an id that is not
# a UUID never reaches a query (where it would raise), it is the plain JSON 404.
router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("accounts", AccountViewSet, basename="account")
router.register("transfers", TransferViewSet, basename="transfer")
router.register("approvals", ApprovalViewSet, basename="approval")

api_urlpatterns = router.urls

# One resource or one list: the API's viewset again, rendered as a page (core/viewset_pages.py).
# The dashboard and the step-by-step forms are plain views (ledger/pages.py).
page_urlpatterns = [
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("accounts/new/", pages.account_new, name="account-new"),
    path(
        "accounts/<uuid:id>/",
        AccountViewSet.as_page({"get": "transactions"}, template_name="ledger/account_detail.html"),
        name="account",
    ),
    path(
        "transfers/",
        TransferViewSet.as_page({"get": "list"}, template_name="ledger/transfer_list.html"),
        name="transfers",
    ),
    path("transfers/new/", pages.transfer_new, name="transfer-new"),
    path("transfers/confirm/", pages.transfer_confirm, name="transfer-confirm"),
    path(
        "transfers/<uuid:id>/",
        TransferViewSet.as_page({"get": "retrieve"}, template_name="ledger/transfer_detail.html"),
        name="transfer",
    ),
]
