"""Pages for the data protection officer: who saw a person's data; the subject access bundle."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accord.core.declare import requires
from accord.partnership.permissions import Action
from accord.people.selectors import person_get_for
from accord.sharing import dpo


@requires(Action.PERSON_AUDIT_VIEW)
@never_cache
@require_GET
def person_who_saw(request: HttpRequest, person_id: Any) -> HttpResponse:
    """Every read, disclosure and refusal of the agency's information about the person."""
    actor: Any = request.user
    person = person_get_for(actor=actor, person_id=person_id)
    lines = dpo.who_saw(actor=actor, person=person)
    return render(request, "web/dpo/who_saw.html", {"person": person, "lines": lines})


def _download(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    # The file name holds no personal data: the agency's export of a person reference.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# The exports are POSTed from the page (with its CSRF token): producing one is an
# audited act, which a link or image on another site must not be able to trigger.
@requires(Action.SUBJECT_ACCESS_EXPORT)
@require_POST
def subject_access_csv(request: HttpRequest, person_id: Any) -> HttpResponse:
    actor: Any = request.user
    person = person_get_for(actor=actor, person_id=person_id)
    bundle = dpo.subject_access_bundle(actor=actor, person=person, export="csv")
    return _download(
        dpo.bundle_csv(bundle), "text/csv; charset=utf-8", f"subject-access-{person.id}.csv"
    )


@requires(Action.SUBJECT_ACCESS_EXPORT)
@require_POST
def subject_access_pdf(request: HttpRequest, person_id: Any) -> HttpResponse:
    actor: Any = request.user
    person = person_get_for(actor=actor, person_id=person_id)
    bundle = dpo.subject_access_bundle(actor=actor, person=person, export="pdf")
    html = render_to_string("web/dpo/subject_access_pdf.html", {"bundle": bundle})
    from weasyprint import HTML

    # No base URL: the document loads nothing from the network or the disk.
    pdf = HTML(string=html, base_url=None).write_pdf()
    return _download(pdf, "application/pdf", f"subject-access-{person.id}.pdf")
