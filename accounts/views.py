from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.serializers import TokenRefreshSerializer

from accounts.auth import email_key
from accounts.selectors import profile_for
from accounts.serializers import (
    LogoutInput,
    ProfileSerializer,
    RefreshInput,
    SignupInput,
    TokenInput,
    TokenPairOutput,
    UserOutput,
)
from accounts.services import logout, register_customer, rotate_refresh_token, update_profile
from core import ratelimit
from core.errors import LockedOutError
from core.schema import bank_errors

WRONG_CREDENTIALS = "`authentication_failed`: wrong email or password."
BAD_REFRESH = (
    "`authentication_failed`: the refresh token is invalid, expired, revoked, past its login's "
    "absolute lifetime (`JWT_SESSION_MAX_HOURS`), or a rotated one presented again (which "
    "revokes every token of that login)."
)


class SignupView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "signup"

    @extend_schema(
        request=SignupInput,
        responses={
            201: UserOutput,
            **bank_errors(s400="`validation_error`: duplicate email, weak password or bad field."),
        },
        tags=["auth"],
        summary="Sign up as a new customer",
    )
    def post(self, request: Request) -> Response:
        s = SignupInput(data=request.data)
        s.is_valid(raise_exception=True)
        user = register_customer(**s.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class TokenView(jwt_views.TokenObtainPairView):
    throttle_scope = "auth"
    authentication_classes: list = []

    @extend_schema(
        request=TokenInput,
        responses={200: TokenPairOutput, **bank_errors(s401=WRONG_CREDENTIALS)},
        tags=["auth"],
        summary="Exchange email and password for an access and a refresh token",
        description="Repeated failures for one email from one address are locked out: 429.",
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        # The portal's count of failures per email, shared: one email guessed at from many
        # addresses is refused here as on /login/ (the throttle counts per address).
        data = request.data if isinstance(request.data, dict) else {}
        email = email_key(data.get("email"))
        ratelimit.check("login_email", email)
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            # django-axes refused inside authenticate() and flagged the request it was given.
            if getattr(request, "axes_locked_out", False):
                raise LockedOutError() from None
            ratelimit.hit("login_email", email, refuse=False)
            raise


class TokenRefreshView(jwt_views.TokenRefreshView):
    """Rotation with the session rules of accounts.services.rotate_refresh_token."""

    throttle_scope = "auth"
    authentication_classes: list = []
    serializer_class = TokenRefreshSerializer  # for the schema generator; post() is ours

    @extend_schema(
        request=RefreshInput,
        responses={200: TokenPairOutput, **bank_errors(s401=BAD_REFRESH)},
        tags=["auth"],
        summary="Rotate a refresh token: a new pair, and the old refresh token stops working",
    )
    def post(self, request: Request, *args, **kwargs) -> Response:
        s = RefreshInput(data=request.data)
        s.is_valid(raise_exception=True)
        return Response(rotate_refresh_token(refresh=s.validated_data["refresh"]))


class LogoutView(APIView):
    """The refresh token is the credential: whoever holds a valid one may end its login or,
    with `"all": true`, every login of its user. Access tokens are refused at once too, by
    family or by session version (core/authentication.py), so the caller's current access
    token stops working without being sent here."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_scope = "auth"

    @extend_schema(
        request=LogoutInput,
        responses={
            204: None,
            **bank_errors(
                s400="`validation_error`: `all` is not a JSON boolean, or `refresh` is missing.",
                s401=BAD_REFRESH,
            ),
        },
        tags=["auth"],
        summary="Log out: end this login, or with `all: true` every login of the user",
    )
    def post(self, request: Request) -> Response:
        s = LogoutInput(data=request.data)
        s.is_valid(raise_exception=True)
        logout(refresh=s.validated_data["refresh"], everywhere=s.validated_data["all"])
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["profile"])
class MeView(APIView):
    http_method_names = ["get", "patch", "options"]

    @extend_schema(responses={200: ProfileSerializer}, summary="Your profile")
    def get(self, request: Request) -> Response:
        return Response(ProfileSerializer(profile_for(request.user)).data)

    @extend_schema(
        request=ProfileSerializer,
        responses={200: ProfileSerializer},
        summary="Change your profile (email is read-only here)",
    )
    def patch(self, request: Request) -> Response:
        s = ProfileSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        holder = update_profile(user=request.user, **s.validated_data)
        return Response(ProfileSerializer(holder).data)
