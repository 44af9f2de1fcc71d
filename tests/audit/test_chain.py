"""The audit log: one cheap write per act, sealed into a chain, tampering found."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, ProgrammingError, connection, connections, transaction

from accord.audit.chain import seal_pending, verify
from accord.audit.models import AuditAction, AuditChainHead, AuditEvent, AuditPending, AuditSeal
from accord.audit.services import AuditError, audit_record
from accord.partnership import services
from accord.partnership.models import Agency
from config.env import KeyRing


def _run_verify() -> str:
    out = StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def _first_problem():
    return next(r.problem for r in verify() if r.problem is not None)


def _write(cast, count: int = 5) -> list[AuditEvent]:
    events = [
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
    seal_pending()
    return events


def _seal_of(event: AuditEvent) -> AuditSeal:
    return AuditSeal.objects.get(event_id=event.id)


def _tamper(*statements: tuple[str, list[object]]) -> None:
    """Change the tables as someone with the owner's rights could: triggers off, edit, on."""
    with connection.cursor() as cursor:
        for table in ("audit_auditevent", "audit_auditseal"):
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for sql, params in statements:
            cursor.execute(sql, params)
        for table in ("audit_auditevent", "audit_auditseal"):
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def test_an_event_is_written_in_one_statement_and_queued_for_sealing(cast):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        event = audit_record(actor=cast.police_officer, action=AuditAction.READ)
    assert len(queries) == 1
    assert AuditPending.objects.filter(event_id=event.id).exists()
    assert not AuditSeal.objects.filter(event_id=event.id).exists()
    assert event.chain == str(cast.testshire.id)
    assert event.agency_id == cast.agency.police.id and event.actor_id == cast.police_officer.id


def test_sealing_chains_events_of_one_partnership_in_order(cast):
    events = _write(cast, 3)
    seals = [_seal_of(e) for e in events]
    assert [s.seq for s in seals] == [seals[0].seq, seals[0].seq + 1, seals[0].seq + 2]
    assert seals[1].prev_hash == seals[0].hash and seals[2].prev_hash == seals[1].hash
    assert not AuditPending.objects.exists()
    head = AuditChainHead.objects.get(chain=str(cast.testshire.id))
    assert (head.seq, head.hash) == (seals[2].seq, seals[2].hash)


def test_it_keeps_one_chain_per_partnership(cast):
    mine = audit_record(actor=cast.police_officer, action=AuditAction.READ)
    theirs = audit_record(actor=cast.outsider, action=AuditAction.READ)
    assert mine.chain != theirs.chain
    assert theirs.chain == str(cast.elsewhere.id)


def test_verify_reports_an_intact_log(cast):
    _write(cast)
    output = _run_verify()
    assert "Audit log intact" in output and "BROKEN" not in output


def test_verify_finds_an_altered_event(cast):
    events = _write(cast)
    sql = "UPDATE audit_auditevent SET reason = %s WHERE id = %s"
    _tamper((sql, ["nothing to see", events[2].id]))
    with pytest.raises(CommandError, match="altered"):
        _run_verify()
    assert _first_problem().event_id == events[2].id


def test_verify_finds_a_changed_basis(cast):
    events = _write(cast)
    _tamper(("UPDATE audit_auditevent SET basis = 'consent' WHERE id = %s", [events[1].id]))
    problem = _first_problem()
    assert problem.event_id == events[1].id and "altered" in problem.what


def test_verify_finds_a_deleted_event(cast):
    events = _write(cast)
    _tamper(("DELETE FROM audit_auditevent WHERE id = %s", [events[2].id]))
    with pytest.raises(CommandError, match="deleted"):
        _run_verify()
    problem = _first_problem()
    assert problem.event_id == events[2].id and "its event was deleted" in problem.what


def test_verify_finds_a_deleted_seal(cast):
    events = _write(cast)
    seal = _seal_of(events[2])
    _tamper(("DELETE FROM audit_auditseal WHERE event_id = %s", [events[2].id]))
    with pytest.raises(CommandError, match="deleted or reordered"):
        _run_verify()
    assert _first_problem().seq == seal.seq


def test_verify_finds_an_event_and_seal_deleted_from_the_end(cast):
    events = _write(cast)
    _tamper(
        ("DELETE FROM audit_auditseal WHERE event_id = %s", [events[-1].id]),
        ("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].id]),
    )
    assert "at the end were deleted" in _first_problem().what


def test_verify_finds_reordered_events(cast):
    events = _write(cast)
    a, b = _seal_of(events[1]), _seal_of(events[3])
    swap = "UPDATE audit_auditseal SET seq = %s WHERE event_id = %s"
    _tamper((swap, [-1, a.event_id]), (swap, [a.seq, b.event_id]), (swap, [b.seq, a.event_id]))
    with pytest.raises(CommandError):
        _run_verify()
    assert _first_problem().seq == a.seq


def test_verify_finds_an_event_slipped_in_around_the_service(cast):
    events = _write(cast, 2)
    forged = AuditEvent.objects.get(pk=events[0].pk)
    forged.pk = None
    forged.reason = "forged"
    forged.save(force_insert=True)
    assert "outside the audit service" in _first_problem().what


def test_verify_fails_when_sealing_falls_behind(cast, settings):
    _write(cast, 1)
    late = audit_record(actor=cast.police_officer, action=AuditAction.READ)
    _tamper(
        (
            "UPDATE audit_auditevent SET occurred_at = occurred_at - interval '1 hour' "
            "WHERE id = %s",
            [late.id],
        )
    )
    with pytest.raises(CommandError, match=r"waited .* to be sealed"):
        _run_verify()
    # Once the worker catches up, the alarm clears.
    out = StringIO()
    call_command("audit_verify", "--seal-first", stdout=out)
    assert "Audit log intact" in out.getvalue()


def test_verify_uses_retired_keys_after_rotation(cast, settings):
    _write(cast, 2)
    old = settings.AUDIT_KEYS
    settings.AUDIT_KEYS = KeyRing(current_id="new", keys={"new": b"n" * 32, **old.keys})
    _write(cast, 2)
    assert {s.key_id for s in AuditSeal.objects.all()} == {old.current_id, "new"}
    assert "Audit log intact" in _run_verify()
    settings.AUDIT_KEYS = KeyRing(current_id="new", keys={"new": b"n" * 32})
    with pytest.raises(CommandError, match="not in ACCORD_AUDIT_KEY"):
        _run_verify()


def test_sealing_with_a_missing_key_writes_nothing(cast, settings):
    event = audit_record(actor=cast.police_officer, action=AuditAction.READ)
    settings.AUDIT_KEYS = KeyRing(current_id="gone", keys={})
    with pytest.raises(Exception, match="gone"):
        seal_pending()
    assert AuditPending.objects.filter(event_id=event.id).exists()
    assert not AuditSeal.objects.exists()


def test_the_database_refuses_update_and_delete(cast):
    event = _write(cast, 1)[0]
    for query in (
        AuditEvent.objects.filter(pk=event.pk),
        AuditSeal.objects.filter(event_id=event.pk),
    ):
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
            query.update(**({"reason": "edited"} if query.model is AuditEvent else {"hash": "x"}))
        with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
            query.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == event.reason


def test_it_refuses_values_in_changed_fields_and_unknown_actions(cast):
    with pytest.raises(AuditError):
        audit_record(
            actor=cast.police_officer,
            action=AuditAction.UPDATE,
            changed_fields=["Jane Doe, 12 High St"],
        )
    with pytest.raises(AuditError):
        audit_record(actor=cast.police_officer, action="peek")


def test_a_service_whose_audit_write_fails_leaves_nothing_behind(cast):
    """The database refuses the audit insert (a full disk, a lost grant): the act fails."""
    before = Agency.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION refuse_audit() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit store unavailable'; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_auditevent
                FOR EACH ROW EXECUTE FUNCTION refuse_audit();
        """)
    with pytest.raises(Exception, match="audit store unavailable"):
        services.agency_create(
            actor=cast.partnership_admin, name="Unaudited agency", sector="housing"
        )
    assert Agency.objects.count() == before
    assert not Agency.objects.filter(name="Unaudited agency").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_sealers_never_fork_the_chain(cast):
    assert connection.vendor == "postgresql"
    writers, sealers, per_writer = 6, 2, 20
    barrier = threading.Barrier(writers + sealers)
    done = threading.Event()
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

    def seal() -> None:
        try:
            barrier.wait()
            while not done.is_set():
                seal_pending(batch=7)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    threads += [threading.Thread(target=seal) for _ in range(sealers)]
    for thread in threads:
        thread.start()
    for thread in threads[:writers]:
        thread.join()
    done.set()
    for thread in threads[writers:]:
        thread.join()
    seal_pending()
    assert errors == []
    chain = str(cast.testshire.id)
    seqs = list(AuditSeal.objects.filter(chain=chain).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    written = AuditEvent.objects.filter(chain=chain, reason__startswith="thread write")
    assert written.count() == writers * per_writer
    assert AuditSeal.objects.filter(event_id__in=written.values("id")).count() == written.count()
    assert all(report.problem is None for report in verify())


@pytest.mark.django_db(transaction=True)
def test_events_are_sealed_once_their_transaction_commits(cast):
    with transaction.atomic():
        event = audit_record(actor=cast.police_officer, action=AuditAction.READ)
        assert not AuditSeal.objects.filter(event_id=event.id).exists()
    # The test settings seal as soon as a transaction commits (no worker to wait for).
    assert AuditSeal.objects.filter(event_id=event.id).exists()


def test_two_seals_cannot_take_one_place_in_a_chain(cast):
    event = _write(cast, 1)[0]
    seal = _seal_of(event)
    clone = AuditSeal(
        event_id=event.id + 10_000,
        chain=seal.chain,
        seq=seal.seq,
        key_id=seal.key_id,
        prev_hash=seal.prev_hash,
        hash=seal.hash,
        sealed_at=seal.sealed_at,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save(force_insert=True)


def test_anonymous_events_without_a_partnership_go_to_the_system_chain(db):
    event = audit_record(actor=None, action=AuditAction.SIGN_IN_FAILED, reason="password refused")
    assert event.chain == "system" and event.actor_id is None and event.actor_kind == "anonymous"


def test_sealing_is_asked_for_once_while_a_request_is_waiting(cast, settings):
    """With the worker's database queue, repeated requests never pile up sealing tasks."""
    from django_tasks_db.models import DBTaskResult

    from accord.audit.tasks import request_seal, seal_audit_log

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    request_seal()
    request_seal()
    waiting = DBTaskResult.objects.filter(task_path=seal_audit_log.module_path)
    assert waiting.count() == 1
    waiting.delete()  # as if the worker had taken it
    audit_record(actor=cast.police_officer, action=AuditAction.READ)
    # The worker runs the task: it seals, and queues one follow-up for late commits...
    assert seal_audit_log.call() >= 1
    assert waiting.count() == 1
    # ...but not a second while that one waits, and none once there is nothing to seal.
    assert seal_audit_log.call() == 0
    assert waiting.count() == 1


def test_verify_finds_a_partnership_whose_whole_log_was_removed(cast):
    _write(cast, 2)
    chain = str(cast.testshire.id)
    _tamper(
        ("DELETE FROM audit_auditseal WHERE chain = %s", [chain]),
        ("DELETE FROM audit_auditevent WHERE chain = %s", [chain]),
        ("DELETE FROM audit_auditpending WHERE chain = %s", [chain]),
        ("DELETE FROM audit_auditchainhead WHERE chain = %s", [chain]),
    )
    with pytest.raises(CommandError, match="no audit log at all"):
        _run_verify()


def test_a_trimmed_chain_with_its_head_set_back_is_caught_by_a_checkpoint(cast, tmp_path):
    events = _write(cast, 4)
    checkpoint = tmp_path / "audit-checkpoints.json"
    call_command("audit_verify", "--write-checkpoints", str(checkpoint), stdout=StringIO())
    last, before = _seal_of(events[-1]), _seal_of(events[-2])
    _tamper(
        ("DELETE FROM audit_auditseal WHERE event_id = %s", [last.event_id]),
        ("DELETE FROM audit_auditevent WHERE id = %s", [last.event_id]),
        (
            "UPDATE audit_auditchainhead SET seq = %s, hash = %s WHERE chain = %s",
            [before.seq, before.hash, last.chain],
        ),
    )
    # Without the checkpoint the trimmed chain looks whole; with it, it does not.
    assert "Audit log intact" in _run_verify()
    with pytest.raises(CommandError, match="checkpointed seal is gone"):
        call_command("audit_verify", "--checkpoints", str(checkpoint), stdout=StringIO())


def test_an_event_deleted_while_waiting_is_reported_and_blocks_nothing(cast):
    lost = audit_record(actor=cast.police_officer, action=AuditAction.READ)
    kept = audit_record(actor=cast.police_officer, action=AuditAction.READ)
    _tamper(("DELETE FROM audit_auditevent WHERE id = %s", [lost.id]))
    seal_pending(batch=1)
    assert AuditSeal.objects.filter(event_id=kept.id).exists()
    problem = _first_problem()
    assert problem.event_id == lost.id and "waiting to be sealed was deleted" in problem.what
