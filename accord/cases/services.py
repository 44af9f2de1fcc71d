"""Recording and correcting agency records. Corrections add versions; nothing is overwritten."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.cases.models import AgencyRecord, RecordKind, RecordVersion
from accord.core.errors import require
from accord.partnership.models import User
from accord.partnership.permissions import Action
from accord.people.models import Identity
from accord.people.selectors import person_get_for
from accord.sharing.models import AccessGrant
from accord.sharing.vocabulary import Basis, InformationCategory

SUMMARY_MAX = 200


def _check(
    *, kind: str, category: str, occurred_at: datetime | None, summary: str
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if kind not in RecordKind.values:
        errors["kind"] = [f"'{kind}' is not one of the allowed values."]
    if category not in InformationCategory.values:
        errors["category"] = [f"'{category}' is not one of the allowed values."]
    if occurred_at is None:
        errors["occurred_at"] = ["Enter when it happened."]
    elif occurred_at > timezone.now() + timedelta(minutes=5):
        errors["occurred_at"] = ["When it happened cannot be in the future."]
    if not summary.strip():
        errors["summary"] = ["Enter a short summary."]
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = [f"Keep the summary to {SUMMARY_MAX} characters."]
    return errors


def record_create(
    *,
    actor: Any,
    person_id: uuid.UUID,
    kind: str,
    category: str,
    occurred_at: datetime | None,
    summary: str,
    body: str = "",
    restricted_to: Iterable[uuid.UUID] | None = None,
) -> AgencyRecord:
    """Record an event or note about a person the actor's agency knows.

    With `restricted_to`, the record is restricted: only those users (and its author)
    may see it; for everyone else it does not exist.
    """
    require(actor, Action.PERSON_RECORD)
    person = person_get_for(actor=actor, person_id=person_id)
    if not Identity.objects.filter(person=person, agency_id=actor.agency_id).exists():
        # An agency records only about people it knows itself (it holds an identity).
        raise ValidationError({"person": ["Record this person's identity for your agency first."]})
    errors = _check(kind=kind, category=category, occurred_at=occurred_at, summary=summary)
    named = _named_users(actor, restricted_to, errors)
    if errors:
        raise ValidationError(errors)
    assert occurred_at is not None
    author = actor if isinstance(actor, User) else None
    with transaction.atomic():
        record = AgencyRecord.objects.create(
            partnership_id=actor.partnership_id,
            person=person,
            agency_id=actor.agency_id,
            kind=kind,
            category=category,
            occurred_at=occurred_at,
            summary=summary.strip(),
            body=body.strip(),
            author=author,
            restricted=restricted_to is not None,
        )
        RecordVersion.objects.create(
            record=record,
            version=1,
            kind=kind,
            category=category,
            occurred_at=occurred_at,
            summary=record.summary,
            body=record.body,
            author=author,
        )
        if restricted_to is not None:
            _restrict(actor, record, named)
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="record",
            object_id=record.id,
            person_id=person.id,
            changed_fields=["kind", "category", "occurred_at", "summary", "body"]
            + (["restricted"] if record.restricted else []),
        )
    return record


def _named_users(
    actor: Any, restricted_to: Iterable[uuid.UUID] | None, errors: dict[str, list[str]]
) -> set[uuid.UUID]:
    if restricted_to is None:
        return set()
    if not isinstance(actor, User):
        # Only the named users see a restricted record: an agency system is never one
        # of them, so it could not read back what it wrote.
        errors["restricted_to"] = ["An agency system cannot record a restricted record."]
        return set()
    wanted = set(restricted_to) | {actor.id}
    found = set(
        User.objects.filter(
            id__in=wanted, agency__partnership_id=actor.partnership_id, is_active=True
        ).values_list("id", flat=True)
    )
    if found != wanted:
        errors["restricted_to"] = ["Name only active users of this partnership."]
    if not wanted:
        errors["restricted_to"] = ["Name at least one user who may see a restricted record."]
    return found


def _restrict(actor: Any, record: AgencyRecord, users: set[uuid.UUID]) -> None:
    now = timezone.now()
    AccessGrant.objects.write(
        AccessGrant(
            partnership_id=actor.partnership_id,
            person_id=record.person_id,
            holder_agency_id=record.agency_id,
            recipient_user_id=user_id,
            category=record.category,
            item_id=record.id,
            basis=Basis.NAMED,
            source_type="record",
            source_id=record.id,
            valid_from=now,
        )
        for user_id in sorted(users)
    )


def record_correct(
    *,
    actor: Any,
    record_id: uuid.UUID,
    reason: str,
    **changes: Any,
) -> AgencyRecord:
    """Correct a record of the actor's agency by adding a version; earlier versions stay."""
    require(actor, Action.PERSON_RECORD)
    from accord.cases.selectors import own_record_for_correction

    record = own_record_for_correction(actor=actor, record_id=record_id)
    allowed = {"kind", "category", "occurred_at", "summary", "body"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["This field cannot be corrected."]})
    merged = {name: changes.get(name, getattr(record, name)) for name in sorted(allowed)}
    errors = _check(
        kind=merged["kind"],
        category=merged["category"],
        occurred_at=merged["occurred_at"],
        summary=merged["summary"],
    )
    if not reason.strip():
        errors["reason"] = ["Say why the record is being corrected."]
    changed = [name for name in sorted(allowed) if merged[name] != getattr(record, name)]
    if not changed and not errors:
        errors["summary"] = ["Nothing was changed."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        record = AgencyRecord.objects.select_for_update().get(pk=record.pk)
        record.version += 1
        for name in changed:
            setattr(record, name, merged[name])
        record.save(update_fields=[*changed, "version"])
        RecordVersion.objects.create(
            record=record,
            version=record.version,
            kind=record.kind,
            category=record.category,
            occurred_at=record.occurred_at,
            summary=record.summary,
            body=record.body,
            author=actor if isinstance(actor, User) else None,
            correction_reason=reason.strip(),
        )
        if "category" in changed:
            # Named-user grants follow the record into its new category.
            AccessGrant.objects.filter(item_id=record.id, basis=Basis.NAMED).update(
                category=record.category
            )
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="record",
            object_id=record.id,
            person_id=record.person_id,
            changed_fields=changed,
        )
    return record
