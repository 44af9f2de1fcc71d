"""Input and output shapes for people, records, consent, disclosures and requests.

Listed fields only. The agency, author, recorder and decider always come from the
actor, never from the body. What another agency's item shows is decided by the access
policy before it reaches a serializer: a withheld address arrives with its agency and
`withheld` only, and its other fields are left out (so they are declared optional).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accord.api.serializers import page_of
from accord.cases.models import RecordKind
from accord.partnership.vocabulary import Sector
from accord.people.models import Gender
from accord.sharing.models import DecisionStatus, DisclosureDecision, RequestStatus
from accord.sharing.vocabulary import (
    Basis,
    ConsentDecision,
    ConsentGivenBy,
    ConsentMethod,
    InformationCategory,
    Purpose,
)

# --- Small references ----------------------------------------------------------------


class AgencyRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class UserRef(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()


def _inline_nullable(serializer: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The same reference, declared inline as a nullable object: a nullable `$ref` in
    OpenAPI 3.0 (`allOf` beside `nullable`) is read by validators as not nullable."""
    uuid_field = {"type": "string", "format": "uuid"}
    properties = {
        name: uuid_field if isinstance(field, serializers.UUIDField) else {"type": "string"}
        for name, field in serializer().fields.items()
    }
    schema = {
        "type": "object",
        "nullable": True,
        "properties": properties,
        "required": sorted(properties),
    }
    nullable = type(f"Nullable{serializer.__name__}", (serializer,), {})
    return extend_schema_field(schema)(nullable)


NullableAgencyRef = _inline_nullable(AgencyRef)
NullableUserRef = _inline_nullable(UserRef)


def _categories(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=InformationCategory.choices), **kwargs
    )


# --- People ---------------------------------------------------------------------------


class PersonSearchIn(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    postcode = serializers.CharField(max_length=10, required=False, allow_blank=True)

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        if not any(attrs.get(name) for name in ("name", "date_of_birth", "postcode")):
            raise serializers.ValidationError(
                {"name": ["Search by a name, a date of birth or a postcode."]}
            )
        return attrs


class IdentityFields(serializers.Serializer):
    given_names = serializers.CharField(max_length=120, required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    other_names = serializers.CharField(max_length=240, required=False, allow_blank=True)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    nhs_number = serializers.CharField(max_length=12, required=False, allow_blank=True)
    police_id = serializers.CharField(max_length=40, required=False, allow_blank=True)
    local_id = serializers.CharField(max_length=60, required=False, allow_blank=True)


class PersonIn(IdentityFields):
    person = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Link to this person, whose reference reached you (a referral, a MARAC "
        "list); leave out to record a new person.",
    )


class IdentityOut(serializers.Serializer):
    id = serializers.UUIDField()
    person = serializers.UUIDField(source="person_id")
    agency = AgencyRef()
    given_names = serializers.CharField()
    family_name = serializers.CharField()
    other_names = serializers.CharField()
    date_of_birth = serializers.DateField(allow_null=True)
    gender = serializers.ChoiceField(choices=Gender.choices)
    phone = serializers.CharField()
    email = serializers.CharField()
    nhs_number = serializers.CharField()
    police_id = serializers.CharField()
    local_id = serializers.CharField()
    basis = serializers.ChoiceField(
        choices=Basis.choices, source="access_basis", help_text="Why you may see it."
    )


class AddressOut(serializers.Serializer):
    """An address; a confidential one you are not named for has `withheld` true and only
    `id` and `agency` besides."""

    id = serializers.UUIDField()
    agency = AgencyRef()
    withheld = serializers.BooleanField()
    lines = serializers.CharField(required=False)
    postcode = serializers.CharField(required=False)
    confidential = serializers.BooleanField(required=False)
    is_current = serializers.BooleanField(required=False)
    basis = serializers.ChoiceField(choices=Basis.choices, required=False)


class PersonIdentityOut(IdentityOut):
    addresses = AddressOut(many=True)


class FlagOut(serializers.Serializer):
    agency = AgencyRef()
    spoc_request = serializers.BooleanField(
        help_text="Whether you may ask this agency's SPOC to share, by an information request."
    )


class PersonOut(serializers.Serializer):
    id = serializers.UUIDField()
    identities = PersonIdentityOut(many=True)
    other_addresses = AddressOut(
        many=True, help_text="Addresses you may see (or see withheld) of identities you may not."
    )
    flags = FlagOut(many=True, help_text="Agencies that hold more than you may see.")


class AddressIn(serializers.Serializer):
    lines = serializers.CharField(allow_blank=True, help_text="One line per line of the address.")
    postcode = serializers.CharField(max_length=10, allow_blank=True)
    confidential = serializers.BooleanField(required=False, default=False)
    named_users = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=50
    )
    named_agencies = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=50
    )


# --- Records --------------------------------------------------------------------------


class RecordOut(serializers.Serializer):
    id = serializers.UUIDField()
    person = serializers.UUIDField(source="person_id")
    agency = AgencyRef()
    author = NullableUserRef(allow_null=True)
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    category = serializers.ChoiceField(choices=InformationCategory.choices)
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    summary = serializers.CharField()
    body = serializers.CharField()
    version = serializers.IntegerField()
    restricted = serializers.BooleanField()
    basis = serializers.ChoiceField(choices=Basis.choices, source="access_basis")


class ChronologyRecordOut(serializers.Serializer):
    id = serializers.UUIDField()
    agency = AgencyRef()
    author = NullableUserRef(allow_null=True)
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    category = serializers.ChoiceField(choices=InformationCategory.choices)
    occurred_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField()
    summary = serializers.CharField()
    body = serializers.CharField()
    version = serializers.IntegerField()
    basis = serializers.ChoiceField(choices=Basis.choices, source="access_basis")


class ChronologyOut(serializers.Serializer):
    records = ChronologyRecordOut(many=True, help_text="Newest first.")
    flags = FlagOut(many=True, help_text="Agencies that hold more than you may see.")


class VersionOut(serializers.Serializer):
    version = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    category = serializers.ChoiceField(choices=InformationCategory.choices)
    occurred_at = serializers.DateTimeField()
    summary = serializers.CharField()
    body = serializers.CharField()
    author = NullableUserRef(allow_null=True)
    recorded_at = serializers.DateTimeField()
    correction_reason = serializers.CharField()


class RecordDetailOut(RecordOut):
    versions = VersionOut(many=True, help_text="Every version, newest first.")


class RecordIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RecordKind.choices)
    category = serializers.ChoiceField(choices=InformationCategory.choices)
    occurred_at = serializers.DateTimeField()
    summary = serializers.CharField(allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True, default="")
    restricted_to = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        allow_null=True,
        default=None,
        max_length=50,
        help_text="Restrict the record to these users (you are always one of them); "
        "for everyone else it does not exist.",
    )


class RecordCorrectionIn(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why the record is corrected.")
    kind = serializers.ChoiceField(choices=RecordKind.choices, required=False)
    category = serializers.ChoiceField(choices=InformationCategory.choices, required=False)
    occurred_at = serializers.DateTimeField(required=False)
    summary = serializers.CharField(required=False, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True)


# --- Consent --------------------------------------------------------------------------


class WithdrawalOut(serializers.Serializer):
    id = serializers.UUIDField()
    recipient_agencies = AgencyRef(many=True, source="recipient_agencies.all")
    recipient_sectors = serializers.ListField(child=serializers.ChoiceField(Sector.choices))
    categories = _categories()
    note = serializers.CharField()
    withdrawn_at = serializers.DateTimeField()


class ConsentOut(serializers.Serializer):
    id = serializers.UUIDField()
    person = serializers.UUIDField(source="person_id")
    decision = serializers.ChoiceField(choices=ConsentDecision.choices)
    given_by = serializers.ChoiceField(choices=ConsentGivenBy.choices)
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    recipient_agencies = AgencyRef(many=True, source="recipient_agencies.all")
    recipient_sectors = serializers.ListField(child=serializers.ChoiceField(Sector.choices))
    categories = _categories()
    purposes = serializers.ListField(child=serializers.ChoiceField(Purpose.choices))
    starts_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    explanation = serializers.CharField()
    recorded_by = UserRef()
    recorded_at = serializers.DateTimeField()
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawals = WithdrawalOut(many=True, source="withdrawals.all")


class ConsentIn(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ConsentDecision.choices)
    given_by = serializers.ChoiceField(choices=ConsentGivenBy.choices)
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    recipient_agencies = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=50
    )
    recipient_sectors = serializers.ListField(
        child=serializers.ChoiceField(Sector.choices), required=False, default=list
    )
    categories = _categories(required=False, default=list)
    purposes = serializers.ListField(
        child=serializers.ChoiceField(Purpose.choices), required=False, default=list
    )
    starts_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    explanation = serializers.CharField(
        allow_blank=True, help_text="In plain words, what she was told would be shared."
    )
    information_request = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The open request to your agency this consent answers (SPOCs).",
    )


class WithdrawalIn(serializers.Serializer):
    """Name nothing to withdraw the whole consent, or some recipients or categories."""

    recipient_agencies = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=50
    )
    recipient_sectors = serializers.ListField(
        child=serializers.ChoiceField(Sector.choices), required=False, default=list
    )
    categories = _categories(required=False, default=list)
    note = serializers.CharField(required=False, allow_blank=True, default="")


# --- Disclosure decisions -------------------------------------------------------------


class LawfulBasisRef(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label


class DecisionOut(serializers.Serializer):
    id = serializers.UUIDField()
    person = serializers.UUIDField(source="person_id")
    status = serializers.ChoiceField(choices=DecisionStatus.choices)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    lawful_basis = LawfulBasisRef()
    categories = _categories()
    records = serializers.SerializerMethodField(help_text="The records named, besides categories.")
    recipient_agency = NullableAgencyRef(allow_null=True)
    recipient_user = NullableUserRef(allow_null=True)
    recipient_meeting = serializers.SerializerMethodField(
        help_text="The MARAC meeting it was shared to (its agencies see it), if any."
    )
    necessity = serializers.CharField()
    victim_survivor_told = serializers.BooleanField()
    not_told_reason = serializers.CharField()
    decided_by = UserRef()
    decided_at = serializers.DateTimeField()
    approved_by = NullableUserRef(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)
    approval_note = serializers.CharField()
    expires_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoke_reason = serializers.CharField()

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_records(self, decision: DisclosureDecision) -> list[str]:
        return sorted(str(record.id) for record in decision.records.all())

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_recipient_meeting(self, decision: DisclosureDecision) -> str | None:
        case = decision.recipient_case
        return None if case is None else str(case.meeting_id)


class DecisionIn(serializers.Serializer):
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    lawful_basis = serializers.UUIDField(
        allow_null=True, help_text="One of the partnership's lawful bases."
    )
    necessity = serializers.CharField(
        allow_blank=True, help_text="Why sharing is necessary and proportionate."
    )
    victim_survivor_told = serializers.BooleanField(allow_null=True)
    not_told_reason = serializers.CharField(required=False, allow_blank=True, default="")
    categories = _categories(required=False, default=list)
    records = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=100
    )
    recipient_agency = serializers.UUIDField(required=False, allow_null=True, default=None)
    recipient_user = serializers.UUIDField(required=False, allow_null=True, default=None)
    recipient_meeting = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A MARAC meeting with her case on its agenda (purpose 'marac').",
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    information_request = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The open request to your agency this decision answers (SPOCs).",
    )


class ApprovalIn(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RefusalIn(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, help_text="Why the disclosure is refused.")


class RevocationIn(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why the decision is revoked.")


# --- Information requests -------------------------------------------------------------


class RequestOut(serializers.Serializer):
    id = serializers.UUIDField()
    person = serializers.UUIDField(source="person_id")
    from_agency = AgencyRef()
    from_user = UserRef()
    to_agency = AgencyRef()
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    message = serializers.CharField()
    status = serializers.ChoiceField(choices=RequestStatus.choices)
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    decline_reason = serializers.CharField()


class RequestIn(serializers.Serializer):
    to_agency = serializers.UUIDField()
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    message = serializers.CharField(allow_blank=True, help_text="What you need to know and why.")


class DeclineIn(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why the information is not shared.")


IdentityPage = page_of(IdentityOut)
ConsentPage = page_of(ConsentOut)
RequestPage = page_of(RequestOut)
