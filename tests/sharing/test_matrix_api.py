"""The cast matrix for the api: every route with person data, called as every member
of the cast (see tests/sharing/world.py), asserting status, fields and audit rows."""

from __future__ import annotations

# Route names (as in tests/test_doors.py) this module calls as the whole cast.
COVERED: set[str] = set()
