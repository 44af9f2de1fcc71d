"""The person index's pages: the review queue, one pair side by side with the decision,
undoing a merge, an agency's data-quality list, and the partnership's thresholds and
batch re-matches.

Thin views over `accord.people.index.review` (and `batch` for a re-match): what each
side of a pair shows is the access policy's answer, and every read of another agency's
identity is audited there. Nothing personal travels in a URL: pairs, merges and runs
are named by their UUIDs.
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.core.declare import requires
from accord.core.errors import NotFound
from accord.partnership.permissions import Action
from accord.people import selectors as people
from accord.people.index import review
from accord.people.index.merge import identity_detach as detach
from accord.people.index.merge import merge_undo as undo_merge
from accord.people.models import MatchRunStatus, NotLinkedBecause, ReviewStatus
from accord.web import index_forms as forms
from accord.web.people_views import BASIS_LABELS, FORM, _apply_errors

QUEUE_VIEWS = (
    ("waiting", "Waiting for review"),
    ("differ", "Given name and date of birth differ"),
    ("escalated", "Escalated"),
    ("decided", "Decided or closed"),
)
# A merge refused, or a pair decided meanwhile: said against the decision itself.
DECISION_ERRORS = {
    "merged": "verdict",
    "survivor": "verdict",
    "meeting": "verdict",
    "review": "verdict",
    "status": "verdict",
}
RUNNING = (MatchRunStatus.QUEUED, MatchRunStatus.RUNNING)

# In the queue, beside the probability, for a pair above the link threshold.
QUEUE_NOT_LINKED: dict[str, str] = {
    NotLinkedBecause.BELOW: "",
    NotLinkedBecause.PAIR: "Not joined: given name and date of birth differ",
    NotLinkedBecause.IDENTIFIERS: "Not joined: their identifiers differ",
    NotLinkedBecause.AMBIGUOUS: "Not joined: one lacks a date of birth or name; whose is unclear",
    NotLinkedBecause.HOUSEHOLD: "Not joined: the safeguard keeps their records apart",
    NotLinkedBecause.ANOTHER_LINK: "Not joined: the record joined another person",
    NotLinkedBecause.MERGE_REFUSED: "Not joined: the merge was refused",
}
# In its place where the reviewer may not see one side: why rests on that side's fields
# or on what its person holds (a MARAC case, other records).
QUEUE_NOT_LINKED_WITHHELD = "Not joined: why is not shown to you"

# Why the matcher left the pair to a person, as the reviewer reads it. Only what the
# pair's own comparison (shown below it) says, or a fact about the two persons: never
# anything read from a record the reviewer may not see. Where the reviewer may not see
# one side, NOT_LINKED_WITHHELD instead (`_not_linked`). (That a vague pair was held as
# ambiguous does say some other record made it a guess: docs/matching.md.)
_ABOVE = "It was above the partnership's threshold for joining records automatically, but "
NOT_LINKED: dict[str, str] = {
    NotLinkedBecause.BELOW: (
        "It was under the partnership's threshold for joining records automatically, "
        "so a person decides."
    ),
    NotLinkedBecause.PAIR: _ABOVE
    + (
        "the two records do not agree on given name and date of birth together, and no "
        "NHS number or police identifier agrees. Twins, siblings and a parent and child "
        "of the same name can look like this, so Accord never joins such records without "
        "a person deciding. An agency may also have recorded the person under another "
        "given name, or a date of birth wrongly: check what each agency holds before you "
        "decide."
    ),
    NotLinkedBecause.IDENTIFIERS: _ABOVE
    + (
        "one of the two records has no date of birth or no given name, so they agree on "
        "the other alone, and the two hold NHS numbers or police identifiers that differ "
        "by more than a typo. A parent and a child of the same name can look like this. "
        "Check what each agency holds before you decide."
    ),
    NotLinkedBecause.AMBIGUOUS: _ABOVE
    + (
        "one of the two records has no date of birth or no given name, so they agree on "
        "the other alone, and Accord cannot tell whose record it is. A parent and a "
        "child of the same name can look like this, so a person decides. "
        "Check what each agency holds before you decide."
    ),
    NotLinkedBecause.HOUSEHOLD: _ABOVE
    + (
        "joining them would also put into one person other records that the safeguard "
        "keeps apart (records that do not agree on given name and date of birth and "
        "share no identifier): this is how a family chains into one person. Check each "
        "person's records before you decide."
    ),
    NotLinkedBecause.ANOTHER_LINK: _ABOVE
    + (
        "the arriving record had just been joined to another person, and Accord joins "
        "a record to one person at a time. If this pair is the same person too, the two "
        "persons are one."
    ),
    NotLinkedBecause.MERGE_REFUSED: _ABOVE
    + (
        "joining them was refused (for example, both are on one MARAC meeting's agenda), "
        "so a person decides."
    ),
}
NOT_LINKED_WITHHELD = _ABOVE + (
    "why is not shown to you: it rests on what the other agency's record holds, which is "
    "not shared with you."
)

MINUS = "\N{MINUS SIGN}"
BASES: dict[str, str] = {str(basis): label for basis, label in BASIS_LABELS.items()}
# The details a data-quality problem can be about, as the record forms name them.
FIELD_LABELS = {
    "given_names": "Given names",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "postcode": "Postcode",
    "phone": "Phone",
    "email": "Email",
    "nhs_number": "NHS number",
}


def signed_weight(weight: float) -> str:
    """A match weight with its sign, to one decimal place: "+7.3", or "-4.1" with a true
    minus sign (U+2212), which screen readers read as "minus"."""
    rounded = round(weight, 1)
    if rounded == 0:
        return "0.0"
    return f"{'+' if rounded > 0 else MINUS}{abs(rounded):.1f}"


def percent(probability: float) -> str:
    """A match probability as a percentage, cut (never rounded) to the digits that tell
    close ones apart: 72.5%, 99.954%. Cut, so that nothing below 100% shows as 100% and
    nothing below a threshold shows as the threshold."""
    value = round(probability * 100, 6)
    places = 3 if value >= 99.9 else 1
    scale = 10**places
    text = f"{math.floor(round(value * scale, 6)) / scale:.{places}f}"
    if places == 3:
        text = text.rstrip("0")
    return f"{text}%"


# --- The queue and one pair -------------------------------------------------------------


@requires(Action.PERSON_INDEX_REVIEW)
@never_cache
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """The pairs touching the actor's agency that the matcher could not decide."""
    actor: Any = request.user
    status = request.GET.get("status", "waiting")
    if status not in review.QUEUE_STATUSES:
        status = "waiting"
    queue = review.review_queue(actor=actor, status=status, page=request.GET.get("page", 1))
    rows = [
        {
            "entry": entry,
            "probability": percent(entry.item.match_probability),
            "not_linked": _not_linked(
                entry.item.not_linked_because,
                entry.withheld,
                QUEUE_NOT_LINKED,
                QUEUE_NOT_LINKED_WITHHELD,
            ),
        }
        for entry in queue.entries
    ]
    context = {
        "queue": queue,
        "rows": rows,
        "views": QUEUE_VIEWS,
        "title": dict(QUEUE_VIEWS)[status],
    }
    return render(request, "web/index/queue.html", context)


def _item_page(
    request: HttpRequest, item_id: Any, *, form: Any = None, status: int = 200
) -> HttpResponse:
    actor: Any = request.user
    view = review.review_item_for(actor=actor, item_id=item_id)
    if form is None:
        form = forms.ReviewDecisionForm(escalated=view.escalated)
    elif view.escalated:
        form.without_not_sure()
    contributions = [
        {"title": c.title, "label": c.label, "weight": signed_weight(c.weight)}
        for c in view.contributions
    ]
    context = {
        "view": view,
        "sides": [{"side": s, "basis": BASES.get(s.basis, "")} for s in view.sides],
        "form": form,
        "contributions": contributions,
        "prior": signed_weight(view.prior_weight),
        "total": signed_weight(view.match_weight),
        "probability": percent(view.match_probability),
        "queued_probability": (
            percent(view.queued_probability) if view.queued_probability is not None else ""
        ),
        "not_linked": _not_linked(
            view.item.not_linked_because, view.comparisons_withheld, NOT_LINKED, NOT_LINKED_WITHHELD
        ),
        "hidden_agency": next(
            (s.agency.name for s in view.sides if not s.visible or s.addresses_not_shared), ""
        ),
        "hidden_address": all(s.visible for s in view.sides),
    }
    return render(request, "web/index/item.html", context, status=status)


def _not_linked(because: str, withheld: bool, texts: dict[str, str], hidden: str) -> str:
    """Why the pair was not joined, in `texts`' words; where the reviewer may not see
    one side, only that it was above the link threshold (`hidden`)."""
    if withheld and because not in ("", NotLinkedBecause.BELOW):
        return hidden
    return texts.get(because, "")


@requires(Action.PERSON_INDEX_REVIEW)
@never_cache
@require_GET
def review_item(request: HttpRequest, item_id: Any) -> HttpResponse:
    """One pair side by side, as the policy allows, with why the matcher scored it so."""
    return _item_page(request, item_id)


@requires(Action.PERSON_INDEX_REVIEW)
@require_POST
def review_decide(request: HttpRequest, item_id: Any) -> HttpResponse:
    actor: Any = request.user
    form = forms.ReviewDecisionForm(request.POST)
    if form.is_valid():
        try:
            decided = review.review_decide(
                actor=actor,
                item_id=item_id,
                verdict=form.cleaned_data["verdict"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _apply_errors(form, error, DECISION_ERRORS)
        else:
            status = decided.item.status
            if status == ReviewStatus.SAME and decided.merge is not None:
                messages.success(
                    request, "They are now one person. The merge can be undone from this page."
                )
                return redirect("web:person", person_id=decided.merge.survivor_id)
            done: dict[str, str] = {
                ReviewStatus.SAME: "They were one person already. Your decision is recorded.",
                ReviewStatus.DIFFERENT: (
                    "Recorded as different people. They will not be matched again."
                ),
                ReviewStatus.NOT_SURE: (
                    "Escalated. The pair stays in the queue for a reviewer of either agency."
                ),
            }
            messages.success(request, done[status])
            return redirect("web:index-queue")
    return _item_page(request, item_id, form=form, status=400)


# --- Undoing a merge --------------------------------------------------------------------


@requires(Action.PERSON_INDEX_REVIEW)
@require_http_methods(["GET", "POST"])
def merge_undo(request: HttpRequest, person_id: Any, merge_id: Any) -> HttpResponse:
    """Separate a person merged into this one, by review or automatically."""
    actor: Any = request.user
    subject = people.person_get_for(actor=actor, person_id=person_id)
    merge = review.merge_get_for(actor=actor, person=subject, merge_id=merge_id)
    form = forms.MergeUndoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            undo_merge(actor=actor, merge_id=merge.id, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            _apply_errors(form, error, {})
        else:
            messages.success(request, "The merge is undone: they are two people again.")
            return redirect("web:person", person_id=subject.id)
    how = "automatically" if merge.automatic else "by review"
    return _reason_page(
        request,
        subject,
        form,
        title="Undo this merge",
        submit="Undo the merge",
        intro=(
            f"Another person was merged into this one {how} on "
            f"{merge.merged_at:%-d %B %Y}. Undoing it separates them again: what each agency "
            "recorded about the other person goes back to it."
        ),
    )


def _reason_page(
    request: HttpRequest, subject: Any, form: Any, *, title: str, submit: str, intro: str
) -> HttpResponse:
    """A reviewer's form about one person that asks only why (400 after a refused post)."""
    actor: Any = request.user
    context = {
        "form": form,
        "person": subject,
        "title": title,
        "caption": str(actor.agency.word_for_victim_survivor).capitalize(),
        "submit": submit,
        "intro": intro,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, FORM, context, status=status)


# --- Taking one record out of a person ---------------------------------------------------


@requires(Action.PERSON_INDEX_REVIEW)
@require_http_methods(["GET", "POST"])
def identity_detach(request: HttpRequest, person_id: Any, identity_id: Any) -> HttpResponse:
    """Take one record out of this person into a person of its own: for a record joined
    to the wrong person, where undoing the merge that joined it cannot (a later merge
    stands) or would separate more than that record."""
    actor: Any = request.user
    subject = people.person_get_for(actor=actor, person_id=person_id)
    identity = review.detachable_get_for(actor=actor, person=subject, identity_id=identity_id)
    form = forms.IdentityDetachForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = detach(
                actor=actor,
                identity_id=identity.id,
                reason=form.cleaned_data["reason"],
                from_person_id=subject.id,
            )
        except ValidationError as error:
            _apply_errors(form, error, {"identity": "reason"})
        else:
            messages.success(
                request,
                f"{identity.agency.name}'s record is now a person of its own.",
            )
            return _a_page_of(actor, subject.id, new.id)
    name = identity.full_name or "a person whose name it does not record"
    agency, recorded = identity.agency.name, timezone.localtime(identity.recorded_at)
    return _reason_page(
        request,
        subject,
        form,
        title="Take a record out of this person",
        submit="Take the record out",
        intro=(
            f"{agency}'s record of {name}, recorded on {recorded:%-d %B %Y}, "
            "becomes a person of its own, with its addresses. What "
            f"{agency} recorded about this person goes with it only if {agency} has no "
            "other record in this person. To separate two people a merge joined, undo the "
            "merge instead."
        ),
    )


def _a_page_of(actor: Any, *person_ids: Any) -> HttpResponse:
    """To the first of these persons' pages the actor may open (detaching her agency's
    only record takes its records with it: her agency may no longer know the person it
    came from); else to the review queue."""
    for person_id in person_ids:
        try:
            people.person_get_for(actor=actor, person_id=person_id)
        except NotFound:
            continue
        return redirect("web:person", person_id=person_id)
    return redirect("web:index-queue")


# --- Data quality -----------------------------------------------------------------------


@requires(Action.DATA_QUALITY_VIEW)
@never_cache
@require_GET
def data_quality(request: HttpRequest) -> HttpResponse:
    """The agency's own records of people whose details the matcher cannot trust."""
    actor: Any = request.user
    entries, page = review.data_quality_for(actor=actor, page=request.GET.get("page", 1))
    rows = [
        {
            "entry": entry,
            "problems": [(FIELD_LABELS.get(p.field, p.field), p.message) for p in entry.problems],
        }
        for entry in entries
    ]
    context = {"rows": rows, "page": page, "named": actor.may(Action.PERSON_VIEW)}
    return render(request, "web/index/data_quality.html", context)


# --- Thresholds and batch re-matches ----------------------------------------------------


def _settings_page(
    request: HttpRequest, *, form: forms.ThresholdsForm | None = None, status: int = 200
) -> HttpResponse:
    actor: Any = request.user
    current = review.index_settings_for(actor=actor)
    if form is None:
        form = forms.ThresholdsForm(
            initial={
                "link_at": forms.ThresholdsForm.as_percent(current.link_at),
                "review_at": forms.ThresholdsForm.as_percent(current.review_at),
            }
        )
    runs = review.match_runs_for(actor=actor)
    context = {
        "form": form,
        "current": current,
        "link_at": percent(current.link_at),
        "review_at": percent(current.review_at),
        "runs": runs,
        "running": any(run.status in RUNNING for run in runs),
        "active": RUNNING,
    }
    return render(request, "web/index/settings.html", context, status=status)


@requires(Action.PERSON_INDEX_MANAGE)
@never_cache
@require_http_methods(["GET", "POST"])
def index_settings(request: HttpRequest) -> HttpResponse:
    """The thresholds, and the latest batch re-matches with their progress."""
    if request.method != "POST":
        return _settings_page(request)
    form = forms.ThresholdsForm(request.POST)
    if form.is_valid():
        try:
            review.index_settings_update(
                actor=request.user,
                link_at=form.probability("link_at"),  # type: ignore[arg-type]
                review_at=form.probability("review_at"),  # type: ignore[arg-type]
            )
        except ValidationError as error:
            _apply_errors(form, error, {})
        else:
            messages.success(
                request,
                "The thresholds are saved. They apply to records matched from now on; "
                "re-match the whole index to apply them to every record.",
            )
            return redirect("web:index-settings")
    return _settings_page(request, form=form, status=400)


@requires(Action.PERSON_INDEX_MANAGE)
@require_POST
def index_rematch(request: HttpRequest) -> HttpResponse:
    """Start a batch re-match of the whole index, in the background."""
    from accord.people.index.batch import match_run_start

    try:
        match_run_start(actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, "The re-match has started. Its progress shows below; you may leave this page."
        )
    return redirect("web:index-settings")


@requires(Action.PERSON_INDEX_MANAGE)
@never_cache
@require_GET
def index_run(request: HttpRequest, run_id: Any) -> HttpResponse:
    """One re-match's progress, for the settings page to poll while it runs (opened
    directly, the settings page shows it whole)."""
    run = review.match_run_get_for(actor=request.user, run_id=run_id)
    if not request.headers.get("HX-Request"):
        return redirect("web:index-settings")
    return render(request, "web/index/_run.html", {"run": run, "active": RUNNING})
