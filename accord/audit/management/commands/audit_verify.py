"""`manage.py audit_verify`: prove the audit log is whole, or say where it is not."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.audit.chain import seal_pending, verify


class Command(BaseCommand):
    help = (
        "Walk every audit chain and report the first altered, deleted or reordered event; "
        "fail too when sealing has fallen behind."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--seal-first",
            action="store_true",
            help="Seal events waiting to be sealed before checking (as the worker would).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["seal_first"]:
            seal_pending()
        problems: list[str] = []
        total = 0
        max_lag = settings.AUDIT_SEAL_MAX_LAG_SECONDS
        from accord.partnership.models import Partnership

        partnerships = [str(pk) for pk in Partnership.objects.values_list("id", flat=True)]
        for report in verify(expected=partnerships):
            total += report.sealed
            line = f"chain {report.chain}: {report.sealed} sealed, {report.waiting} waiting"
            if report.problem is not None:
                problems.append(f"The audit log has been tampered with: {report.problem}")
                self.stdout.write(f"{line}; BROKEN at {report.problem}")
                continue
            if report.oldest_waiting_seconds > max_lag:
                problems.append(
                    f"chain {report.chain}: an event has waited "
                    f"{report.oldest_waiting_seconds:.0f} s to be sealed (limit {max_lag} s); "
                    "is the background worker running?"
                )
            self.stdout.write(f"{line}, intact")
        if problems:
            raise CommandError(problems[0])
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {total} sealed events checked."))
