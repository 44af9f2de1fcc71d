"""`manage.py audit_verify`: prove the audit log is whole, or say where it is not."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.audit.chain import checkpoint_problem, seal_pending, verify


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
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="A checkpoint file written by an earlier run (--write-checkpoints), kept "
            "away from the database: every chain must still contain what it records.",
        )
        parser.add_argument(
            "--write-checkpoints",
            type=Path,
            help="Write each chain's current position and hash to this file, to be kept "
            "away from the database and given to a later run as --checkpoints.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from accord.partnership.models import Partnership

        if options["seal_first"]:
            seal_pending()
        recorded = self._read(options["checkpoints"]) if options["checkpoints"] else {}
        problems: list[str] = []
        heads: dict[str, dict[str, object]] = {}
        total = 0
        max_lag = settings.AUDIT_SEAL_MAX_LAG_SECONDS
        partnerships = [str(pk) for pk in Partnership.objects.values_list("id", flat=True)]
        for report in verify(expected=partnerships):
            total += report.sealed
            heads[report.chain] = {"seq": report.sealed, "hash": report.head_hash}
            problem = report.problem
            if problem is None and report.chain in recorded:
                mark = recorded[report.chain]
                problem = checkpoint_problem(report.chain, int(mark["seq"]), str(mark["hash"]))
            line = f"chain {report.chain}: {report.sealed} sealed, {report.waiting} waiting"
            if problem is not None:
                problems.append(f"The audit log has been tampered with: {problem}")
                self.stdout.write(f"{line}; BROKEN at {problem}")
                continue
            if report.oldest_waiting_seconds > max_lag:
                problems.append(
                    f"chain {report.chain}: an event has waited "
                    f"{report.oldest_waiting_seconds:.0f} s to be sealed (limit {max_lag} s); "
                    "is the background worker running?"
                )
            self.stdout.write(f"{line}, intact")
        for chain in sorted(set(recorded) - set(heads)):
            problems.append(
                f"The audit log has been tampered with: chain {chain} is checkpointed "
                "but no longer exists"
            )
        if problems:
            raise CommandError(problems[0])
        if options["write_checkpoints"]:
            options["write_checkpoints"].write_text(json.dumps(heads, indent=1, sort_keys=True))
        self.stdout.write(self.style.SUCCESS(f"Audit log intact: {total} sealed events checked."))

    def _read(self, path: Path) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"The checkpoint file {path} cannot be read: {error}") from None
        if not isinstance(data, dict) or not all(
            isinstance(v, dict) and {"seq", "hash"} <= set(v) for v in data.values()
        ):
            raise CommandError(f"The checkpoint file {path} is not one audit_verify wrote.")
        return data
