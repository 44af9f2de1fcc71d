"""Forms for MARAC meetings and referrals."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from accord.marac.models import Criterion
from accord.web.people_forms import DateInput, TimeInput, _checkboxes, _textarea, at_end_of


def _agencies_field() -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        label="Agencies represented",
        coerce=uuid.UUID,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class MeetingAgenciesForm(forms.Form):
    agencies = _agencies_field()

    def __init__(self, *args: Any, agencies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agencies"].choices = [(a.id, a.name) for a in agencies]  # type: ignore[attr-defined]


class MeetingForm(MeetingAgenciesForm):
    title = forms.CharField(
        label="Title",
        max_length=120,
        help_text="For example 'Northgate MARAC'.",
        required=False,
    )
    held_on = forms.DateField(label="Date of the meeting", widget=DateInput(), required=False)
    held_time = forms.TimeField(label="Start time", widget=TimeInput(), required=False)
    follow_up_on = forms.DateField(
        label="Follow-up ends",
        widget=DateInput(),
        required=False,
        help_text=(
            "What is shared to the meeting stays visible to the agencies represented, for "
            "its actions, through this day. Leave blank for 90 days after the meeting."
        ),
    )
    field_order = ["title", "held_on", "held_time", "follow_up_on", "agencies"]

    def held_at(self) -> datetime | None:
        day = self.cleaned_data.get("held_on")
        if day is None:
            return None
        moment = self.cleaned_data.get("held_time") or datetime.min.time()
        return timezone.make_aware(datetime.combine(day, moment))

    def follow_up_until(self) -> datetime | None:
        day = self.cleaned_data.get("follow_up_on")
        return None if day is None else at_end_of(day)


class CancelForm(forms.Form):
    reason = forms.CharField(label="Why it is cancelled", widget=_textarea(3), required=False)


class RemoveCaseForm(forms.Form):
    reason = forms.CharField(
        label="Why her case is taken off the agenda", widget=_textarea(3), required=False
    )


class ReferralForm(forms.Form):
    meeting = forms.ChoiceField(label="Meeting", required=False)
    criteria = _checkboxes("Referral criteria met", Criterion.choices)
    notes = forms.CharField(
        label="Why, in your words",
        widget=_textarea(5),
        required=False,
        help_text=(
            "Needed for professional judgement. Shown with the referral to your agency only."
        ),
    )

    def __init__(self, *args: Any, meetings: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meeting"].choices = [("", "Choose a meeting")] + [  # type: ignore[attr-defined]
            (str(m.id), f"{m.title}, {timezone.localtime(m.held_at):%-d %b %Y %H:%M}")
            for m in meetings
        ]
