"""Signing in has steps: nobody reaches Accord's pages until each is done.

1. A second factor, outside demo mode (set up, or a code entered).
2. A password of their own, when an admin chose the one they have.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

# Paths a session part-way through signing in may reach, besides the step it is on.
ALLOWED_PREFIXES = (
    "/sign-in/",
    "/sign-out/",
    "/static/",
    "/health/",
)
PASSWORD_PAGE = "/account/password/"


class SignInStepsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            not user.is_authenticated
            or request.path.startswith(ALLOWED_PREFIXES)
            or request.path.startswith("/api/")  # the API answers 401 for itself
        ):
            return self.get_response(request)
        if settings.SECOND_FACTOR_REQUIRED and not user.is_verified():
            from django_otp import user_has_device

            target = "web:second-factor" if user_has_device(user) else "web:second-factor-setup"
            return redirect(target)
        if user.must_change_password and request.path != PASSWORD_PAGE:
            return redirect("web:account-password")
        return self.get_response(request)
