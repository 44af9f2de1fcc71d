"""Errors services and selectors raise; views and the API turn them into responses."""

from __future__ import annotations

from typing import Any


class NotFound(Exception):
    """Missing, or not the actor's to see: the two are never told apart."""


class NotAllowed(Exception):
    """The actor's role does not allow this action."""


def require(actor: Any, action: str) -> None:
    """Refuse with NotAllowed unless the actor's role (or key's scopes) allow `action`.

    Services call this first: a page or endpoint declares its action too, but a
    service must not trust its caller to have checked."""
    if not actor.may(action):
        raise NotAllowed
