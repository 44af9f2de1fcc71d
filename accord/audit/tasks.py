"""The background task that seals committed audit events into their chains."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from accord.audit.chain import seal_pending


@task()
def seal_audit_log() -> int:
    """Seal what is waiting; if anything was, look again shortly for late commits."""
    sealed = seal_pending()
    if sealed and seal_audit_log.get_backend().supports_defer:
        seal_audit_log.using(run_after=timezone.now() + timedelta(seconds=1)).enqueue()
    return sealed
