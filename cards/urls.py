from django.urls import path
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.routers import SimpleRouter

from cards.views import CardAuthorizationViewSet, CardPaymentViewSet, CardViewSet

router = SimpleRouter(trailing_slash=True, use_regex_path=False)
router.register("cards", CardViewSet, basename="card")
router.register("card-payments", CardPaymentViewSet, basename="card-payment")
router.register("card-authorizations", CardAuthorizationViewSet, basename="card-authorization")

api_urlpatterns = router.urls


def _page(actions: dict, template: str):
    """The cards viewset as a page; its forms post form-encoded fields."""
    return CardViewSet.as_page(
        actions,
        template_name=f"cards/{template}.html",
        parser_classes=[FormParser, MultiPartParser],
    )


page_urlpatterns = [
    path("cards/", _page({"get": "list", "post": "create"}, "list"), name="cards"),
    path(
        "cards/<uuid:id>/",
        _page({"get": "retrieve", "post": "partial_update"}, "card"),
        name="card",
    ),
    path("cards/<uuid:id>/freeze/", _page({"post": "freeze"}, "card"), name="card-freeze"),
    path("cards/<uuid:id>/unfreeze/", _page({"post": "unfreeze"}, "card"), name="card-unfreeze"),
    path(
        "cards/<uuid:id>/cancel/",
        _page({"get": "retrieve", "post": "cancel"}, "cancel_confirm"),
        name="card-cancel",
    ),
]
