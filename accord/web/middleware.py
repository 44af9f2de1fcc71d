"""Outside demo mode, nobody gets past the second-factor pages without a second factor."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

# Paths a password-only session may reach: the second-factor pages, sign-out and assets.
ALLOWED_PREFIXES = (
    "/sign-in/",
    "/sign-out/",
    "/static/",
    "/health/",
)


class SecondFactorRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            settings.SECOND_FACTOR_REQUIRED
            and user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(ALLOWED_PREFIXES)
            and not request.path.startswith("/api/")
        ):
            from django_otp import user_has_device

            target = "web:second-factor" if user_has_device(user) else "web:second-factor-setup"
            return redirect(target)
        return self.get_response(request)
