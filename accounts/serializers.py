from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from accounts.tokens import SessionRefreshToken
from accounts.validators import PHONE, validate_date_of_birth, validate_phone
from core.serializers import JsonBooleanField, Output, StrictSerializer


class SignupInput(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, write_only=True)
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)


class UserOutput(Output):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    first_name = serializers.CharField(source="holder.first_name")
    last_name = serializers.CharField(source="holder.last_name")


class TokenInput(StrictSerializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, write_only=True)


class TokenPairOutput(Output):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RefreshInput(StrictSerializer):
    refresh = serializers.CharField()


class LogoutInput(RefreshInput):
    all = JsonBooleanField(
        required=False,
        default=False,
        help_text="true: log out every device of this user, not only this login.",
    )


class SessionTokenObtainSerializer(TokenObtainPairSerializer):
    """simplejwt's email-and-password serializer, minting the refresh token of a new family
    (settings SIMPLE_JWT["TOKEN_OBTAIN_SERIALIZER"])."""

    token_class = SessionRefreshToken


@extend_schema_field({"type": "string", "maxLength": 32, "pattern": PHONE.pattern})
class PhoneField(serializers.CharField):
    """Text; its schema states validate_phone's rule, so a client knows it before sending."""


class ProfileSerializer(StrictSerializer):
    """The holder's profile; `id` and `email` are shown but cannot be written here."""

    id = serializers.UUIDField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    phone = PhoneField(max_length=32, allow_blank=True, validators=[validate_phone])
    address = serializers.CharField(max_length=300, allow_blank=True)
    date_of_birth = serializers.DateField(allow_null=True, validators=[validate_date_of_birth])
