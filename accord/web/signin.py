"""Sign-in: password, then a second factor (TOTP, or a one-time recovery code).

Unknown usernames get the same answer as wrong passwords, and Django's backend
hashes a dummy password for them so the timing is alike. Failures count towards
a lockout per username and per address (django-axes).
"""

from __future__ import annotations

from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.forms import AuthenticationForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.core.declare import public
from accord.partnership.models import RecoveryCodeDevice, User
from accord.web.forms import SecondFactorForm

RECOVERY_CODE_COUNT = 10
SIGN_IN_FAILED = "The username or password is not right."


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": SIGN_IN_FAILED,
        "inactive": SIGN_IN_FAILED,
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].error_messages["required"] = "Enter your username."
        self.fields["password"].error_messages["required"] = "Enter your password."


def _safe_next(request: HttpRequest, candidate: str | None) -> str | None:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


def _after_sign_in(request: HttpRequest) -> HttpResponse:
    target = request.session.pop("accord_next", None)
    return redirect(target or "web:home")


def lockout_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The name lockouts are counted against: as Accord matches it, without case."""
    source = credentials if credentials is not None else request.POST
    return str(source.get("username") or "").strip().lower()


def client_ip(request: HttpRequest) -> str:
    """The address lockouts are counted against.

    Behind Accord's TLS proxy, the right-most X-Forwarded-For entry: the one the proxy
    itself added. Earlier entries are whatever the client chose to send.
    """
    if settings.TRUST_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.META.get("REMOTE_ADDR", ""))


def lockout_response(
    request: HttpRequest, original_response: Any, credentials: Any
) -> HttpResponse:
    """The answer once a username or address is locked out: the same for every username."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    return render(request, "web/locked_out.html", {"minutes": minutes}, status=429)


@public
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect("web:home")
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            user = form.get_user()
            next_url = _safe_next(request, request.POST.get("next"))
            with transaction.atomic():
                login(request, user)
                audit_record(actor=user, action=AuditAction.SIGN_IN, reason="password accepted")
            if next_url:
                request.session["accord_next"] = next_url
            if settings.SECOND_FACTOR_REQUIRED:
                return redirect(
                    "web:second-factor" if user_has_device(user) else "web:second-factor-setup"
                )
            return _after_sign_in(request)
        if getattr(request, "axes_locked_out", False):
            return lockout_response(request, None, None)
        known = User.objects.filter(username__iexact=request.POST.get("username", "")).first()
        audit_record(
            actor=None,
            action=AuditAction.SIGN_IN_FAILED,
            reason="password refused",
            partnership_id=known.agency.partnership_id if known else None,
            object_type="user" if known else "",
            object_id=known.id if known else None,
        )
    return render(
        request,
        "web/sign_in.html",
        {
            "form": form,
            "next": _safe_next(request, request.GET.get("next") or request.POST.get("next")),
        },
    )


@public
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    """Ask for the code from the authenticator app, or a recovery code."""
    user = request.user
    if not user.is_authenticated:
        return redirect("web:sign-in")
    if user.is_verified():
        return redirect("web:home")
    if not user_has_device(user):
        return redirect("web:second-factor-setup")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].replace(" ", "")
        # TOTP devices refuse a code at or before the last one used, so a code
        # seen over someone's shoulder cannot be replayed; recovery codes are
        # deleted when used.
        device = match_token(user, token)
        if device is not None:
            with transaction.atomic():
                otp_login(request, device)
                audit_record(
                    actor=user, action=AuditAction.SIGN_IN, reason="second factor accepted"
                )
            return _after_sign_in(request)
        audit_record(
            actor=user,
            action=AuditAction.SIGN_IN_FAILED,
            reason="second factor refused",
        )
        form.add_error(
            "token",
            "The code is not right, or has been used already. Wait for a new code and try again.",
        )
    return render(request, "web/second_factor.html", {"form": form})


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10)
    svg: str = image.to_string(encoding="unicode")
    return svg


SETUP_DEVICE_KEY = "accord_setup_device"


@public
@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app. Only for a user who has no confirmed device:
    otherwise a stolen password would be enough to add a new one.

    Every visit makes a new secret, kept for this session only, so a secret seen by
    anyone else (someone who knew the first password, say) is never the one enrolled.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect("web:sign-in")
    if user_has_device(user):
        return redirect("web:home" if user.is_verified() else "web:second-factor")
    device = None
    if request.method == "POST":
        device = TOTPDevice.objects.filter(
            user=user, confirmed=False, pk=request.session.get(SETUP_DEVICE_KEY)
        ).first()
        if device is None:
            return redirect("web:second-factor-setup")
    else:
        with transaction.atomic():
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            device = TOTPDevice.objects.create(user=user, confirmed=False, name="Authenticator app")
        request.session[SETUP_DEVICE_KEY] = device.pk
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].replace(" ", "")):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                recovery, _ = RecoveryCodeDevice.objects.get_or_create(
                    user=user, defaults={"name": "Recovery codes", "confirmed": True}
                )
                codes = recovery.issue_codes(RECOVERY_CODE_COUNT)
                otp_login(request, device)
                audit_record(
                    actor=user, action=AuditAction.SIGN_IN, reason="second factor enrolled"
                )
                audit_record(
                    actor=user,
                    action=AuditAction.UPDATE,
                    object_type="user",
                    object_id=user.pk,
                    changed_fields=["second_factor", "recovery_codes"],
                )
            request.session.pop(SETUP_DEVICE_KEY, None)
            return render(request, "web/recovery_codes.html", {"codes": codes})
        form.add_error(
            "token", "The code is not right. Check the time on your device and try again."
        )
    return render(
        request,
        "web/second_factor_setup.html",
        {"form": form, "qr_svg": _qr_svg(device.config_url), "secret": _base32(device.bin_key)},
    )


def _base32(key: bytes) -> str:
    import base64

    text = base64.b32encode(key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@public
@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "You have signed out.")
    return redirect("web:sign-in")
