"""What every page template can use."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from accord.partnership.permissions import Action


def accord(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    verified = signed_in and (not settings.SECOND_FACTOR_REQUIRED or user.is_verified())  # type: ignore[union-attr]
    nav: list[tuple[str, str]] = []
    if verified:
        nav.append(("web:home", "Work queue"))
        nav.append(("web:agency-list", "Agencies"))
        if user.may(Action.PERSON_VIEW):  # type: ignore[union-attr]
            nav.append(("web:people-search", "Find a person"))
        if user.may(Action.MARAC_MEETING_VIEW):  # type: ignore[union-attr]
            nav.append(("web:marac-meeting-list", "MARAC meetings"))
        if user.may(Action.PERSON_INDEX_REVIEW):  # type: ignore[union-attr]
            nav.append(("web:index-queue", "Person index"))
        if user.may(Action.DATA_QUALITY_VIEW):  # type: ignore[union-attr]
            nav.append(("web:data-quality", "Data quality"))
        if user.may(Action.USER_VIEW):  # type: ignore[union-attr]
            nav.append(("web:user-list", "Users"))
        if user.may(Action.API_KEY_MANAGE):  # type: ignore[union-attr]
            nav.append(("web:api-key-list", "API keys"))
        if user.may(Action.SHARING_SETTINGS_MANAGE):  # type: ignore[union-attr]
            nav.append(("web:sharing-settings", "Sharing settings"))
        if user.may(Action.PERSON_INDEX_MANAGE):  # type: ignore[union-attr]
            nav.append(("web:index-settings", "Person index settings"))
    return {
        "demo_mode": settings.DEMO_MODE,
        "fully_signed_in": verified,
        "nav_items": nav,
        "session_idle_minutes": settings.SESSION_IDLE_MINUTES,
    }
