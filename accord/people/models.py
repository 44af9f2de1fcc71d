"""People as each agency knows them, and the person those identities belong to.

An `Identity` is owned by one agency: its names, date of birth, identifiers and
addresses, as that agency recorded them. A `Person` gathers the identities the
partnership believes are the same human being (linked by hand until the person
index matches them). Who may see an identity or an address is the access policy's
answer (`accord.sharing.policy`), never this module's.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from accord.core.crypto import EncryptedTextField
from accord.partnership.models import Agency, Partnership, User
from accord.sharing.vocabulary import InformationCategory


class Gender(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    NOT_KNOWN = "not_known", "Not known"


class PrefixIndex(models.Index):
    """An index for case-insensitive prefix search (`istartswith`) on its first expression.

    PostgreSQL compares `istartswith` as `UPPER(column::text) LIKE 'PREFIX%'`; under any
    collation but C, a B-tree serves that LIKE only with the `text_pattern_ops` operator
    class, so on PostgreSQL the first expression gets it. Other databases get a plain
    index on the same expressions.
    """

    def create_sql(self, model: Any, schema_editor: Any, using: str = "", **kwargs: Any) -> Any:
        statement = super().create_sql(model, schema_editor, using=using, **kwargs)
        if schema_editor.connection.vendor == "postgresql":
            parts: dict[str, Any] = statement.parts
            columns = str(parts["columns"])
            depth, end = 0, len(columns)
            for position, char in enumerate(columns):
                depth += {"(": 1, ")": -1}.get(char, 0)
                if char == "," and depth == 0:
                    end = position
                    break
            parts["columns"] = f"{columns[:end]} text_pattern_ops{columns[end:]}"
        return statement


class Person(models.Model):
    """One human being as the partnership knows them, through one or more identities."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"person {self.id}"


class Identity(models.Model):
    """A person as one agency knows them. Its details are contact details (policy category)."""

    category = InformationCategory.CONTACT_DETAILS
    named_only = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="identities")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="identities")
    given_names = models.CharField(max_length=120, blank=True)
    family_name = models.CharField(max_length=120, blank=True)
    other_names = models.CharField(max_length=240, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=12, choices=Gender.choices, default=Gender.NOT_KNOWN)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    nhs_number = models.CharField(max_length=10, blank=True)
    police_id = models.CharField(max_length=40, blank=True)
    local_id = models.CharField(max_length=60, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    # A hint for the access policy's filter, never its answer: true once a grant other
    # than a named one has covered this agency's contact details about this person
    # (`AccessGrant.objects.write` sets it; creating or relinking an identity computes
    # it), and never cleared. Where it is false no other agency can see the identity,
    # so a search skips the grant probe for it. The grants alone decide where it is
    # true, and the property test holds the filter to the check.
    may_be_shared = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "identities"
        indexes = [
            models.Index(fields=["person", "agency"], name="identity_person_agency_idx"),
            # people_search: family-name prefix, and date of birth, without regard to case.
            # It replaces an index on (partnership, family_name), which no `istartswith`
            # can use: it offered the planner the search's order, and with the policy's
            # filter the planner walked it to the end (see bench/RESULTS.md).
            PrefixIndex(
                Upper("family_name"), models.F("date_of_birth"), name="identity_family_prefix_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"identity {self.id}"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_names, self.family_name) if part)


def normalise_postcode(value: str) -> str:
    """Upper case with single inner space ("ab1 2cd" -> "AB1 2CD"); checking is the form's job."""
    compact = "".join(value.split()).upper()
    if len(compact) > 3:
        return f"{compact[:-3]} {compact[-3:]}"
    return compact


class Address(models.Model):
    """An address an agency holds for a person. A confidential address (a refuge, a new
    home) is shown only to the users and agencies named for it, and withheld elsewhere."""

    category = InformationCategory.ADDRESS

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    identity = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="addresses")
    # Copied from the identity so the policy filters addresses as it filters records.
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="addresses")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    lines = EncryptedTextField()
    # The searchable postcode; left blank for a confidential address, whose postcode is
    # kept only encrypted so that no search can find her by it.
    postcode = models.CharField(max_length=10, blank=True, db_index=True)
    postcode_sealed = EncryptedTextField()
    confidential = models.BooleanField(default=False)
    is_current = models.BooleanField(default=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name_plural = "addresses"
        indexes = [models.Index(fields=["person", "agency"], name="address_person_agency_idx")]

    def __str__(self) -> str:
        return f"address {self.id}"

    @property
    def named_only(self) -> bool:
        return self.confidential
