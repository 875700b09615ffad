"""The account's output serializer (core.serializers.ModelOutput): fields built once per
class, a copy of each bound to every instance."""

import threading

import pytest
from rest_framework import serializers

from ledger.models import Account
from ledger.serializers import AccountOutput
from ledger.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


class PlainAccountOutput(serializers.ModelSerializer):
    """What DRF itself renders for the same fields: the yardstick."""

    class Meta:
        model = Account
        fields = AccountOutput.Meta.fields
        read_only_fields = fields

    available_balance = serializers.IntegerField(read_only=True)


def test_it_renders_what_drfs_own_model_serializer_renders():
    account = AccountFactory(nickname="Rent", balance=12_345, held=345)

    assert AccountOutput(account).data == PlainAccountOutput(account).data
    assert AccountOutput([account], many=True).data == PlainAccountOutput([account], many=True).data


def test_every_instance_binds_its_own_fields_and_the_kept_ones_stay_unbound():
    first, second = AccountOutput(AccountFactory()), AccountOutput(AccountFactory())

    assert first.fields.keys() == second.fields.keys() == set(AccountOutput.Meta.fields)
    for name in AccountOutput.Meta.fields:
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    kept = AccountOutput._built_fields
    assert all(getattr(field, "parent", None) is None for field in kept.values())


def test_instances_rendered_at_once_in_threads_each_show_their_own_account():
    accounts = [AccountFactory(nickname=f"n{i}", balance=i) for i in range(8)]
    results: dict[int, dict] = {}
    start = threading.Barrier(len(accounts))

    def render(i: int) -> None:
        start.wait()
        for _ in range(50):
            results[i] = dict(AccountOutput(accounts[i]).data)

    threads = [threading.Thread(target=render, args=(i,)) for i in range(len(accounts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [results[i]["nickname"] for i in range(8)] == [f"n{i}" for i in range(8)]
    assert [results[i]["balance"] for i in range(8)] == list(range(8))
