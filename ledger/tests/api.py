"""Paths and assertions shared by the ledger's API tests."""

from typing import Any

ACCOUNTS = "/api/v1/accounts/"
TRANSFERS = "/api/v1/transfers/"

ACCOUNT_FIELDS = {
    "id",
    "number",
    "type",
    "currency",
    "balance",
    "available_balance",
    "status",
    "nickname",
    "created_at",
}
ENTRY_FIELDS = {
    "id",
    "transaction_id",
    "kind",
    "amount",
    "currency",
    "balance_after",
    "description",
    "counterparty",
    "created_at",
}
POSTED_FIELDS = {
    "id",
    "kind",
    "account",
    "amount",
    "currency",
    "balance_after",
    "description",
    "created_at",
}
TRANSFER_FIELDS = {
    "id",
    "direction",
    "from_account",
    "from_account_number",
    "to_account_number",
    "amount",
    "currency",
    "status",
    "description",
    "created_at",
}
PAGE_FIELDS = {"results", "next", "previous"}

# Amounts the API must refuse with a 400 on `amount` (API.md, Conventions).
BAD_AMOUNTS = [1.5, 1.0, "15", "1.5", True, False, 0, -1, -100, None, 10**15, 10**30, [100]]


def account_url(account) -> str:
    return f"{ACCOUNTS}{account.pk if hasattr(account, 'pk') else account}/"


def action_url(account, action: str) -> str:
    return f"{account_url(account)}{action}/"


def transfer_url(transfer_id) -> str:
    return f"{TRANSFERS}{transfer_id}/"


def error_of(response, status: int, code: str) -> dict[str, Any]:
    """Assert the error envelope with this status and code; return its details."""
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body["error"]["details"]


def walk(client, url: str) -> list[dict]:
    """Every row of a paginated list, following `next` to the end."""
    rows: list[dict] = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        rows.extend(response.json()["results"])
        url = response.json()["next"]
    return rows
