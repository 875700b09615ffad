"""The indexes a posting writes are the ones some query reads (migration 0012): no index of
its own on an entry's account, which `entry_account_history` leads with, and none on an
idempotency key's transaction, so that storing a key's answer changes no indexed column."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def indexes(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {
        name: c["columns"]
        for name, c in found.items()
        if (c["index"] or c["unique"]) and not c["primary_key"]
    }


def test_an_entrys_account_is_indexed_once_by_the_history_index():
    entry = indexes("ledger_entry")

    assert entry["entry_account_history"][0] == "account_id"
    assert [name for name, columns in entry.items() if columns == ["account_id"]] == []


def test_no_column_the_answer_updates_is_indexed():
    key = indexes("ledger_idempotencykey")
    answer = {"response_status", "response_body", "transaction_id"}

    assert [name for name, columns in key.items() if answer & set(columns)] == []
    assert ["scope", "key"] in key.values()  # the claim's unique index stays
