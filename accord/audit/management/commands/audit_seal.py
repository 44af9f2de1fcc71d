"""`manage.py audit_seal`: seal waiting audit events now (the worker does this too)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accord.audit.chain import seal_pending


class Command(BaseCommand):
    help = "Seal committed audit events into their chains; safe to run at any time."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Sealed {seal_pending()} audit events.")
