"""Agency records about a person: the entries of the cross-agency chronology.

A record is an event or note one agency holds (an incident, an attendance, a missed
appointment, a concern). Its summary and body are encrypted at rest. A record is
corrected by a new version, never overwritten: `AgencyRecord` holds the current
version for fast reading and filtering, `RecordVersion` keeps every version.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accord.core.crypto import EncryptedTextField
from accord.partnership.models import Agency, Partnership, User
from accord.people.models import Person
from accord.sharing.vocabulary import InformationCategory


class RecordKind(models.TextChoices):
    INCIDENT = "incident", "Incident"
    ATTENDANCE = "attendance", "Attendance (for example at A&E)"
    CONCERN = "concern", "Concern"
    VISIT = "visit", "Visit"
    MISSED_APPOINTMENT = "missed_appointment", "Missed appointment"
    CONTACT = "contact", "Contact with the victim-survivor"
    CUSTODY = "custody", "Arrest, custody or release"
    NOTE = "note", "Note"


class AgencyRecord(models.Model):
    """The current version of one agency's record about a person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="records")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="records")
    kind = models.CharField(max_length=24, choices=RecordKind.choices)
    category = models.CharField(max_length=24, choices=InformationCategory.choices)
    occurred_at = models.DateTimeField()
    summary = EncryptedTextField()
    body = EncryptedTextField()
    author = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    version = models.PositiveIntegerField(default=1)
    # A member of staff knows, or is, the family: only the named users may see it, and
    # for everyone else (colleagues and admins included) it does not exist.
    restricted = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["person", "occurred_at"], name="record_person_time_idx"),
            models.Index(fields=["agency", "recorded_at"], name="record_agency_time_idx"),
        ]

    def __str__(self) -> str:
        return f"record {self.id} v{self.version}"

    @property
    def named_only(self) -> bool:
        return self.restricted


class RecordVersion(models.Model):
    """One version of a record, kept for ever: corrections add versions."""

    id = models.BigAutoField(primary_key=True)
    record = models.ForeignKey(AgencyRecord, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=24, choices=RecordKind.choices)
    category = models.CharField(max_length=24, choices=InformationCategory.choices)
    occurred_at = models.DateTimeField()
    summary = EncryptedTextField()
    body = EncryptedTextField()
    author = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    correction_reason = EncryptedTextField()

    class Meta:
        ordering = ["record", "version"]
        constraints = [
            models.UniqueConstraint(fields=["record", "version"], name="record_version_unique"),
        ]

    def __str__(self) -> str:
        return f"record {self.record_id} version {self.version}"
