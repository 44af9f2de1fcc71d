"""Password sign-in, closed to users whose agency has been deactivated."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend


class AccordModelBackend(ModelBackend):
    """Django's password backend. For an unknown name it still runs the password hasher,
    so the answer takes as long as for a wrong password."""

    def user_can_authenticate(self, user: Any) -> bool:
        agency = getattr(user, "agency", None)
        return super().user_can_authenticate(user) and (agency is None or agency.is_active)
