"""The API's one permission class: every view declares its action per method."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accord.core.declare import record_denial


class DeclaredActionPermission(BasePermission):
    """Fails closed: a view or method with no declared action is refused."""

    message = "You do not have permission to do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "public", False):
            return True
        actions: dict[str, str] | None = getattr(view, "required_actions", None)
        if not actions:
            return False
        action = actions.get(request.method or "")
        if action is None:
            return False
        user = request.user
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.may(action):  # type: ignore[union-attr]
            return True
        record_denial(user, action)
        return False
