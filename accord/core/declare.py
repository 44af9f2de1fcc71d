"""How every view declares what it needs, so a forgotten check cannot ship.

Web views use `@requires(Action.X)` or `@public`; API views set
`required_actions` (method -> action) or `public = True`. A meta-test walks the
URL resolver and fails for any view without one of these.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from accord.core.errors import NotAllowed, NotFound
from accord.partnership.permissions import Action

PUBLIC = "public"

View = TypeVar("View", bound=Callable[..., HttpResponse])


def requires(action: str) -> Callable[[View], View]:
    """A signed-in user whose role allows `action`; otherwise sign-in or 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            # Checked here as well as in the middleware, so no page is ever one
            # forgotten exemption away from a password-only session.
            if settings.SECOND_FACTOR_REQUIRED and not user.is_verified():
                return redirect("web:second-factor")
            # Likewise the own-password step after an admin chose the password.
            if user.must_change_password and action != Action.ACCOUNT_VIEW:
                return redirect("web:account-password")
            if not user.may(action):
                record_denial(user, action)
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except NotFound:
                raise Http404 from None
            except NotAllowed:
                raise PermissionDenied from None

        wrapped.accord_action = action  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def record_denial(actor: Any, action: str) -> None:
    """Refusals are audited as well as grants: who tried which action, never what data."""
    from accord.audit.models import AuditAction
    from accord.audit.services import audit_record

    audit_record(actor=actor, action=AuditAction.DENY, reason=f"role does not allow {action}")


def public(view: View) -> View:
    """Open without signing in (the sign-in pages themselves, health checks)."""
    view.accord_action = PUBLIC  # type: ignore[attr-defined]
    return view


def declared_action(callback: Callable[..., Any]) -> object | None:
    """What a resolved URL callback declares, or None when it declares nothing."""
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:
        if getattr(cls, "public", False):
            return PUBLIC
        return getattr(cls, "required_actions", None)
    return getattr(callback, "accord_action", None)
