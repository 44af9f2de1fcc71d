"""Forms for the person index: deciding a pair, undoing a merge, the thresholds.

Each lists its fields only; who decides, and for which agency, comes from the actor.
Required input is checked by the services, which name the field in their errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from accord.web.people_forms import HintedRadioSelect, _textarea


class ReviewDecisionForm(forms.Form):
    verdict = forms.ChoiceField(
        label="Are these the same person?",
        choices=[
            ("same", "Yes, the same person"),
            ("different", "No, different people"),
            ("not_sure", "Not sure"),
        ],
        widget=HintedRadioSelect,
        required=False,
    )
    reason = forms.CharField(
        label="Why",
        widget=_textarea(4),
        required=False,
        help_text=(
            "Say what you compared, such as a date of birth or an NHS number. Do not name "
            "anyone: the reason is kept with the decision."
        ),
    )

    def __init__(self, *args: Any, escalated: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        hints = {
            "same": "Their records are joined into one person. This can be undone.",
            "different": "They will not be matched again, automatically or by a merge.",
            "not_sure": (
                "The pair stays in the queue, marked escalated, for a reviewer of either "
                "agency to decide."
            ),
        }
        field: Any = self.fields["verdict"]
        if escalated:
            self.without_not_sure()
        field.widget.hints = hints

    def without_not_sure(self) -> None:
        """An escalated pair is decided same or different: "not sure" is not offered again."""
        field: Any = self.fields["verdict"]
        field.choices = [c for c in field.choices if c[0] != "not_sure"]


class MergeUndoForm(forms.Form):
    reason = forms.CharField(
        label="Why these are not the same person",
        widget=_textarea(3),
        required=False,
    )


class IdentityDetachForm(forms.Form):
    reason = forms.CharField(
        label="Why this record is not this person",
        widget=_textarea(3),
        required=False,
    )


def _percent(label: str, hint: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        help_text=hint,
        required=False,
        max_digits=8,
        decimal_places=5,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "spellcheck": "false"}),
        error_messages={
            "invalid": "Give a percentage as a number, such as 99.9.",
            "max_decimal_places": "Give at most 5 decimal places.",
            "max_digits": "Give a percentage below 100.",
            "max_whole_digits": "Give a percentage below 100.",
        },
    )


class ThresholdsForm(forms.Form):
    link_at = _percent(
        "Link automatically at (%)",
        "A new record joins the matching person when the match probability is at least this.",
    )
    review_at = _percent(
        "Send for review at (%)",
        "Pairs at least this likely, and below the link threshold, go to the review queue.",
    )

    @staticmethod
    def as_percent(probability: float) -> str:
        """A probability as the percentage the form shows (0.999 -> "99.9")."""
        text = f"{Decimal(str(probability)) * 100:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    def probability(self, name: str) -> float | None:
        value = self.cleaned_data.get(name)
        return None if value is None else float(value / 100)
