"""Page forms: listed fields only; agency and author come from the signed-in user."""

from __future__ import annotations

from typing import Any

from django import forms

from accord.partnership.models import Agency
from accord.partnership.permissions import API_KEY_SCOPES
from accord.partnership.vocabulary import Sector, TrainingLevel


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label="Code",
        help_text="The 6-digit code from your authenticator app, or one of your recovery codes.",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
        error_messages={"required": "Enter the code from your authenticator app."},
    )


class AgencyForm(forms.Form):
    name = forms.CharField(max_length=120, error_messages={"required": "Enter the agency's name."})
    sector = forms.ChoiceField(choices=Sector.choices)
    victim_survivor_word = forms.CharField(
        label="Word for the victim-survivor",
        help_text="Leave blank to use the sector's usual word, such as 'patient' or 'tenant'.",
        max_length=40,
        required=False,
    )


class AgencyEditForm(AgencyForm):
    is_active = forms.BooleanField(label="Agency is active", required=False)


class UserForm(forms.Form):
    display_name = forms.CharField(
        label="Full name", max_length=150, error_messages={"required": "Enter the person's name."}
    )
    email = forms.EmailField(label="Work email", required=False)
    role = forms.ChoiceField(choices=())
    training_level = forms.ChoiceField(
        label="Domestic abuse training level", choices=TrainingLevel.choices
    )
    training_date = forms.DateField(
        label="Date of that training",
        required=False,
        help_text="For example, 2025-03-27.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, roles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles  # type: ignore[attr-defined]


class UserCreateForm(UserForm):
    username = forms.CharField(max_length=150, error_messages={"required": "Enter a username."})
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), empty_label=None)
    password = forms.CharField(
        label="First password",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters. Give it to the person in a safe way.",
    )
    field_order = [
        "username",
        "display_name",
        "email",
        "agency",
        "role",
        "training_level",
        "training_date",
        "password",
    ]

    def __init__(self, *args: Any, agencies: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies  # type: ignore[attr-defined]


class UserEditForm(UserForm):
    is_active = forms.BooleanField(label="May sign in", required=False)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=80,
        help_text="Which system will use it, for example 'Case system'.",
        error_messages={"required": "Give the key a name."},
    )
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in sorted(API_KEY_SCOPES)],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one scope."},
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="Current password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your current password."},
    )
    new_password = forms.CharField(
        label="New password",
        help_text="At least 12 characters. A few unrelated words make a strong password.",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Enter a new password."},
    )
    repeated = forms.CharField(
        label="New password again",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Enter the new password again."},
    )
