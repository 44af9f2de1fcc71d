"""Forms for the person pages: listed fields only, in plain words.

The agency, author and person always come from the signed-in user and the page,
never from the form. Whether a value is allowed is the services' answer; these forms
only turn what was typed into Python values.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

from accord.cases.models import RecordKind
from accord.partnership.vocabulary import Sector
from accord.people.models import Gender
from accord.sharing.vocabulary import (
    ConsentDecision,
    ConsentGivenBy,
    ConsentMethod,
    InformationCategory,
    Purpose,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class HintedRadioSelect(forms.RadioSelect):
    """Radios whose options may each carry a hint (a lawful basis and when it applies)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.hints: dict[str, str] = {}

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        option["hint"] = self.hints.get(str(value), "")
        return option


def _textarea(rows: int = 5) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _checkboxes(label: str, choices: Any = (), **kwargs: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label, choices=choices, widget=forms.CheckboxSelectMultiple, required=False, **kwargs
    )


def _id_checkboxes(label: str, **kwargs: Any) -> forms.TypedMultipleChoiceField:
    """Checkboxes of users, agencies or records, whose values are their UUIDs."""
    return forms.TypedMultipleChoiceField(
        label=label,
        coerce=uuid.UUID,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        **kwargs,
    )


def at_start_of(day: date) -> datetime:
    """Midnight at the start of a day, in the partnership's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min))


def at_end_of(day: date) -> datetime:
    """Sharing "until" a date lasts through that day."""
    return at_start_of(day + timedelta(days=1))


class PersonSearchForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100, required=False)
    date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DateInput())
    postcode = forms.CharField(label="Postcode", max_length=10, required=False)

    def has_terms(self) -> bool:
        data = self.cleaned_data
        return bool(
            data.get("name", "").strip() or data.get("date_of_birth") or data.get("postcode")
        )


class IdentityForm(forms.Form):
    given_names = forms.CharField(label="Given names", max_length=120, required=False)
    family_name = forms.CharField(
        label="Family name",
        max_length=120,
        error_messages={"required": "Enter the family name."},
    )
    other_names = forms.CharField(
        label="Other names she is known by",
        max_length=240,
        required=False,
        help_text="For example a previous family name.",
    )
    date_of_birth = forms.DateField(label="Date of birth", required=False, widget=DateInput())
    gender = forms.ChoiceField(label="Gender", choices=Gender.choices, initial=Gender.NOT_KNOWN)
    phone = forms.CharField(label="Phone number", max_length=32, required=False)
    email = forms.EmailField(label="Email address", required=False)
    nhs_number = forms.CharField(label="NHS number", max_length=12, required=False)
    police_id = forms.CharField(label="Police reference", max_length=40, required=False)
    local_id = forms.CharField(label="Your agency's own reference", max_length=60, required=False)
    person_reference = forms.UUIDField(
        label="Reference of a person already in Accord",
        required=False,
        help_text=(
            "Only if another agency gave you this person's Accord reference, for example "
            "in a referral. Leave blank to record a new person. The person index will "
            "later suggest these links itself."
        ),
        error_messages={"invalid": "Enter the reference exactly as you were given it."},
    )


class RecordForm(forms.Form):
    kind = forms.ChoiceField(label="What kind of record", choices=RecordKind.choices)
    category = forms.ChoiceField(
        label="Kind of information",
        choices=InformationCategory.choices,
        help_text="Sharing by consent or decision is by kind of information.",
    )
    occurred_on = forms.DateField(
        label="Date it happened",
        widget=DateInput(),
        error_messages={"required": "Enter the date it happened."},
    )
    occurred_time = forms.TimeField(
        label="Time it happened",
        required=False,
        widget=TimeInput(),
        help_text="Leave blank if not known.",
    )
    summary = forms.CharField(
        label="Summary",
        max_length=200,
        help_text="One line, up to 200 characters. Other agencies may see it if sharing allows.",
        error_messages={"required": "Enter a short summary."},
    )
    body = forms.CharField(label="Details", required=False, widget=_textarea(8))

    def occurred_at(self) -> datetime | None:
        day = self.cleaned_data.get("occurred_on")
        if day is None:
            return None
        moment = self.cleaned_data.get("occurred_time") or time.min
        return timezone.make_aware(datetime.combine(day, moment))


class RecordCreateForm(RecordForm):
    restricted = forms.BooleanField(
        label="Restricted: a member of staff knows or is part of the family", required=False
    )
    restricted_to = _id_checkboxes(
        "Who may see a restricted record",
        help_text="You are always named. Nobody else, colleagues included, will know it exists.",
    )

    def __init__(self, *args: Any, users: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["restricted_to"].choices = [  # type: ignore[attr-defined]
            (str(u.id), f"{u.display_name}, {u.agency.name}") for u in users
        ]


class RecordCorrectForm(RecordForm):
    reason = forms.CharField(
        label="Why it is being corrected",
        widget=_textarea(3),
        error_messages={"required": "Say why the record is being corrected."},
    )


class AddressForm(forms.Form):
    lines = forms.CharField(
        label="Address", widget=_textarea(4), error_messages={"required": "Enter the address."}
    )
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        error_messages={"required": "Enter a postcode, such as AB1 2CD."},
    )
    confidential = forms.BooleanField(
        label="Confidential (a refuge, a new home): only the people named below will see it",
        required=False,
    )
    named_users = _id_checkboxes(
        "Users who may see a confidential address",
        help_text="You are always named.",
    )
    named_agencies = _id_checkboxes("Agencies who may see a confidential address")

    def __init__(self, *args: Any, users: Any, agencies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["named_users"].choices = [  # type: ignore[attr-defined]
            (str(u.id), f"{u.display_name}, {u.agency.name}") for u in users
        ]
        self.fields["named_agencies"].choices = [  # type: ignore[attr-defined]
            (str(a.id), a.name) for a in agencies
        ]


class ConsentForm(forms.Form):
    decision = forms.ChoiceField(
        label="Did she agree to share?",
        choices=[
            (ConsentDecision.GIVEN, "Yes, she agreed"),
            (ConsentDecision.REFUSED, "No, she refused"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Say whether she agreed."},
    )
    given_by = forms.ChoiceField(
        label="Who gave the answer",
        choices=ConsentGivenBy.choices,
        widget=forms.RadioSelect,
        initial=ConsentGivenBy.SELF,
        error_messages={"required": "Say who gave the answer."},
    )
    method = forms.ChoiceField(
        label="How",
        choices=ConsentMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Say how she gave it."},
    )
    recipient_agencies = _id_checkboxes("Which agencies may see it")
    recipient_sectors = _checkboxes("Or every agency of these kinds", Sector.choices)
    categories = _checkboxes("Which kinds of information", InformationCategory.choices)
    purposes = _checkboxes("What for", Purpose.choices)
    starts_on = forms.DateField(
        label="Starts",
        required=False,
        widget=DateInput(),
        help_text="Leave blank to start now.",
    )
    expires_on = forms.DateField(
        label="Expiry date",
        required=False,
        widget=DateInput(),
        help_text="Sharing stops at the end of this day. Leave blank if she set no end.",
    )
    explanation = forms.CharField(
        label="What she was told, in plain words",
        widget=_textarea(5),
        help_text="What would be shared, with whom, why, and that she can change her mind.",
        error_messages={"required": "Write, in plain words, what she was told would be shared."},
    )

    def __init__(self, *args: Any, agencies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["recipient_agencies"].choices = [  # type: ignore[attr-defined]
            (str(a.id), a.name) for a in agencies
        ]

    def starts_at(self) -> datetime | None:
        day = self.cleaned_data.get("starts_on")
        if day is None or day == timezone.localdate():
            return None
        return at_start_of(day)

    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        return None if day is None else at_end_of(day)


class ConsentWithdrawForm(forms.Form):
    recipient_agencies = _id_checkboxes("Only for these agencies")
    recipient_sectors = _checkboxes("Only for these kinds of agency")
    categories = _checkboxes("Only these kinds of information")
    note = forms.CharField(
        label="What she said",
        widget=_textarea(3),
        required=False,
        help_text="Do not name anyone.",
    )

    def __init__(self, *args: Any, consent: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sectors = dict(Sector.choices)
        categories = dict(InformationCategory.choices)
        self.fields["recipient_agencies"].choices = [  # type: ignore[attr-defined]
            (str(a.id), a.name) for a in consent.recipient_agencies.all()
        ]
        self.fields["recipient_sectors"].choices = [  # type: ignore[attr-defined]
            (s, sectors.get(s, s)) for s in consent.recipient_sectors
        ]
        self.fields["categories"].choices = [  # type: ignore[attr-defined]
            (c, categories.get(c, c)) for c in consent.categories
        ]
        for name in ("recipient_agencies", "recipient_sectors", "categories"):
            if not self.fields[name].choices:  # type: ignore[attr-defined]
                del self.fields[name]


class DecisionForm(forms.Form):
    categories = _checkboxes("Kinds of information to share", InformationCategory.choices)
    records = _id_checkboxes("Or these records of your agency")
    recipient_agency = forms.ChoiceField(label="To this agency", required=False)
    recipient_user = forms.ChoiceField(label="Or to this person only", required=False)
    recipient_meeting = forms.ChoiceField(
        label="Or to this MARAC meeting",
        required=False,
        help_text=(
            "Every agency represented at the meeting sees it, for her case on the agenda, "
            "until the meeting's follow-up ends. Choose one recipient only."
        ),
    )
    purpose = forms.ChoiceField(
        label="What for",
        choices=[("", "Choose a purpose"), *Purpose.choices],
        error_messages={"required": "Choose what the information is shared for."},
    )
    lawful_basis = forms.ChoiceField(label="Lawful basis", widget=HintedRadioSelect, required=False)
    necessity = forms.CharField(
        label="Why sharing is necessary and proportionate",
        widget=_textarea(5),
        required=False,
    )
    victim_survivor_told = forms.ChoiceField(
        label="Was she told?",
        choices=[("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        required=False,
    )
    not_told_reason = forms.CharField(label="If not, why not", widget=_textarea(3), required=False)
    expires_on = forms.DateField(
        label="Expiry date",
        required=False,
        widget=DateInput(),
        help_text="Sharing stops at the end of this day. Leave blank for no end date.",
    )

    def __init__(
        self,
        *args: Any,
        records: Any,
        agencies: Any,
        users: Any,
        meetings: Any,
        bases: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: Any = self.fields
        fields["records"].choices = [
            (str(r.id), f"{timezone.localtime(r.occurred_at):%d %b %Y}: {r.summary}")
            for r in records
        ]
        fields["recipient_agency"].choices = [("", "Choose an agency")] + [
            (str(a.id), a.name) for a in agencies
        ]
        fields["recipient_user"].choices = [("", "No one person")] + [
            (str(u.id), f"{u.display_name}, {u.agency.name}") for u in users
        ]
        if meetings:
            fields["recipient_meeting"].choices = [("", "No meeting")] + [
                (str(m.id), f"{m.title}, {timezone.localtime(m.held_at):%-d %b %Y}")
                for m in meetings
            ]
        else:
            del fields["recipient_meeting"]
        fields["lawful_basis"].choices = [(str(b.id), b.label) for b in bases]
        fields["lawful_basis"].widget.hints = {str(b.id): b.explanation for b in bases}

    def told(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data.get("victim_survivor_told", ""))

    def expires_at(self) -> datetime | None:
        day = self.cleaned_data.get("expires_on")
        return None if day is None else at_end_of(day)


class NoteForm(forms.Form):
    note = forms.CharField(label="Note", widget=_textarea(3), required=False)


class RefuseForm(forms.Form):
    note = forms.CharField(
        label="Why it is refused",
        widget=_textarea(3),
        error_messages={"required": "Say why the disclosure is refused."},
    )


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label="Why it is revoked",
        widget=_textarea(3),
        error_messages={"required": "Say why the decision is revoked."},
    )


class InformationRequestForm(forms.Form):
    purpose = forms.ChoiceField(
        label="What for",
        choices=[("", "Choose a purpose"), *Purpose.choices],
        error_messages={"required": "Choose what you need it for."},
    )
    message = forms.CharField(
        label="What you need to know and why",
        widget=_textarea(5),
        error_messages={"required": "Say what you need to know and why."},
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why the information is not shared",
        widget=_textarea(3),
        error_messages={"required": "Say why the information is not shared."},
    )
