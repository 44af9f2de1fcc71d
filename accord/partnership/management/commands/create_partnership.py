"""`manage.py create_partnership`: set up a partnership, its first agency and first admin.

The one way in for a new deployment: every later user and agency is added by an
admin through the pages or the API. The password is asked for twice at the
prompt (or read from ACCORD_INITIAL_ADMIN_PASSWORD for unattended set-up) and
checked by the same validators as every other password.
"""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.partnership.models import Agency, Partnership, User
from accord.partnership.vocabulary import Role, Sector, TrainingLevel
from config import env


class Command(BaseCommand):
    help = "Create a partnership with its first agency and a partnership admin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The partnership's name.")
        parser.add_argument("--agency", required=True, help="The admin's agency.")
        parser.add_argument("--sector", default=Sector.OTHER, choices=Sector.values)
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-name", required=True, help="The admin's full name.")

    def handle(self, *args: Any, **options: Any) -> None:
        if Partnership.objects.filter(name__iexact=options["name"]).exists():
            raise CommandError(f"A partnership called '{options['name']}' already exists.")
        if User.objects.filter(username__iexact=options["admin_username"]).exists():
            raise CommandError(f"The username '{options['admin_username']}' is already taken.")
        password = env.raw("ACCORD_INITIAL_ADMIN_PASSWORD") or self._ask_password()
        admin = User(
            username=options["admin_username"],
            display_name=options["admin_name"],
            role=Role.PARTNERSHIP_ADMIN,
        )
        try:
            validate_password(password, admin)
        except ValidationError as error:
            raise CommandError("The password is refused: " + " ".join(error.messages)) from None
        with transaction.atomic():
            partnership = Partnership.objects.create(name=options["name"])
            from accord.sharing.services import lawful_bases_seed

            lawful_bases_seed(partnership)
            agency = Agency.objects.create(
                partnership=partnership, name=options["agency"], sector=options["sector"]
            )
            admin.agency = agency
            admin.training_level = TrainingLevel.NONE
            admin.set_password(password)
            admin.save(force_insert=True)
            for kind, object_id, fields in (
                ("partnership", partnership.id, ["name"]),
                ("agency", agency.id, ["name", "sector"]),
                ("user", admin.id, ["username", "display_name", "agency", "role", "password"]),
            ):
                audit_record(
                    actor=None,
                    action=AuditAction.CREATE,
                    partnership_id=partnership.id,
                    object_type=kind,
                    object_id=object_id,
                    changed_fields=fields,
                    reason="partnership set up from the command line",
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {partnership.name} with {agency.name}. {admin.username} can now sign in "
                "and will be asked to set up an authenticator app."
            )
        )

    def _ask_password(self) -> str:
        first = getpass.getpass("Password for the partnership admin: ")
        if getpass.getpass("The same password again: ") != first:
            raise CommandError("The two passwords differ.")
        return first
