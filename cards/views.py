"""The cards API, and the cards pages: the same viewset mounted again as pages
(`core/viewset_pages.py`). On a page, the issue and limit forms are typed in the account's
currency and parsed by the page's forms; the service they call is the API's."""

import uuid

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from cards import services
from cards.errors import InvalidCardError
from cards.forms import CardIssueForm, CardLimitForm
from cards.models import Card
from cards.selectors import accounts_to_issue_on, card_get, cards_for, recent_payments
from cards.serializers import (
    CaptureInput,
    CaptureOutput,
    CardAuthorizationOutput,
    CardDataInput,
    CardIssueInput,
    CardOutput,
    CardPatchInput,
    CardPaymentInput,
    CardPaymentOutput,
    IssuedCardOutput,
    authorization_response,
    capture_response,
    issued_card_data,
    payment_response,
)
from core import ratelimit
from core.clients import client_address
from core.errors import ValidationFailed
from core.pages import show_refusal
from core.schema import bank_errors
from core.viewset_pages import PageMixin
from ledger.idempotency import Idempotency
from ledger.selectors import accounts_for
from ledger.views import CONFLICT, IDEMPOTENCY_HEADER, answer

CANCELLED = "`card_inactive`: the card is cancelled; cancelling is final."
DECLINED = (
    "`card_declined`: nothing was posted; `details.reason` is `invalid_card` (unknown number, "
    "wrong expiry or wrong CVC, indistinguishable), `card_inactive` (card or account frozen, "
    "closed or cancelled), `card_expired`, `insufficient_funds` or `limit_exceeded`."
)
CLOSED = (
    "`authorization_closed`: the authorisation holds nothing any more (fully captured, "
    "voided or expired)."
)
INVALID = "`card_declined` with `details.reason` `invalid_card`: the card data are not the card's."
ISSUE_TOKEN_TTL = 24 * 3600  # seconds
PAGE_DONE = {
    "freeze": "Your card is frozen. Payments with it are declined until you unfreeze it.",
    "unfreeze": "Your card is active again.",
    "cancel": "Your card is cancelled. It can no longer be used.",
    "partial_update": "The daily limit is changed.",
}


def _form_errors(form) -> ValidationFailed:
    return ValidationFailed({name: list(errors) for name, errors in form.errors.items()})


@extend_schema(tags=["cards"])
class CardViewSet(
    PageMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = CardOutput
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Card.objects.none()
        return cards_for(self.request.user)

    def get_object(self):
        return card_get(user=self.request.user, id=self.kwargs["pk"])

    # --- the page -------------------------------------------------------------------------

    def _issue_form(self, data=None) -> CardIssueForm:
        return CardIssueForm(data, accounts=accounts_to_issue_on(self.request.user))

    def _limit_form(self, card: Card, data=None) -> CardLimitForm:
        return CardLimitForm(data, currency=card.account.currency)

    def page_context(self, data: dict) -> dict:
        if self.action in ("list", "create"):
            results = data.get("results")
            if results is None:  # after issuing: the list below the new card
                results = CardOutput(self.get_queryset(), many=True).data
            accounts = {str(a.pk): a for a in accounts_for(self.request.user)}
            return {
                "issue_form": getattr(self, "bound_form", None) or self._issue_form(),
                "issue_token": uuid.uuid4().hex,
                "rows": [
                    {"card": row, "account": accounts[str(row["account"])]} for row in results
                ],
            }
        card = self.get_object()
        return {
            "card": CardOutput(card).data,
            "account": card.account,
            "payments": recent_payments(card),
            "limit_form": getattr(self, "bound_form", None) or self._limit_form(card),
        }

    def page_refusal(self, error: ValidationFailed) -> dict | None:
        form = getattr(self, "bound_form", None)
        if self.action not in ("create", "partial_update") or form is None:
            return None
        if form.is_valid():  # the form passed, the service refused (a limit above the maximum)
            show_refusal(form, error)
        data: dict = {}
        data.update(self.page_context(data))
        return data

    def _page_input(self, form) -> dict:
        """A page's form as the API's input, or its errors shown beside its fields."""
        self.bound_form = form
        if not form.is_valid():
            raise _form_errors(form)
        return {k: v for k, v in form.cleaned_data.items() if v is not None}

    def _once(self, request: Request) -> None:
        """The page's issue form carries a one-time token: sending it again (a reload of the
        page that showed the number) issues no second card. The number itself cannot be shown
        again, so the answer says so instead. Only the token is kept, in the shared cache."""
        token = str(request.data.get("issue_token", ""))[:64]
        if not token or not cache.add(f"card-issue:{request.user.pk}:{token}", 1, ISSUE_TOKEN_TTL):
            self.bound_form.add_error(
                None,
                "This form was already sent and its card issued; its number was shown once. "
                "To get another card, use this form again.",
            )
            raise _form_errors(self.bound_form)

    def _done(self, request: Request, card: Card) -> Response:
        if self.is_page:
            messages.success(request._request, PAGE_DONE[self.action])
            return redirect("pages:card", id=card.pk)
        return Response(CardOutput(card).data)

    # --- the API --------------------------------------------------------------------------

    @extend_schema(summary="Your cards")
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=CardIssueInput,
        responses={
            201: IssuedCardOutput,
            **bank_errors(s422="`account_inactive`: the account is frozen or closed."),
        },
        summary="Issue a debit card on one of your accounts; the number and CVC appear once",
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        if self.is_page:
            v = self._page_input(self._issue_form(request.data))
            self._once(request)
        else:
            s = CardIssueInput(data=request.data)
            s.is_valid(raise_exception=True)
            v = s.validated_data
        issued = services.issue_card(
            owner=request.user, account_id=v["account"], daily_limit=v.get("daily_limit")
        )
        return Response(issued_card_data(issued), status=status.HTTP_201_CREATED)

    @extend_schema(summary="One of your cards")
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=CardPatchInput,
        responses={200: CardOutput, **bank_errors(s422=CANCELLED)},
        summary="Change a card's daily limit, within the bank's maximum",
    )
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        card = self.get_object()
        if self.is_page:
            v = self._page_input(self._limit_form(card, request.data))
        else:
            s = CardPatchInput(data=request.data)
            s.is_valid(raise_exception=True)
            v = s.validated_data
        card = services.set_daily_limit(card=card, daily_limit=v["daily_limit"])
        return self._done(request, card)

    @extend_schema(
        request=None,
        responses={200: CardOutput, **bank_errors(s422=CANCELLED)},
        summary="Freeze a card: its payments are declined until it is unfrozen",
    )
    @action(detail=True, methods=["post"])
    def freeze(self, request: Request, pk=None) -> Response:
        return self._done(request, services.freeze_card(card=self.get_object()))

    @extend_schema(
        request=None,
        responses={200: CardOutput, **bank_errors(s422=CANCELLED)},
        summary="Unfreeze a card",
    )
    @action(detail=True, methods=["post"])
    def unfreeze(self, request: Request, pk=None) -> Response:
        return self._done(request, services.unfreeze_card(card=self.get_object()))

    @extend_schema(
        request=None,
        responses={200: CardOutput, **bank_errors(s422=CANCELLED)},
        summary="Cancel a card for good",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None) -> Response:
        return self._done(request, services.cancel_card(card=self.get_object()))


@extend_schema(tags=["cards"])
class CardPaymentViewSet(viewsets.GenericViewSet):
    """No login: the card data is the credential, as at a merchant. Declines that say
    `invalid_card` are counted per client address (RATE_LIMITS["card_invalid"]): past the
    limit, that address gets 429 before its card data are even looked at."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "card_payment"
    serializer_class = CardPaymentOutput

    @extend_schema(
        request=CardPaymentInput,
        responses={
            201: CardPaymentOutput,
            **bank_errors(s402=DECLINED, s409=CONFLICT),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Pay with a card (no login: the card data is the credential)",
    )
    def create(self, request: Request) -> Response:
        address = client_address(request)
        ratelimit.check("card_invalid", address)
        s = CardPaymentInput(data=request.data)
        s.is_valid(raise_exception=True)
        v = s.validated_data
        # The stored fingerprint of the request leaves the card data out: the key's scope
        # (the card) already names them, and a hash of a PAN could be searched for.
        idempotency = Idempotency.from_request(
            request,
            respond=payment_response,
            body={"amount": v["amount"], "merchant": v["merchant"]},
            scope="card:?",  # set to the card's by the service, once the card is known
        )
        try:
            txn = services.pay(idempotency=idempotency, **v)
        except InvalidCardError:
            ratelimit.hit("card_invalid", address, refuse=False)
            raise
        return answer(idempotency, payment_response, txn)


def _card_checked(request: Request, call):
    """Run `call` (a service that verifies the card data first) under the per-address limit
    on invalid card data, as a payment does."""
    address = client_address(request)
    ratelimit.check("card_invalid", address)
    try:
        return call()
    except InvalidCardError:
        ratelimit.hit("card_invalid", address, refuse=False)
        raise


@extend_schema(tags=["cards"])
class CardAuthorizationViewSet(viewsets.GenericViewSet):
    """Authorise now, capture later (API.md, "Card authorisations"). No login: the card data
    are the credential of every call, as for a payment, with the same per-address limit on
    invalid card data. An authorisation of another card is a 404."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_scope = "card_payment"
    serializer_class = CardAuthorizationOutput
    lookup_value_converter = "uuid"

    @extend_schema(
        request=CardPaymentInput,
        responses={201: CardAuthorizationOutput, **bank_errors(s402=DECLINED, s409=CONFLICT)},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Authorise a card payment: the amount is held from the available balance",
    )
    def create(self, request: Request) -> Response:
        s = CardPaymentInput(data=request.data)
        s.is_valid(raise_exception=True)
        v = s.validated_data
        idempotency = Idempotency.from_request(
            request,
            respond=authorization_response,
            body={"amount": v["amount"], "merchant": v["merchant"]},
            scope="card:?",  # set to the card's by the service, once the card is known
        )
        authorization = _card_checked(
            request, lambda: services.authorize(idempotency=idempotency, **v)
        )
        return answer(idempotency, authorization_response, authorization)

    @extend_schema(
        request=CaptureInput,
        responses={
            201: CaptureOutput,
            **bank_errors(s402=INVALID, s409=CONFLICT, s422=CLOSED),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Capture all or part of what an authorisation holds: posts a card payment",
    )
    @action(detail=True, methods=["post"])
    def capture(self, request: Request, pk=None) -> Response:
        s = CaptureInput(data=request.data)
        s.is_valid(raise_exception=True)
        v = s.validated_data
        idempotency = Idempotency.from_request(
            request,
            respond=capture_response,
            body={"amount": v.get("amount")},
            scope="card:?",
        )
        _, txn = _card_checked(
            request,
            lambda: services.capture(authorization_id=pk, idempotency=idempotency, **v),
        )
        return answer(idempotency, capture_response, txn)

    @extend_schema(
        request=CardDataInput,
        responses={200: CardAuthorizationOutput, **bank_errors(s402=INVALID, s422=CLOSED)},
        summary="Void an authorisation: what remains held is released",
    )
    @action(detail=True, methods=["post"])
    def void(self, request: Request, pk=None) -> Response:
        s = CardDataInput(data=request.data)
        s.is_valid(raise_exception=True)
        authorization = _card_checked(
            request, lambda: services.void(authorization_id=pk, **s.validated_data)
        )
        return Response(CardAuthorizationOutput(authorization).data)
