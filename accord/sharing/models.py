"""Consent, disclosure decisions, information requests and the access grants they write.

Consent, disclosure decisions and named-user lists each write rows into
`AccessGrant` in the same transaction as the decision itself; withdrawal,
revocation or expiry ends those rows. The access policy reads only the grants
(see `accord.sharing.policy`), so the single-item check and the list filter
answer from the same facts, and each grant says why an actor may see an item.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils import timezone

from accord.core.crypto import EncryptedTextField
from accord.partnership.models import Agency, Partnership, User
from accord.partnership.vocabulary import Sector
from accord.people.models import Identity, Person
from accord.sharing.vocabulary import (
    Basis,
    ConsentDecision,
    ConsentGivenBy,
    ConsentMethod,
    InformationCategory,
    Purpose,
)


class LawfulBasis(models.Model):
    """A lawful basis a partnership's agencies may record for sharing without consent.

    Seeded from the domain facts; each partnership may add, relabel or retire its own,
    and says for which ones a second person must approve the decision.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=200)
    explanation = models.CharField(max_length=500, blank=True)
    requires_approval = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "code"], name="lawful_basis_code_unique")
        ]

    def __str__(self) -> str:
        return self.label


class Consent(models.Model):
    """What the victim-survivor agreed (or refused) to let the recording agency share.

    The recording agency is the controller that asked her: her consent lets *its*
    records be shared with the recipients in scope, for the categories and purposes
    in scope, from `starts_at` until `expires_at`. Withdrawals are kept beside it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="consents")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="consents_held")
    decision = models.CharField(max_length=10, choices=ConsentDecision.choices)
    given_by = models.CharField(max_length=16, choices=ConsentGivenBy.choices)
    method = models.CharField(max_length=10, choices=ConsentMethod.choices)
    recipient_agencies = models.ManyToManyField(Agency, blank=True, related_name="+")
    recipient_sectors = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list)
    purposes = models.JSONField(default=list)
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    # In plain words, what she was told would be shared, with whom and why.
    explanation = EncryptedTextField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["person", "agency"], name="consent_person_agency_idx")]

    def __str__(self) -> str:
        return f"consent {self.id} ({self.decision})"


class ConsentWithdrawal(models.Model):
    """A withdrawal of consent, whole or in part. Empty lists mean "all of it"."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, related_name="withdrawals")
    recipient_agencies = models.ManyToManyField(Agency, blank=True, related_name="+")
    recipient_sectors = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    note = EncryptedTextField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"withdrawal {self.id} of consent {self.consent_id}"


class DecisionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused by the approver"
    REVOKED = "revoked", "Revoked"


class DisclosureDecision(models.Model):
    """A decision to share without consent, or beyond it, on a recorded lawful basis.

    Golden rule 7: the decision and its reasons are recorded, with what, to whom,
    why, who decided and who approved. Grants are written only once it is approved
    (at once, when the partnership does not require a second person for the basis).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="decisions")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="decisions_made")
    categories = models.JSONField(default=list, blank=True)
    records = models.ManyToManyField("cases.AgencyRecord", blank=True, related_name="+")
    recipient_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # To a MARAC meeting, for her case on its agenda: the agencies represented at it,
    # until the meeting's follow-up ends (or the decision's own expiry, if sooner), and
    # only while the case stays on the agenda.
    recipient_case = models.ForeignKey(
        "marac.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disclosures",
    )
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    lawful_basis = models.ForeignKey(LawfulBasis, on_delete=models.PROTECT, related_name="+")
    necessity = EncryptedTextField()
    victim_survivor_told = models.BooleanField()
    not_told_reason = EncryptedTextField()
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now, editable=False)
    status = models.CharField(max_length=10, choices=DecisionStatus.choices)
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approval_note = EncryptedTextField()
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = EncryptedTextField()

    class Meta:
        indexes = [models.Index(fields=["agency", "status"], name="decision_agency_status_idx")]

    def __str__(self) -> str:
        return f"disclosure decision {self.id} ({self.status})"

    @property
    def recipient_label(self) -> str:
        """To whom, in words: an agency, one named user, or a MARAC meeting."""
        if self.recipient_agency is not None:
            return str(self.recipient_agency.name)
        if self.recipient_user is not None:
            return f"{self.recipient_user.display_name} only"
        assert self.recipient_case is not None
        meeting = self.recipient_case.meeting
        held = timezone.localtime(meeting.held_at)
        return f"the agencies at {meeting.title} on {held:%-d %b %Y} (MARAC)"


class GrantManager(models.Manager["AccessGrant"]):
    def write(self, grants: Iterable[AccessGrant]) -> list[AccessGrant]:
        """Save new grants, and mark the identities they may make visible.

        Every grant is written through here, so `Identity.may_be_shared` is true
        wherever a grant covers an agency's contact details about a person."""
        grants = list(grants)
        made = self.bulk_create(grants)
        shared = {
            (g.person_id, g.holder_agency_id)
            for g in grants
            if g.basis != Basis.NAMED and g.category == InformationCategory.CONTACT_DETAILS
        }
        if shared:
            which = models.Q()
            for person_id, agency_id in shared:
                which |= models.Q(person_id=person_id, agency_id=agency_id)
            Identity.objects.filter(which, may_be_shared=False).update(may_be_shared=True)
        return made

    def covering_contact_details(self, *, person_id: Any, agency_id: Any) -> Any:
        """The grants that ever covered this agency's contact details about this person
        (the ids may be `OuterRef`s, for a subquery)."""
        return self.filter(
            person_id=person_id,
            holder_agency_id=agency_id,
            category=InformationCategory.CONTACT_DETAILS,
        ).exclude(basis=Basis.NAMED)

    def cover_contact_details(self, *, person_id: uuid.UUID, agency_id: uuid.UUID) -> bool:
        """Has a grant ever covered this agency's contact details about this person?"""
        return self.covering_contact_details(person_id=person_id, agency_id=agency_id).exists()


class AccessGrant(models.Model):
    """One permission to see a holder agency's items about a person, and why.

    A grant names its recipient (an agency, every agency of a sector, or one user),
    the category it covers, or one item (`item_id`: a record or an address). It is
    live from `valid_from` until `valid_until` unless `ended_at` is set.
    """

    id = models.BigAutoField(primary_key=True)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    holder_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recipient_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recipient_sector = models.CharField(max_length=32, choices=Sector.choices, blank=True)
    recipient_user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    category = models.CharField(max_length=24, choices=InformationCategory.choices)
    item_id = models.UUIDField(null=True, blank=True)
    basis = models.CharField(max_length=12, choices=Basis.choices)
    lawful_basis = models.CharField(max_length=40, blank=True)
    purposes = models.JSONField(default=list, blank=True)
    source_type = models.CharField(max_length=40)
    source_id = models.UUIDField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = GrantManager()

    class Meta:
        indexes = [
            # The policy's probe, per item: covering, so that it reads only this index.
            models.Index(
                fields=["person", "holder_agency", "category"],
                name="grant_person_holder_idx",
                condition=models.Q(ended_at__isnull=True),
                include=[
                    "recipient_agency",
                    "recipient_sector",
                    "recipient_user",
                    "basis",
                    "item_id",
                    "valid_from",
                    "valid_until",
                ],
            ),
            models.Index(
                fields=["item_id"], name="grant_item_idx", condition=models.Q(ended_at__isnull=True)
            ),
            models.Index(fields=["source_id"], name="grant_source_idx"),
        ]

    def __str__(self) -> str:
        return f"grant {self.id} ({self.basis})"


class RequestStatus(models.TextChoices):
    OPEN = "open", "Waiting for an answer"
    ANSWERED = "answered", "Answered"
    DECLINED = "declined", "Declined"


class InformationRequest(models.Model):
    """A request, from the page's "held elsewhere" flag, to the holding agency's SPOC."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    from_user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="requests_in")
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    message = EncryptedTextField()
    status = models.CharField(max_length=10, choices=RequestStatus.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    answered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    decline_reason = EncryptedTextField()
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, blank=True)
    decision = models.ForeignKey(
        DisclosureDecision, on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        indexes = [models.Index(fields=["to_agency", "status"], name="request_to_status_idx")]

    def __str__(self) -> str:
        return f"information request {self.id} ({self.status})"
