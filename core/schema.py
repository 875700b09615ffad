"""OpenAPI: every operation documents the error envelope for each status it can answer.

The generic statuses (400, 401, 403, 404, 405, 413, 429) are derived from what the view is
(a write, authenticated, staff-only, a detail path, throttled); the business refusals (402,
409, 422) are declared where they happen with `bank_errors(...)`.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import permissions, serializers

from core.serializers import StrictSerializer

ErrorBody = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "details": serializers.DictField(),
            },
        )
    },
)

GENERIC_ERRORS = {
    400: "`validation_error`: malformed JSON or invalid fields; `details` maps field to messages.",
    401: "`not_authenticated` or `authentication_failed`: missing, expired, tampered or "
    "blacklisted token, or wrong credentials.",
    403: "`permission_denied`: authenticated but not allowed (staff only: a role holding this "
    "action's permission, never on an account the caller holds).",
    404: "`not_found`: unknown id, or an object that is not yours.",
    405: "`method_not_allowed`: this path does not take this verb.",
    413: "`request_too_large`: the body is over 1 MiB.",
    429: "`throttled`: too many requests; see the Retry-After header.",
}


# Refused before the API sees the request: gunicorn reads a request line (method, path and
# query string) of at most 4,094 bytes (its `limit_request_line`, kept as a bound on what an
# unauthenticated client can make a worker hold) and answers a longer one with its own page.
URI_TOO_LONG = (
    "The request line (path and query string) is over 4,094 bytes: the server refuses it "
    "before the API, with a plain page rather than the error envelope."
)


def error_response(status: int, description: str) -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorBody,
        description=description,
        examples=[
            OpenApiExample(
                f"{status}",
                value={"error": {"code": description.split("`")[1], "message": "…", "details": {}}},
                status_codes=[str(status)],
                response_only=True,
            )
        ]
        if "`" in description
        else [],
    )


def bank_errors(**by_status: str) -> dict[int, OpenApiResponse]:
    """`responses={201: Out, **bank_errors(s422="`insufficient_funds`, ...")}`."""
    return {
        int(key.lstrip("s")): error_response(int(key.lstrip("s")), d)
        for key, d in by_status.items()
    }


class BankAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._generic_error_statuses():
            responses.setdefault(
                str(status),
                self._get_response_for_code(
                    error_response(status, GENERIC_ERRORS[status]), str(status)
                ),
            )
        responses.setdefault("414", {"description": URI_TOO_LONG})
        for status, response in responses.items():
            # An error is the JSON envelope whatever format was asked for (?format=csv, pdf).
            content = response.get("content", {})
            if status.startswith(("4", "5")) and "application/json" in content:
                response["content"] = {"application/json": content["application/json"]}
        return responses

    def _map_basic_serializer(self, serializer, direction):
        """A StrictSerializer refuses fields it does not know (a 400): its request body says
        so, instead of letting a client believe extra properties are ignored."""
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
            if self.method == "PATCH" and not serializer.patch_is_partial:
                required = [n for n, f in serializer.fields.items() if f.required]
                if required:
                    schema["required"] = required
        return schema

    def _generic_error_statuses(self) -> list[int]:
        statuses = [405, 429]
        writes = self.method in ("POST", "PUT", "PATCH")
        if writes or self._is_list_view() or self.get_filter_backends():
            statuses.append(400)
        if writes:
            statuses.append(413)
        perms = self.view.get_permissions()
        if not all(isinstance(p, permissions.AllowAny) for p in perms):
            statuses.append(401)
        if any(getattr(p, "staff_only", False) for p in perms):
            statuses.append(403)
        if "{" in self.path or (writes and self._request_names_an_object()):
            statuses.append(404)
        return sorted(statuses)

    def _request_names_an_object(self) -> bool:
        """A write whose body names an object by id or by account number answers 404 when it
        is unknown or not the caller's (API.md), so its schema says so."""
        serializer = force_instance(self.get_request_serializer())
        fields = getattr(serializer, "fields", None) or {}
        return any(
            not field.read_only
            and (
                isinstance(field, serializers.UUIDField | serializers.RelatedField)
                or name.endswith("account_number")
            )
            for name, field in fields.items()
        )
