"""core.serializers.copied_for_binding: every serializer instance binds its own copy of each
field, made without building the field again, and a field that holds other fields still
gets copies of those bound to it."""

import threading

import pytest
from rest_framework import serializers

from core.serializers import Output, StrictSerializer
from ledger.serializers import MinorUnitsField, TransferInput


class Body(StrictSerializer):
    name = serializers.CharField(max_length=5)
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)


class Inner(Output):
    label = serializers.CharField()


class Outer(Output):
    title = serializers.CharField()
    inner = Inner()


def test_each_instance_binds_its_own_copies_and_the_declared_fields_stay_unbound():
    first, second = Body(data={}), Body(data={})

    for name in ("name", "tags"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
        assert Body._declared_fields[name].parent is None  # never bound


def test_a_field_that_holds_fields_gets_its_own_bound_copies_of_them():
    body = Body(data={})
    tags = body.fields["tags"]
    assert tags.child is not Body._declared_fields["tags"].child
    assert tags.child.parent is tags
    outer = Outer({"title": "t", "inner": {"label": "l"}})
    assert outer.fields["inner"] is not Outer._declared_fields["inner"]
    assert outer.fields["inner"].fields["label"].parent is outer.fields["inner"]
    assert outer.data == {"title": "t", "inner": {"label": "l"}}


def test_binding_does_not_build_the_fields_again(monkeypatch):
    built = []
    original = MinorUnitsField.__init__

    def counting(self, *args, **kwargs):
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(MinorUnitsField, "__init__", counting)
    serializer = TransferInput(data={"amount": 5})
    serializer.fields  # noqa: B018  # binding them is what is measured

    assert built == []  # DRF's deep copy calls the field's class again for every instance


@pytest.mark.parametrize(
    "data, errors",
    [
        ({"name": "abcdef"}, {"name"}),
        ({"name": "ok", "tags": ["abcd"]}, {"tags"}),
        ({"name": "ok", "tags": ["a", "b"]}, set()),
    ],
)
def test_validation_is_unchanged(data, errors):
    body = Body(data=data)
    assert body.is_valid() is not errors
    assert set(body.errors) == errors


def test_instances_validated_at_once_in_threads_keep_their_own_errors():
    results: dict[int, set] = {}
    start = threading.Barrier(8)

    def validate(i: int) -> None:
        start.wait()
        for _ in range(50):
            body = Body(data={"name": "x" * (i + 1), "tags": ["t" * (i % 5 + 1)]})
            body.is_valid()
            results[i] = set(body.errors)

    threads = [threading.Thread(target=validate, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == {
        i: ({"name"} if i + 1 > 5 else set()) | ({"tags"} if i % 5 + 1 > 3 else set())
        for i in range(8)
    }
