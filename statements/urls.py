from django.urls import path

from statements.views import StatementViewSet

api_urlpatterns = [
    path(
        "accounts/<uuid:pk>/statements/",
        StatementViewSet.as_view({"get": "list"}),
        name="account-statements",
    ),
    path(
        "accounts/<uuid:pk>/statements/<str:period>/",
        StatementViewSet.as_view({"get": "retrieve"}),
        name="account-statement",
    ),
]

# The same viewset as pages (core/viewset_pages.py).
page_urlpatterns = [
    path(
        "accounts/<uuid:id>/statements/",
        StatementViewSet.as_page({"get": "list"}, template_name="statements/list.html"),
        name="statements",
    ),
    path(
        "accounts/<uuid:id>/statements/<str:period>/",
        StatementViewSet.as_page({"get": "retrieve"}, template_name="statements/statement.html"),
        name="statement",
    ),
]
