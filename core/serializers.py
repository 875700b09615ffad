from rest_framework import serializers


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know, as Stripe does: a typo (or an attempt to write a
    read-only field such as `email`) is a 400 naming the field, never silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["This field is unknown or read-only."] for name in unknown}
                )
        return super().to_internal_value(data)


class JsonBooleanField(serializers.BooleanField):
    """A JSON `true` or `false` and nothing else: DRF's BooleanField also takes "yes", 1, "on"."""

    default_error_messages = {"invalid": "Must be a JSON boolean: true or false."}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        self.fail("invalid")
