"""Identifiers that arrive as text from forms, URLs and API bodies."""

from __future__ import annotations

import uuid
from typing import Any


def uuid_or_none(value: Any) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (never an exception)."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# Matches no row: for filtering by an id that was not a UUID, so the query still runs
# and finds nothing, exactly as for an id that does not exist.
NO_ID = uuid.UUID(int=0)
