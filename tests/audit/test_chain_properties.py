"""Property: whatever single change is made to a sealed chain, verify names where it is."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.audit.chain import seal_pending, verify
from accord.audit.models import AuditAction, AuditSeal
from accord.audit.services import audit_record

TAMPERING = ["alter", "delete_event", "delete_seal", "swap_with_next", "none"]


class _Rollback(Exception):
    pass


def _execute(*statements: tuple[str, list[object]]) -> None:
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_auditseal DISABLE TRIGGER USER")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE audit_auditseal ENABLE TRIGGER USER")


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    count=st.integers(min_value=2, max_value=10),
    position=st.integers(min_value=0, max_value=9),
    tampering=st.sampled_from(TAMPERING),
    batch=st.integers(min_value=1, max_value=4),
)
def test_verify_finds_any_single_change_where_it_was_made(cast, count, position, tampering, batch):
    position = position % (count - 1)  # leave a next event for swapping
    try:
        with transaction.atomic():
            events = [
                audit_record(actor=cast.idva, action=AuditAction.READ, reason=f"r{n}")
                for n in range(count)
            ]
            seal_pending(batch=batch)
            seals = {
                s.event_id: s for s in AuditSeal.objects.filter(event_id__in=[e.id for e in events])
            }
            target, following = seals[events[position].id], seals[events[position + 1].id]
            if tampering == "alter":
                _execute(
                    (
                        "UPDATE audit_auditevent SET reason = 'changed' WHERE id = %s",
                        [target.event_id],
                    )
                )
            elif tampering == "delete_event":
                _execute(("DELETE FROM audit_auditevent WHERE id = %s", [target.event_id]))
            elif tampering == "delete_seal":
                _execute(("DELETE FROM audit_auditseal WHERE event_id = %s", [target.event_id]))
            elif tampering == "swap_with_next":
                swap = "UPDATE audit_auditseal SET seq = %s WHERE event_id = %s"
                _execute(
                    (swap, [-1, target.event_id]),
                    (swap, [target.seq, following.event_id]),
                    (swap, [following.seq, target.event_id]),
                )
            reports = {r.chain: r for r in verify()}
            problem = reports[str(cast.testshire.id)].problem
            if tampering == "none":
                assert problem is None
            else:
                assert problem is not None, tampering
                assert problem.seq == target.seq, (tampering, problem)
            raise _Rollback
    except _Rollback:
        pass
