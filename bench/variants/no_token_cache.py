"""core.authentication's cached user, without its process-wide cache of verified tokens."""

from bankproject.settings import *  # noqa: F403
from bankproject.settings import REST_FRAMEWORK

REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "bench.variants.no_token_cache.JWTAuthentication"
    if name == "core.authentication.JWTAuthentication"
    else name
    for name in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
]


def __getattr__(name):  # the class, imported lazily: settings load before the apps
    if name == "JWTAuthentication":
        from rest_framework_simplejwt.authentication import JWTAuthentication as Framework

        from core import authentication

        class JWTAuthentication(authentication.JWTAuthentication):
            get_validated_token = Framework.get_validated_token

        globals()["JWTAuthentication"] = JWTAuthentication
        return JWTAuthentication
    raise AttributeError(name)
