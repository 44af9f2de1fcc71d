"""The background task that seals committed audit events into their chains."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus

from accord.audit.chain import seal_pending


def seal_is_queued() -> bool:
    """True when a sealing task is already waiting, so asking again would only pile up."""
    if not seal_audit_log.get_backend().supports_defer:
        return False  # the immediate backend runs it on the spot: nothing ever waits
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=seal_audit_log.module_path, status=TaskResultStatus.READY
    ).exists()


@task()
def seal_audit_log() -> int:
    """Seal what is waiting; if anything was, look again shortly for late commits."""
    sealed = seal_pending()
    if sealed and seal_audit_log.get_backend().supports_defer and not seal_is_queued():
        seal_audit_log.using(run_after=timezone.now() + timedelta(seconds=1)).enqueue()
    return sealed


def request_seal() -> None:
    """Queue a sealing pass unless one is already waiting."""
    if not seal_is_queued():
        seal_audit_log.enqueue()
