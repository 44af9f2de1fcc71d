"""The partnership's sharing settings: its lawful bases and whether own-agency reads
are audited. For partnership admins and data protection officers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accord.core.declare import requires
from accord.core.errors import NotFound
from accord.partnership.models import Partnership
from accord.partnership.permissions import Action
from accord.sharing import services
from accord.sharing.models import LawfulBasis
from accord.web.views import _apply_errors


class OwnReadsForm(forms.Form):
    audit_own_agency_reads = forms.BooleanField(
        label="Audit reads of one's own agency's records too",
        help_text="Reads of other agencies' records are always audited.",
        required=False,
    )


class LawfulBasisForm(forms.Form):
    label = forms.CharField(
        label="Lawful basis, as staff will see it",
        max_length=200,
        error_messages={"required": "Enter the basis as staff will see it."},
    )
    explanation = forms.CharField(
        label="When it applies (shown as a hint)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    requires_approval = forms.BooleanField(
        label="A second person must approve decisions on this basis", required=False
    )


class LawfulBasisCreateForm(LawfulBasisForm):
    code = forms.CharField(
        label="Short code",
        help_text="Lower-case letters, digits and hyphens, for example 'public-task-housing'.",
        max_length=40,
        error_messages={"required": "Enter a short code."},
    )

    field_order = ["code", "label", "explanation", "requires_approval"]


class LawfulBasisEditForm(LawfulBasisForm):
    is_active = forms.BooleanField(label="Staff may choose this basis", required=False)


@requires(Action.SHARING_SETTINGS_MANAGE)
@require_http_methods(["GET", "POST"])
def sharing_settings(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    partnership = Partnership.objects.get(pk=actor.partnership_id)
    form = OwnReadsForm(
        request.POST or None,
        initial={"audit_own_agency_reads": partnership.audit_own_agency_reads},
    )
    if request.method == "POST" and form.is_valid():
        services.own_agency_reads_audit_set(
            actor=actor, audited=form.cleaned_data["audit_own_agency_reads"]
        )
        messages.success(request, "The sharing settings have been saved.")
        return redirect("web:sharing-settings")
    bases = LawfulBasis.objects.filter(partnership_id=actor.partnership_id).order_by(
        "-is_active", "label"
    )
    return render(request, "web/sharing_settings.html", {"form": form, "bases": bases})


@requires(Action.SHARING_SETTINGS_MANAGE)
@require_http_methods(["GET", "POST"])
def lawful_basis_create(request: HttpRequest) -> HttpResponse:
    form = LawfulBasisCreateForm(request.POST or None, initial={"requires_approval": True})
    if request.method == "POST" and form.is_valid():
        try:
            services.lawful_basis_create(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "The lawful basis has been added.")
            return redirect("web:sharing-settings")
    context = {"form": form, "title": "Add a lawful basis", "submit": "Add the basis"}
    return render(request, "web/form_page.html", context)


@requires(Action.SHARING_SETTINGS_MANAGE)
@require_http_methods(["GET", "POST"])
def lawful_basis_edit(request: HttpRequest, basis_id: Any) -> HttpResponse:
    actor: Any = request.user
    basis = LawfulBasis.objects.filter(pk=basis_id, partnership_id=actor.partnership_id).first()
    if basis is None:
        raise NotFound
    form = LawfulBasisEditForm(
        request.POST or None,
        initial={
            "label": basis.label,
            "explanation": basis.explanation,
            "requires_approval": basis.requires_approval,
            "is_active": basis.is_active,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.lawful_basis_update(actor=actor, basis_id=basis.id, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "The lawful basis has been saved.")
            return redirect("web:sharing-settings")
    context = {"form": form, "title": f"Change '{basis.code}'", "submit": "Save changes"}
    return render(request, "web/form_page.html", context)
