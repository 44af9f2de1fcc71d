"""Errors services and selectors raise; views and the API turn them into responses."""

from __future__ import annotations


class NotFound(Exception):
    """Missing, or not the actor's to see: the two are never told apart."""


class NotAllowed(Exception):
    """The actor's role does not allow this action."""
