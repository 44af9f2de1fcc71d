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
    # Set when this person was merged into another; it then has no identities, and its
    # id leads to the survivor. Cleared again by unmerging.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

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


# --- The person index -----------------------------------------------------------------
# Matching, the review queue, merges and what the partnership has decided about pairs.
# The code that fills these lives in accord.people.index.


class IndexSettings(models.Model):
    """The partnership's thresholds for the person index, as match probabilities.

    At or above `link_at` a new or changed identity joins the matching person; at or
    above `review_at` (and below `link_at`) the pair goes to the review queue; below,
    the identity stays a person of its own.
    """

    partnership = models.OneToOneField(
        Partnership, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    link_at = models.FloatField(default=0.999)
    review_at = models.FloatField(default=0.5)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "index settings"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    review_at__gt=0, review_at__lt=models.F("link_at"), link_at__lt=1
                ),
                name="index_thresholds_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"index settings of {self.partnership_id}"


class MatchFeatures(models.Model):
    """What the matcher compares of one identity, derived from it and its current,
    non-confidential address (accord.people.index.features). A confidential address
    never reaches the matcher, so neither a score nor the review queue can reveal it.
    """

    identity = models.OneToOneField(
        Identity, on_delete=models.CASCADE, primary_key=True, related_name="match_features"
    )
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    values = models.JSONField(default=dict)
    # Data-quality findings, e.g. ["nhs_number_check_digit", "date_of_birth_impossible"].
    problems = models.JSONField(default=list)
    has_problems = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["partnership", "has_problems"], name="features_problems_idx"),
        ]

    def __str__(self) -> str:
        return f"features of {self.identity_id}"


class BlockKey(models.Model):
    """The candidate index: a row per blocking rule an identity has values for (two for
    a rule on swapped dates or crossed names).

    `key` is a 64-bit hash of (partnership, rule, values); identities sharing a key are
    the pairs the model's blocking rules would compare.
    """

    id = models.BigAutoField(primary_key=True)
    key = models.BigIntegerField()
    identity = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["key"], name="blockkey_key_idx"),
        ]  # the identity foreign key has its own index

    def __str__(self) -> str:
        return f"block key {self.key}"


class TermCount(models.Model):
    """How many identities of the partnership hold a value, for term-frequency
    adjustments (a match on a rare surname counts for more than on a common one).
    The row with an empty value holds the column's count of non-null values."""

    id = models.BigAutoField(primary_key=True)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    column = models.CharField(max_length=40)
    value = models.CharField(max_length=200)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "column", "value"], name="termcount_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.column} count"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Waiting for review"
    NOT_SURE = "not_sure", "Not sure (escalated)"
    SAME = "same", "Same person"
    DIFFERENT = "different", "Different people"
    WITHDRAWN = "withdrawn", "No longer needed"
    # An open pair the matcher, comparing again after a change or in a re-match, no longer
    # put up for review; it opens again when the matcher puts it up again.
    LAPSED = "lapsed", "No longer put up for review"


class NotLinkedBecause(models.TextChoices):
    """Why the matcher left a pair to a person rather than joining it itself."""

    BELOW = "below", "Under the link threshold"
    PAIR = "pair", "Given name and date of birth do not agree, and no identifier does"
    IDENTIFIERS = "identifiers", "One lacks a date of birth or given name; identifiers differ"
    AMBIGUOUS = "ambiguous", "One lacks a date of birth or given name; whose it is is unclear"
    HOUSEHOLD = "household", "Joining would put records that conflict into one person"
    ANOTHER_LINK = "another_link", "The arriving record had joined another person"
    MERGE_REFUSED = "merge_refused", "The merge was refused"


class ReviewItem(models.Model):
    """A pair of identities the matcher scored between the thresholds, or above the
    upper one where something stopped it joining them (`not_linked_because`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    # The pair, lower id first, so that a pair has one item.
    identity_a = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="+")
    identity_b = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="+")
    match_probability = models.FloatField()
    match_weight = models.FloatField()
    # [{"comparison": ..., "label": ..., "weight": ...}] at scoring time.
    contributions = models.JSONField(default=list)
    model_version = models.CharField(max_length=40)
    # Why it was not joined automatically, when the pair was last queued or rescored;
    # blank on items queued before this was recorded.
    not_linked_because = models.CharField(
        max_length=16, choices=NotLinkedBecause.choices, blank=True, default=""
    )
    # Given name and date of birth both recorded on each and wholly different, and no
    # identifier agreeing (as of the last queueing): how two members of one household
    # look. The score counts what a household shares as evidence, so these wait apart.
    names_and_dates_differ = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # When the matcher last queued, rescored or reopened the pair.
    queued_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    decided_at = models.DateTimeField(null=True)
    reason = EncryptedTextField(blank=True, default="")
    # Who marked it "not sure", when and why, kept when another reviewer then decides.
    escalated_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    escalated_at = models.DateTimeField(null=True)
    escalation_reason = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["-match_probability", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["identity_a", "identity_b"], name="review_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(identity_a__lt=models.F("identity_b")),
                name="review_pair_ordered",
            ),
        ]
        indexes = [models.Index(fields=["partnership", "status"], name="review_status_idx")]

    def __str__(self) -> str:
        return f"review {self.id}"


class PairJudgement(models.Model):
    """What a person decided about a pair of identities; "different" is never
    auto-linked again, and a merge that would join them is refused."""

    class Verdict(models.TextChoices):
        SAME = "same", "Same person"
        DIFFERENT = "different", "Different people"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    identity_a = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="+")
    identity_b = models.ForeignKey(Identity, on_delete=models.PROTECT, related_name="+")
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    reason = EncryptedTextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["identity_a", "identity_b"], name="judgement_pair_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(identity_a__lt=models.F("identity_b")),
                name="judgement_pair_ordered",
            ),
        ]
        indexes = [models.Index(fields=["identity_b"], name="judgement_b_idx")]

    def __str__(self) -> str:
        return f"{self.verdict} {self.identity_a_id} {self.identity_b_id}"


class Merge(models.Model):
    """Two persons joined into one, and exactly what moved, so it can be undone.

    `moved` maps each model that refers to a person ("app_label.Model") to the primary
    keys of the rows that pointed at the merged person; unmerging points exactly those
    rows back, and reopens the review items in `withdrawn` as they were. The merged
    person is kept (`Person.merged_into`) so its id stays valid.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    moved = models.JSONField(default=dict)
    # Review items the merge withdrew (pairs it made one person): id -> status before.
    withdrawn = models.JSONField(default=dict)
    review = models.ForeignKey(ReviewItem, on_delete=models.PROTECT, null=True, related_name="+")
    automatic = models.BooleanField(default=False)
    merged_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    merged_at = models.DateTimeField(default=timezone.now)
    reason = EncryptedTextField(blank=True, default="")
    undone_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    undone_at = models.DateTimeField(null=True)
    undo_reason = EncryptedTextField(blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["survivor"], name="merge_survivor_idx"),
            models.Index(fields=["merged"], name="merge_merged_idx"),
        ]

    def __str__(self) -> str:
        return f"merge {self.id}"


class MatchRunStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Finished"
    FAILED = "failed", "Failed"


class MatchRun(models.Model):
    """A batch re-match of the whole index, run in the background, with its progress."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=10, choices=MatchRunStatus.choices, default=MatchRunStatus.QUEUED
    )
    stage = models.CharField(max_length=80, blank=True)
    total = models.IntegerField(default=0)
    done = models.IntegerField(default=0)
    pairs_scored = models.BigIntegerField(default=0)
    links = models.IntegerField(default=0)
    reviews = models.IntegerField(default=0)
    # Open review items the run found no longer alike (lapsed), see batch._rematch.
    lapsed = models.IntegerField(default=0)
    model_version = models.CharField(max_length=40, blank=True)
    finished_at = models.DateTimeField(null=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"match run {self.id}"
