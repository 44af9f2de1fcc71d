"""`manage.py audit_verify`: prove the audit log is whole, or say where it is not."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accord.audit.chain import verify


class Command(BaseCommand):
    help = "Walk every audit chain and report the first altered, deleted or reordered row."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = []
        total = 0
        for chain, count, problem in verify():
            total += count
            if problem is None:
                self.stdout.write(f"chain {chain}: {count} rows, intact")
            else:
                problems.append(problem)
                self.stdout.write(f"chain {chain}: BROKEN at {problem}")
        if problems:
            raise CommandError(f"The audit log has been tampered with: {problems[0]}")
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {total} rows checked."))
