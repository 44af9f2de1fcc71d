"""Pages: thin views over selectors and services. Each declares its permission."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accord.api import services as api_keys
from accord.core.declare import public, requires
from accord.partnership import selectors, services
from accord.partnership.permissions import Action
from accord.sharing import selectors as sharing_selectors
from accord.web.forms import (
    AgencyEditForm,
    AgencyForm,
    ApiKeyForm,
    PasswordChangeForm,
    UserCreateForm,
    UserEditForm,
)


def _apply_errors(form: Form, error: ValidationError) -> None:
    for field, field_messages in error.message_dict.items():
        target = field if field in form.fields else None
        for message in field_messages:
            form.add_error(target, message)


@public
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """For the load balancer: the process is up. Says nothing else."""
    return JsonResponse({"status": "ok"})


@requires(Action.HOME_VIEW)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    # The work queue fills as referrals, requests and actions arrive (later issues).
    actor: Any = request.user
    context = {
        "queue": [],
        "approvals": sharing_selectors.decisions_awaiting_approval(actor=actor),
        "requests_in": sharing_selectors.requests_to_agency(actor=actor),
    }
    return render(request, "web/home.html", context)


@requires(Action.ACCOUNT_VIEW)
@never_cache
@require_http_methods(["GET", "POST"])
def account_password(request: HttpRequest) -> HttpResponse:
    """Change one's own password; required at the first sign-in after an admin set it."""
    actor: Any = request.user
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            update_session_auth_hash(request, actor)
            messages.success(request, "Your password has been changed.")
            return redirect("web:home")
    title = "Choose your own password" if actor.must_change_password else "Change your password"
    return render(
        request, "web/form_page.html", {"form": form, "title": title, "submit": "Change password"}
    )


@requires(Action.AGENCY_VIEW)
@require_GET
def agency_list(request: HttpRequest) -> HttpResponse:
    agencies = selectors.agencies_for(actor=request.user)  # type: ignore[arg-type]
    return render(request, "web/agency_list.html", {"agencies": agencies})


@requires(Action.AGENCY_MANAGE)
@require_http_methods(["GET", "POST"])
def agency_create(request: HttpRequest) -> HttpResponse:
    form = AgencyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agency = services.agency_create(actor=request.user, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"{agency.name} has been added.")
            return redirect("web:agency-list")
    return render(
        request,
        "web/form_page.html",
        {"form": form, "title": "Add an agency", "submit": "Add agency"},
    )


@requires(Action.AGENCY_MANAGE)
@require_http_methods(["GET", "POST"])
def agency_edit(request: HttpRequest, agency_id: str) -> HttpResponse:
    agency = selectors.agency_get_for(actor=request.user, agency_id=agency_id)  # type: ignore[arg-type]
    initial = {
        "name": agency.name,
        "sector": agency.sector,
        "victim_survivor_word": agency.victim_survivor_word,
        "is_active": agency.is_active,
    }
    form = AgencyEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.agency_update(actor=request.user, agency=agency, **form.cleaned_data)  # type: ignore[arg-type]
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "The agency has been updated.")
            return redirect("web:agency-list")
    return render(
        request,
        "web/form_page.html",
        {"form": form, "title": f"Change {agency.name}", "submit": "Save changes"},
    )


@requires(Action.USER_VIEW)
@require_http_methods(["GET", "POST"])
def user_list(request: HttpRequest) -> HttpResponse:
    """Users the admin may manage, filtered by name or username as they type (htmx).

    The search is posted, not put in the address, so staff names stay out of logs.
    """
    query = request.POST.get("q", "").strip()[:100]
    users = selectors.users_for(actor=request.user)  # type: ignore[arg-type]
    if query:
        users = users.filter(Q(display_name__icontains=query) | Q(username__icontains=query))
    template = "web/_user_rows.html" if request.headers.get("HX-Request") else "web/user_list.html"
    return render(request, template, {"users": users, "query": query})


@requires(Action.USER_MANAGE)
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    form = UserCreateForm(
        request.POST or None,
        roles=selectors.roles_assignable_by(actor=actor),
        agencies=selectors.agencies_assignable_by(actor=actor),
        initial={"agency": actor.agency_id},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_create(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"{user.display_name} can now sign in as {user.username}.")
            return redirect("web:user-list")
    return render(
        request, "web/form_page.html", {"form": form, "title": "Add a user", "submit": "Add user"}
    )


@requires(Action.USER_MANAGE)
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, user_id: str) -> HttpResponse:
    actor: Any = request.user
    user = selectors.user_get_for(actor=actor, user_id=user_id)
    initial = {name: getattr(user, name) for name in services.USER_EDITABLE}
    form = UserEditForm(
        request.POST or None, roles=selectors.roles_assignable_by(actor=actor), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(actor=actor, user=user, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"{user.display_name}'s details have been updated.")
            return redirect("web:user-list")
    return render(
        request,
        "web/user_edit.html",
        {
            "form": form,
            "title": f"Change {user.display_name}",
            "submit": "Save changes",
            "person": user,
        },
    )


@requires(Action.USER_MANAGE)
@require_POST
def user_reset_second_factor(request: HttpRequest, user_id: str) -> HttpResponse:
    actor: Any = request.user
    user = selectors.user_get_for(actor=actor, user_id=user_id)
    services.user_reset_second_factor(actor=actor, user=user)
    messages.success(
        request, f"{user.display_name} will set up a new authenticator app when they next sign in."
    )
    return redirect("web:user-edit", user_id=user.pk)


@requires(Action.USER_MANAGE)
@require_POST
def user_unlock_sign_in(request: HttpRequest, user_id: str) -> HttpResponse:
    actor: Any = request.user
    user = selectors.user_get_for(actor=actor, user_id=user_id)
    services.user_unlock_sign_in(actor=actor, user=user)
    messages.success(request, f"{user.display_name} can try to sign in again now.")
    return redirect("web:user-edit", user_id=user.pk)


@requires(Action.API_KEY_MANAGE)
@never_cache  # an issued key is on this page once; no cache may keep it
@require_http_methods(["GET", "POST"])
def api_key_list(request: HttpRequest) -> HttpResponse:
    actor: Any = request.user
    form = ApiKeyForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            _key, issued = api_keys.api_key_issue(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            form = ApiKeyForm()
    return render(
        request,
        "web/api_keys.html",
        {
            "form": form,
            "keys": api_keys.api_keys_for(actor=actor),
            "issued": issued,
        },
    )


@requires(Action.API_KEY_MANAGE)
@require_POST
def api_key_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    key = api_keys.api_key_revoke(actor=request.user, key_id=key_id)  # type: ignore[arg-type]
    messages.success(request, f"The key '{key.name}' has been revoked.")
    return redirect("web:api-key-list")
