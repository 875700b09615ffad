import copy

from rest_framework import serializers


def copied_for_binding(fields: dict[str, serializers.Field]) -> dict[str, serializers.Field]:
    """A copy of each field for one serializer instance to bind (`Field.bind` sets its name,
    parent and source on it). DRF deep-copies them, which builds every field again from its
    arguments, validators and choices included: half of validating a transfer's body, and
    the most expensive part of rendering an account. A field keeps nothing per request but
    what `bind` sets, so a shallow copy is enough; one that holds other fields (a nested
    serializer, a ListField's `child`, a related field's `child_relation`) is still copied
    deeply, so that those are bound to the copy, not to the class's original."""
    return {
        name: copy.deepcopy(field) if _holds_fields(field) else copy.copy(field)
        for name, field in fields.items()
    }


def _holds_fields(field: serializers.Field) -> bool:
    return (
        isinstance(field, serializers.BaseSerializer)
        or hasattr(field, "child")
        or hasattr(field, "child_relation")
    )


class Serializer(serializers.Serializer):
    """DRF's Serializer, whose instances copy their declared fields cheaply
    (`copied_for_binding`): the base of the project's plain serializers."""

    def get_fields(self):
        return copied_for_binding(self._declared_fields)


class Output(Serializer):
    """A plain output serializer."""


class StrictSerializer(Serializer):
    """Refuses fields it does not know, as Stripe does: a typo (or an attempt to write a
    read-only field such as `email`) is a 400 naming the field, never silently ignored. Its
    request schema says so (`additionalProperties: false`, core/schema.py). A text field takes
    a JSON string only. `patch_is_partial = False`: a PATCH view validates it whole, so
    its schema keeps the required fields (drf-spectacular assumes a PATCH is partial)."""

    patch_is_partial = True

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is unknown or read-only."] for name in unknown}
                )
            # DRF's CharField turns a JSON number into text (`"nickname": 0` became "0"); the
            # schema says string, so a number, a bool, a list or an object is a 400.
            not_text = sorted(
                name
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and data.get(name) is not None
                and not isinstance(data[name], str)
            )
            if not_text:
                raise serializers.ValidationError(
                    {name: ["Must be a JSON string."] for name in not_text}
                )
            # DRF trims whitespace before it checks max_length, so 200 characters of which 60
            # are spaces passed a `maxLength: 140` the schema promises (found by bin/fuzz).
            too_long = sorted(
                name
                for name, field in self.fields.items()
                if isinstance(field, serializers.CharField)
                and field.max_length is not None
                and isinstance(data.get(name), str)
                and len(data[name]) > field.max_length
            )
            if too_long:
                limit = "Ensure this field has no more than {} characters."
                raise serializers.ValidationError(
                    {name: [limit.format(self.fields[name].max_length)] for name in too_long}
                )
        return super().to_internal_value(data)


class JsonBooleanField(serializers.BooleanField):
    """A JSON `true` or `false` and nothing else: DRF's BooleanField also takes "yes", 1, "on"."""

    default_error_messages = {"invalid": "Must be a JSON boolean: true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")


class ModelOutput(serializers.ModelSerializer):
    """An output-only ModelSerializer that builds its fields from the model once per class.

    DRF's ModelSerializer maps every model field to a serializer field (field_mapping, the
    validators, the choices) on every instance, that is on every request: a tenth of an
    authenticated GET's Python (bench/pipeline.py). The mapping depends on the class alone,
    so it is kept, and each instance gets its own copy of every field to bind
    (`copied_for_binding`)."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            cls._built_fields = built
        return copied_for_binding(built)
