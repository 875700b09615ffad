from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.errors import ValidationFailed
from core.pages import show_refusal
from core.pagination import NewestFirstCursorPagination
from core.permissions import IsStaff
from core.schema import bank_errors
from core.viewset_pages import PageMixin
from ledger import services
from ledger.charts import charts_for
from ledger.forms import HistoryFilterForm
from ledger.idempotency import KEY_HEADER, KEY_MAX_LENGTH, Idempotency
from ledger.models import Account, ApprovalRequest, Entry
from ledger.permissions import HoldsStaffPermission
from ledger.selectors import (
    account_get,
    account_get_for_staff,
    accounts_for,
    approval_get,
    approvals_for,
    entries_for,
    pending_holds_for,
    transfer_get,
    transfers_for,
)
from ledger.serializers import (
    AccountCreateInput,
    AccountOutput,
    AccountPatchInput,
    ApprovalRequestOutput,
    EntryOutput,
    MoneyInput,
    PostedOutput,
    RejectInput,
    StatusChangeInput,
    TransferInput,
    TransferOutput,
    counterparty_of,
    history_window,
    transfer_response,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    KEY_HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    description=f"1-{KEY_MAX_LENGTH} printable characters. A retry with the same key and body "
    "returns the first response (header `Idempotent-Replayed: true`) and posts nothing; "
    "another body is a 409.",
)
CONFLICT = "`idempotency_conflict`: the Idempotency-Key was used with a different request."
INACTIVE = "`account_inactive`: the account is frozen or closed."
APPROVAL = (
    "Above APPROVAL_LIMIT (minor units): nothing is posted; the approval request a second "
    "person must approve."
)


def answer(idempotency: Idempotency | None, respond, txn) -> Response:
    status_code, body = idempotency.response if idempotency else respond(txn)
    return Response(body, status=status_code)


# history_window's `since` and `until`: empty (no bound: the page's filter form sends it so),
# or a date or datetime in the years 1900 to 9998; anything else is a 400.
_YEARS = r"^(19\d\d|[2-8]\d\d\d|9[0-8]\d\d|99[0-8]\d|999[0-8])-"
DATE_OR_DATETIME = {
    "anyOf": [
        {"type": "string", "maxLength": 0},
        {"type": "string", "format": "date", "pattern": _YEARS},
        {"type": "string", "format": "date-time", "pattern": _YEARS},
    ]
}


@extend_schema(tags=["accounts"])
class AccountViewSet(
    PageMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = AccountOutput
    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "options"]
    # the staff endpoints, each with its staff action in ledger/permissions.py's one mapping
    staff_actions = {
        "deposits": "deposit",
        "withdrawals": "withdraw",
        "freeze": "freeze",
        "unfreeze": "unfreeze",
        "close": "close",
    }

    def get_permissions(self):
        if self.action in self.staff_actions:
            return [HoldsStaffPermission()]
        return [IsAuthenticated()]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Account.objects.none()
        return accounts_for(self.request.user).order_by("created_at", "id")

    def get_object(self):
        if self.action in self.staff_actions:
            return account_get_for_staff(id=self.kwargs["pk"])
        return account_get(user=self.request.user, id=self.kwargs["pk"])

    def page_context(self, data: dict) -> dict:
        """The account page (`transactions`): the account, its chart and the date filter."""
        account = self.get_object()
        filters = HistoryFilterForm(self.request.GET or None)
        filters.is_valid()
        return {
            "account": AccountOutput(account).data,
            "chart": charts_for([account])[account.pk],
            "holds": [(hold, account.nickname) for hold in pending_holds_for([account])],
            "filters": filters,
            "filtered": bool(self.request.GET.get("since") or self.request.GET.get("until")),
        }

    def page_refusal(self, error: ValidationFailed) -> dict | None:
        """A bad date is shown beside its field on the account page; a bad cursor or limit
        is the 400 page."""
        if self.action != "transactions" or not set(error.details) <= {"since", "until"}:
            return None
        context = {"results": [], "next": None, "previous": None}
        context.update(self.page_context(context))
        show_refusal(context["filters"], error)
        return context

    @extend_schema(summary="Your accounts")
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=AccountCreateInput, responses={201: AccountOutput}, summary="Open an account"
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        s = AccountCreateInput(data=request.data)
        s.is_valid(raise_exception=True)
        account = services.open_account(owner=request.user, **s.validated_data)
        return Response(AccountOutput(account).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="One of your accounts")
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=AccountPatchInput, responses={200: AccountOutput}, summary="Rename an account"
    )
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        account = self.get_object()
        s = AccountPatchInput(data=request.data)
        s.is_valid(raise_exception=True)
        account = services.rename_account(account=account, nickname=s.validated_data["nickname"])
        return Response(AccountOutput(account).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", DATE_OR_DATETIME, description="A date (that whole UTC day) or a datetime."
            ),
            OpenApiParameter(
                "until", DATE_OR_DATETIME, description="A date (that whole UTC day) or a datetime."
            ),
            # `limit` and `cursor`: from the pagination class, as on every list.
        ],
        responses={200: EntryOutput(many=True)},
        summary="An account's history, newest first",
    )
    @action(detail=True, methods=["get"], pagination_class=NewestFirstCursorPagination)
    def transactions(self, request: Request, pk=None) -> Response:
        account = self.get_object()
        since, until = history_window(request.query_params)
        page = self.paginate_queryset(entries_for(account, since=since, until=until))
        return self.get_paginated_response(EntryOutput(page, many=True).data)

    def _post_money(self, request: Request, service) -> Response:
        account = self.get_object()
        s = MoneyInput(data=request.data)
        s.is_valid(raise_exception=True)

        def respond(result):  # the customer's leg, whichever side the bank's is on
            if isinstance(result, ApprovalRequest):  # above the limit: nothing posted yet
                return status.HTTP_202_ACCEPTED, ApprovalRequestOutput(result).data
            own = next(e for e in result.posted_entries if e.account_id == account.pk)
            return status.HTTP_201_CREATED, PostedOutput(own).data

        idempotency = Idempotency.from_request(request, respond=respond)
        txn = service(
            account=account, initiated_by=request.user, idempotency=idempotency, **s.validated_data
        )
        return answer(idempotency, respond, txn)

    @extend_schema(
        request=MoneyInput,
        responses={
            201: PostedOutput,
            202: OpenApiResponse(ApprovalRequestOutput, description=APPROVAL),
            **bank_errors(s409=CONFLICT, s422=INACTIVE),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Deposit cash into an account (staff only)",
    )
    @action(detail=True, methods=["post"])
    def deposits(self, request: Request, pk=None) -> Response:
        return self._post_money(request, services.deposit)

    @extend_schema(
        request=MoneyInput,
        responses={
            201: PostedOutput,
            202: OpenApiResponse(ApprovalRequestOutput, description=APPROVAL),
            **bank_errors(s409=CONFLICT, s422="`insufficient_funds` or `account_inactive`."),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Withdraw cash from an account (staff only)",
    )
    @action(detail=True, methods=["post"])
    def withdrawals(self, request: Request, pk=None) -> Response:
        return self._post_money(request, services.withdraw)

    def _change_status(self, request: Request, service) -> Response:
        account = self.get_object()
        s = StatusChangeInput(data=request.data)
        s.is_valid(raise_exception=True)
        account = service(account=account, reason=s.validated_data["reason"], by=request.user)
        return Response(AccountOutput(account).data)

    @extend_schema(
        request=StatusChangeInput,
        responses={
            200: AccountOutput,
            **bank_errors(s422="`account_inactive`: the account is closed."),
        },
        summary="Freeze an account: it neither sends nor receives (staff only)",
    )
    @action(detail=True, methods=["post"])
    def freeze(self, request: Request, pk=None) -> Response:
        return self._change_status(request, services.freeze_account)

    @extend_schema(
        request=StatusChangeInput,
        responses={
            200: AccountOutput,
            **bank_errors(s422="`account_inactive`: the account is closed."),
        },
        summary="Unfreeze an account (staff only)",
    )
    @action(detail=True, methods=["post"])
    def unfreeze(self, request: Request, pk=None) -> Response:
        return self._change_status(request, services.unfreeze_account)

    @extend_schema(
        request=StatusChangeInput,
        responses={
            200: AccountOutput,
            **bank_errors(s422="`balance_not_zero` or `account_inactive`."),
        },
        summary="Close an account for good; it must be empty (staff only)",
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk=None) -> Response:
        return self._change_status(request, services.close_account)


@extend_schema(tags=["transfers"])
class TransferViewSet(
    PageMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = TransferOutput
    lookup_value_converter = "uuid"
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Entry.objects.none()
        return transfers_for(self.request.user)

    def get_object(self):
        return transfer_get(user=self.request.user, id=self.kwargs["pk"])

    def page_context(self, data: dict) -> dict:
        """A transfer's page also names the other side and shows the balance it left."""
        if self.action != "retrieve":
            return {}
        entry = self.get_object()
        return {
            "counterparty": counterparty_of(entry),
            "account": AccountOutput(entry.account).data,
            "balance_after": entry.balance_after,
        }

    @extend_schema(summary="Transfers you sent or received, newest first")
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One transfer")
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=TransferInput,
        responses={
            201: TransferOutput,
            **bank_errors(
                s409=CONFLICT,
                s422="`insufficient_funds`, `account_inactive`, `currency_mismatch` "
                "or `same_account`.",
            ),
        },
        parameters=[IDEMPOTENCY_HEADER],
        summary="Send money to an account number",
    )
    def create(self, request: Request) -> Response:
        s = TransferInput(data=request.data)
        s.is_valid(raise_exception=True)
        idempotency = Idempotency.from_request(request, respond=transfer_response)
        txn = services.transfer(
            initiated_by=request.user, idempotency=idempotency, **s.validated_data
        )
        return answer(idempotency, transfer_response, txn)


STATUS_FILTER = OpenApiParameter(
    "status",
    str,
    enum=ApprovalRequest.Status.values,
    description="Only requests with this status (`expired`: pending past `expires_at` too).",
)


@extend_schema(tags=["approvals"])
class ApprovalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Four eyes (API.md "Approvals"): approvers list and decide the requests staff made above
    the approval limit; the requester reads their own. A customer is refused every endpoint
    (403, as every staff endpoint); another teller's request is a 404 (it is not yours)."""

    serializer_class = ApprovalRequestOutput
    lookup_value_converter = "uuid"
    pagination_class = NewestFirstCursorPagination
    staff_actions = {"list": "approve", "approve": "approve", "reject": "approve"}

    def get_permissions(self):
        if self.action in self.staff_actions:
            return [HoldsStaffPermission()]
        if self.action == "retrieve":
            return [IsStaff()]
        return [IsAuthenticated()]  # a verb no action takes: the 405, as on every path

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApprovalRequest.objects.none()
        status_filter = self.request.query_params.get("status")
        if status_filter is not None and status_filter not in ApprovalRequest.Status.values:
            raise ValidationFailed(
                {"status": [f"One of: {', '.join(ApprovalRequest.Status.values)}."]}
            )
        return approvals_for(self.request.user, status=status_filter)

    def get_object(self):
        return approval_get(user=self.request.user, id=self.kwargs["pk"])

    @extend_schema(parameters=[STATUS_FILTER], summary="Approval requests, newest first")
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="One approval request (approvers and its requester)")
    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(
                PostedOutput, description="Posted: what the direct call would have answered."
            ),
            **bank_errors(
                s422="`own_request` (the approver asked for it), `approval_closed` (decided or "
                "expired), or the ledger's refusal now: `insufficient_funds`, "
                "`account_inactive`, `already_reversed`."
            ),
        },
        summary="Approve: post the movement now, its rules checked again (approvers only)",
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk=None) -> Response:
        approval = self.get_object()
        txn = services.approve_request(approval=approval, by=request.user)
        own = next(e for e in txn.posted_entries if e.account_id == approval.account_id)
        return Response(PostedOutput(own).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=RejectInput,
        responses={
            200: ApprovalRequestOutput,
            **bank_errors(s422="`approval_closed`: decided or expired."),
        },
        summary="Reject, with a reason; nothing is posted (approvers only)",
    )
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk=None) -> Response:
        approval = self.get_object()
        s = RejectInput(data=request.data)
        s.is_valid(raise_exception=True)
        approval = services.reject_request(
            approval=approval, by=request.user, reason=s.validated_data["reason"]
        )
        return Response(ApprovalRequestOutput(approval).data)
