"""The bank's own URLs plus the bare view (bench/bare.py), for the benchmark's gunicorns only."""

from django.urls import path

from bankproject.urls import *  # noqa: F403
from bankproject.urls import urlpatterns as bank_urlpatterns
from bench.bare import BareAccountView

urlpatterns = [
    path("bench/bare/<uuid:pk>/", BareAccountView.as_view(), name="bench-bare"),
    *bank_urlpatterns,
]
