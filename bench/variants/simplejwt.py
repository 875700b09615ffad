"""simplejwt's own JWTAuthentication: no cache of verified tokens, no cached user."""

from bankproject.settings import *  # noqa: F403
from bankproject.settings import REST_FRAMEWORK

REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "rest_framework_simplejwt.authentication.JWTAuthentication"
    if name == "core.authentication.JWTAuthentication"
    else name
    for name in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
]
