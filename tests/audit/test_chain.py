"""The audit chain: sealed rows, tamper detection, append-only on PostgreSQL, no forks."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, ProgrammingError, connection, connections, transaction
from django.test import override_settings

from accord.audit.chain import verify
from accord.audit.models import AuditAction, AuditChainHead, AuditEvent
from accord.audit.services import AuditError, audit_record
from accord.partnership import services
from accord.partnership.models import Agency
from config.env import KeyRing


def _run_verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def _write(cast, count: int = 5) -> list[AuditEvent]:
    return [
        audit_record(
            actor=cast.police_officer,
            action=AuditAction.READ,
            object_type="agency",
            object_id=cast.agency.gp.id,
            basis="owner",
            reason=f"check {n}",
        )
        for n in range(count)
    ]


def _tamper(*statements: tuple[str, list[object]]) -> None:
    """Change the table as someone with the owner's rights could: trigger off, edit, trigger on."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def test_it_chains_rows_of_one_partnership_in_order(cast):
    rows = _write(cast, 3)
    assert [r.seq for r in rows] == [rows[0].seq, rows[0].seq + 1, rows[0].seq + 2]
    assert rows[1].prev_hash == rows[0].hash
    assert rows[2].prev_hash == rows[1].hash
    assert rows[0].chain == str(cast.testshire.id)
    assert rows[0].agency_id == cast.agency.police.id
    assert rows[0].actor_id == cast.police_officer.id
    head = AuditChainHead.objects.get(chain=str(cast.testshire.id))
    assert head.seq == rows[2].seq and head.hash == rows[2].hash


def test_it_keeps_one_chain_per_partnership(cast):
    mine = audit_record(actor=cast.police_officer, action=AuditAction.READ)
    theirs = audit_record(actor=cast.outsider, action=AuditAction.READ)
    assert mine.chain != theirs.chain
    assert theirs.chain == str(cast.elsewhere.id)


def test_verify_reports_an_intact_log(cast):
    _write(cast)
    output = _run_verify()
    assert "Audit log intact" in output
    assert "BROKEN" not in output


def test_verify_finds_an_altered_row(cast):
    rows = _write(cast)
    _tamper(
        ("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["nothing to see", rows[2].id])
    )
    with pytest.raises(CommandError, match="altered"):
        _run_verify()
    problem = next(p for _, _, p in verify() if p is not None)
    assert problem.row_id == rows[2].id


def test_verify_finds_a_changed_basis_even_with_the_hash_kept(cast):
    rows = _write(cast)
    _tamper(("UPDATE audit_auditevent SET basis = 'consent' WHERE id = %s", [rows[1].id]))
    problem = next(p for _, _, p in verify() if p is not None)
    assert problem.row_id == rows[1].id and "altered" in problem.what


def test_verify_finds_a_deleted_row(cast):
    rows = _write(cast)
    _tamper(("DELETE FROM audit_auditevent WHERE id = %s", [rows[2].id]))
    with pytest.raises(CommandError, match="deleted"):
        _run_verify()
    problem = next(p for _, _, p in verify() if p is not None)
    assert problem.seq == rows[2].seq


def test_verify_finds_rows_deleted_from_the_end(cast):
    rows = _write(cast)
    _tamper(("DELETE FROM audit_auditevent WHERE id = %s", [rows[-1].id]))
    problem = next(p for _, _, p in verify() if p is not None)
    assert "end" in problem.what


def test_verify_finds_reordered_rows(cast):
    rows = _write(cast)
    a, b = rows[1], rows[3]
    swap = "UPDATE audit_auditevent SET seq = %s WHERE id = %s"
    _tamper((swap, [-1, a.id]), (swap, [a.seq, b.id]), (swap, [b.seq, a.id]))
    with pytest.raises(CommandError):
        _run_verify()
    problem = next(p for _, _, p in verify() if p is not None)
    assert problem.seq == a.seq


def test_verify_uses_retired_keys_after_rotation(cast, settings):
    _write(cast, 2)
    old = settings.AUDIT_KEYS
    new_key = KeyRing(current_id="new", keys={"new": b"n" * 32, **old.keys})
    settings.AUDIT_KEYS = new_key
    _write(cast, 2)
    assert {r.key_id for r in AuditEvent.objects.all()} == {old.current_id, "new"}
    assert "Audit log intact" in _run_verify()
    settings.AUDIT_KEYS = KeyRing(current_id="new", keys={"new": b"n" * 32})
    with pytest.raises(CommandError, match="not in ACCORD_AUDIT_KEY"):
        _run_verify()


def test_the_database_refuses_update_and_delete(cast):
    row = _write(cast, 1)[0]
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).update(reason="edited")
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=row.pk).delete()
    assert AuditEvent.objects.get(pk=row.pk).reason == row.reason


def test_it_refuses_values_in_changed_fields_and_unknown_actions(cast):
    with pytest.raises(AuditError):
        audit_record(
            actor=cast.police_officer,
            action=AuditAction.UPDATE,
            changed_fields=["Jane Doe, 12 High St"],
        )
    with pytest.raises(AuditError):
        audit_record(actor=cast.police_officer, action="peek")


def test_a_service_whose_audit_row_fails_leaves_nothing_behind(cast, settings):
    before = Agency.objects.count()
    # A key ring whose current key is missing: sealing the row fails.
    settings.AUDIT_KEYS = KeyRing(current_id="gone", keys={})
    with pytest.raises(Exception, match="gone"):
        services.agency_create(
            actor=cast.partnership_admin, name="Unaudited agency", sector="housing"
        )
    assert Agency.objects.count() == before
    assert not Agency.objects.filter(name="Unaudited agency").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain(cast):
    assert connection.vendor == "postgresql"
    writers, per_writer = 8, 15
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write() -> None:
        try:
            barrier.wait()
            for n in range(per_writer):
                with transaction.atomic():
                    audit_record(
                        actor=cast.police_officer,
                        action=AuditAction.READ,
                        reason=f"thread write {n}",
                    )
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    chain = str(cast.testshire.id)
    seqs = list(
        AuditEvent.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))
    written = AuditEvent.objects.filter(chain=chain, reason__startswith="thread write").count()
    assert written == writers * per_writer
    assert all(problem is None for _, _, problem in verify())


def test_two_rows_cannot_take_one_place_in_a_chain(cast):
    row = _write(cast, 1)[0]
    clone = AuditEvent(
        **{f.attname: getattr(row, f.attname) for f in AuditEvent._meta.fields if f.attname != "id"}
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save(force_insert=True)


@override_settings(AUDIT_KEYS=KeyRing(current_id="x", keys={"x": b"x" * 32}))
def test_anonymous_events_without_a_partnership_go_to_the_system_chain(db):
    event = audit_record(actor=None, action=AuditAction.SIGN_IN_FAILED, reason="password refused")
    assert event.chain == "system" and event.actor_id is None and event.actor_kind == "anonymous"
