"""Build a fictional partnership from a plain description.

Used by `manage.py demo_data` and by the test cast, so both make partnerships
the same way. Identifiers are derived from names (UUID 5), so running it again
finds the same rows instead of making new ones.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field

from django.db import transaction

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.partnership.models import Agency, Partnership, User
from accord.partnership.vocabulary import TrainingLevel

NAMESPACE = uuid.UUID("6f1c9a52-8d1e-4d7a-9a36-1f0b8c2e7d41")


@dataclass(frozen=True)
class UserSpec:
    username: str
    display_name: str
    role: str
    training_level: str = TrainingLevel.PRACTITIONER


@dataclass(frozen=True)
class AgencySpec:
    key: str
    name: str
    sector: str
    users: tuple[UserSpec, ...] = field(default_factory=tuple)


def stable_id(*parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(parts))


def build_partnership(
    name: str, agencies: list[AgencySpec], *, password: str
) -> tuple[Partnership, dict[str, Agency], dict[str, User]]:
    """Create or refresh the partnership, its agencies and users; return them by key."""
    with transaction.atomic():
        partnership, created = Partnership.objects.update_or_create(
            id=stable_id("partnership", name), defaults={"name": name}
        )
        if created:
            audit_record(
                actor=None,
                action=AuditAction.CREATE,
                partnership_id=partnership.id,
                object_type="partnership",
                object_id=partnership.id,
                changed_fields=["name"],
                reason="fictional data loaded",
            )
        from accord.sharing.services import lawful_bases_seed

        lawful_bases_seed(partnership)
        by_key: dict[str, Agency] = {}
        users: dict[str, User] = {}
        for spec in agencies:
            agency, _ = Agency.objects.update_or_create(
                id=stable_id("agency", name, spec.key),
                defaults={"partnership": partnership, "name": spec.name, "sector": spec.sector},
            )
            by_key[spec.key] = agency
            for person in spec.users:
                user, created = User.objects.update_or_create(
                    id=stable_id("user", person.username),
                    defaults={
                        "username": person.username,
                        "display_name": person.display_name,
                        "agency": agency,
                        "role": person.role,
                        "training_level": person.training_level,
                        "training_date": datetime.date(2025, 1, 15),
                        "is_active": True,
                    },
                )
                if created or not user.check_password(password):
                    user.set_password(password)
                    user.save(update_fields=["password"])
                if created:
                    audit_record(
                        actor=None,
                        action=AuditAction.CREATE,
                        partnership_id=partnership.id,
                        object_type="user",
                        object_id=user.id,
                        changed_fields=["username", "display_name", "agency", "role"],
                        reason="fictional data loaded",
                    )
                users[person.username] = user
    return partnership, by_key, users
