from django.urls import path

from accounts import pages, views

api_urlpatterns = [
    path("auth/signup/", views.SignupView.as_view(), name="signup"),
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("auth/token/refresh/", views.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.MeView.as_view(), name="me"),
]

page_urlpatterns = [
    path("signup/", pages.signup, name="signup"),
    path("login/", pages.login_page, name="login"),
    path("logout/", pages.logout_page, name="logout"),
    path("profile/", pages.profile, name="profile"),
    path("password/change/", pages.password_change, name="password-change"),
]
