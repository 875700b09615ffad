from rest_framework.routers import SimpleRouter

from ledger.views import AccountViewSet, TransferViewSet

router = SimpleRouter(trailing_slash=True)
router.register("accounts", AccountViewSet, basename="account")
router.register("transfers", TransferViewSet, basename="transfer")

api_urlpatterns = router.urls
