"""`manage.py demo_data`: the fictional partnership of Northshire, with a user in every role.

Deterministic and idempotent: a second run changes nothing. Every name is made
up and says so.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accord.partnership.seed import AgencySpec, UserSpec, build_partnership
from accord.partnership.vocabulary import Role, Sector, TrainingLevel

DEMO_PASSWORD = "northshire-demo-only"

NORTHSHIRE = [
    AgencySpec(
        "police",
        "Northshire Police (fictional)",
        Sector.POLICE,
        (
            UserSpec("demo.practitioner", "Demo Practitioner", Role.PRACTITIONER),
            UserSpec("demo.spoc", "Demo Agency SPOC", Role.AGENCY_SPOC),
            UserSpec("demo.agencyadmin", "Demo Agency Admin", Role.AGENCY_ADMIN),
            UserSpec(
                "demo.policedpo",
                "Demo Police Data Protection Officer",
                Role.DATA_PROTECTION_OFFICER,
                TrainingLevel.AWARENESS,
            ),
        ),
    ),
    AgencySpec(
        "gp",
        "Larkspur Lane Surgery (fictional)",
        Sector.PRIMARY_HEALTH,
        (UserSpec("demo.gp", "Demo GP", Role.PRACTITIONER),),
    ),
    AgencySpec("hospital", "Northshire General Hospital (fictional)", Sector.ACUTE_HEALTH),
    AgencySpec("ambulance", "Northshire Ambulance Service (fictional)", Sector.AMBULANCE),
    AgencySpec(
        "housing",
        "Northshire Homes (fictional)",
        Sector.HOUSING,
        (UserSpec("demo.housing", "Demo Housing Officer", Role.PRACTITIONER),),
    ),
    AgencySpec(
        "childrens", "Northshire Children's Services (fictional)", Sector.CHILDRENS_SOCIAL_CARE
    ),
    AgencySpec("adults", "Northshire Adult Social Care (fictional)", Sector.ADULT_SOCIAL_CARE),
    AgencySpec("probation", "Northshire Probation (fictional)", Sector.PROBATION),
    AgencySpec("school", "Millbrook Primary School (fictional)", Sector.EDUCATION),
    AgencySpec("mental_health", "Northshire Mind Team (fictional)", Sector.MENTAL_HEALTH),
    AgencySpec("recovery", "Northshire Recovery Service (fictional)", Sector.SUBSTANCE_MISUSE),
    AgencySpec(
        "da_service",
        "Harbour Light Domestic Abuse Service (fictional)",
        Sector.SPECIALIST_DA,
        (
            UserSpec("demo.idva", "Demo IDVA", Role.IDVA, TrainingLevel.ACCREDITED),
            UserSpec(
                "demo.maraccoordinator",
                "Demo MARAC Coordinator",
                Role.MARAC_COORDINATOR,
                TrainingLevel.SPECIALIST,
            ),
        ),
    ),
    AgencySpec(
        "partnership_team",
        "Northshire Community Safety Partnership (fictional)",
        Sector.OTHER,
        (
            UserSpec(
                "demo.maracchair", "Demo MARAC Chair", Role.MARAC_CHAIR, TrainingLevel.SPECIALIST
            ),
            UserSpec(
                "demo.analyst",
                "Demo Partnership Analyst",
                Role.PARTNERSHIP_ANALYST,
                TrainingLevel.AWARENESS,
            ),
            UserSpec(
                "demo.dpo",
                "Demo Data Protection Officer",
                Role.DATA_PROTECTION_OFFICER,
                TrainingLevel.AWARENESS,
            ),
            UserSpec(
                "demo.partnershipadmin",
                "Demo Partnership Admin",
                Role.PARTNERSHIP_ADMIN,
                TrainingLevel.AWARENESS,
            ),
        ),
    ),
]


class Command(BaseCommand):
    help = "Load the fictional Northshire partnership with a user in every role (demo mode only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE:
            raise CommandError(
                "demo_data loads fictional users with a published password: "
                "it runs only with the demo settings."
            )
        _, agencies, users = build_partnership(
            "Northshire (fictional)", NORTHSHIRE, password=DEMO_PASSWORD
        )
        from accord.sharing.demo import load_demo_people

        people = load_demo_people(agencies=agencies, users=users)
        self.stdout.write(
            f"Northshire (fictional): {len(agencies)} agencies, {len(users)} users, "
            f"{people} fictional people."
        )
        self.stdout.write(f"Every demo user's password is: {DEMO_PASSWORD}")
        for user in users.values():
            self.stdout.write(
                f"  {user.username:<24} {user.get_role_display()}, {user.agency.name}"
            )
