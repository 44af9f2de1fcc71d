"""MARAC meetings and the cases on their agendas.

A MARAC (multi-agency risk assessment conference) is a regular meeting where the
agencies represented share what they hold about victim-survivors at the highest
risk and agree actions. It is not an agency and holds no case of its own: what is
shared *to* a meeting reaches the agencies represented at it, for a case on its
agenda, until the meeting's follow-up ends (`accord.sharing` writes those grants).

This is the part of the MARAC process the sharing core needs: the meeting, who is
represented, and whose cases are on the agenda. Referral forms, research, minutes
and action plans build on it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accord.core.crypto import EncryptedTextField
from accord.partnership.models import Agency, Partnership, User
from accord.people.models import Person


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


class Criterion(models.TextChoices):
    """Why a case is referred (the SafeLives referral form's four reasons)."""

    VISIBLE_HIGH_RISK = "visible_high_risk", "Visible high risk (Dash score at the threshold)"
    PROFESSIONAL_JUDGEMENT = "professional_judgement", "Professional judgement"
    POTENTIAL_ESCALATION = "potential_escalation", "Potential escalation"
    REPEAT = "repeat", "MARAC repeat (within 12 months of the last referral)"


class Meeting(models.Model):
    """One MARAC meeting of a partnership."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    held_at = models.DateTimeField()
    # Information shared to the meeting stays visible to the agencies represented
    # for the meeting and its actions: until this moment.
    follow_up_until = models.DateTimeField()
    agencies = models.ManyToManyField(Agency, related_name="marac_meetings")
    status = models.CharField(
        max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["held_at", "id"]
        indexes = [models.Index(fields=["partnership", "held_at"], name="meeting_held_idx")]

    def __str__(self) -> str:
        return f"MARAC meeting {self.title} ({self.held_at:%Y-%m-%d})"


class Case(models.Model):
    """A victim-survivor's case on one meeting's agenda, put there by a referring agency."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="cases")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="marac_cases")
    number = models.PositiveIntegerField()  # its place on the agenda
    referred_by_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    referred_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    referred_at = models.DateTimeField(default=timezone.now, editable=False)
    criteria = models.JSONField(default=list)
    # Why, in the referrer's words; required for professional judgement.
    notes = EncryptedTextField()
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removal_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["meeting", "number"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "number"], name="marac_case_number_unique"),
            models.UniqueConstraint(
                fields=["meeting", "person"],
                condition=models.Q(removed_at__isnull=True),
                name="marac_case_person_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"MARAC case {self.number} of {self.meeting_id}"

    @property
    def criteria_labels(self) -> list[str]:
        labels = dict(Criterion.choices)
        return [str(labels.get(c, c)) for c in self.criteria]
