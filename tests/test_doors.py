"""Doors into data: every view declares its permission, and the permission map fails closed."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accord.core.declare import PUBLIC, declared_action
from accord.partnership.permissions import RULES, Action, role_may
from accord.partnership.vocabulary import Role

# The only views anyone may open without signing in.
PUBLIC_VIEWS = {
    "web:sign-in",
    "web:second-factor",
    "web:second-factor-setup",
    "web:sign-out",
    "web:health",
}


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}", entry.callback


ROUTES = list(_walk(get_resolver().url_patterns))


def test_the_resolver_has_routes_to_check():
    assert len(ROUTES) > 15


@pytest.mark.parametrize(("route", "name", "callback"), ROUTES, ids=[r[1] for r in ROUTES])
def test_every_view_declares_its_permission(route, name, callback):
    declared = declared_action(callback)
    assert declared is not None, f"{route} ({name}) declares no permission"
    if declared == PUBLIC:
        assert name in PUBLIC_VIEWS, f"{route} ({name}) is public but not on the public list"
        return
    api_class = getattr(callback, "cls", None)
    if api_class is not None:
        from accord.api.permissions import DeclaredActionPermission

        assert DeclaredActionPermission in api_class.permission_classes, (
            f"{route} ({name}) does not check its declared actions"
        )
        from accord.api.authentication import ApiKeyAuthentication, VerifiedSessionAuthentication

        # Plain session authentication would let a password-only session in.
        assert set(api_class.authentication_classes) <= {
            ApiKeyAuthentication,
            VerifiedSessionAuthentication,
        }, f"{route} ({name}) accepts other authentication"
    actions = declared.values() if isinstance(declared, dict) else [declared]
    for action in actions:
        assert action in RULES, f"{route} ({name}) uses '{action}', which has no rule"


def test_an_action_with_no_rule_is_refused_for_every_role():
    for role in Role:
        assert not role_may(role, "case.delete_everything")
        assert not role_may(role, "")


def test_every_declared_action_has_a_rule():
    assert set(Action) == set(RULES)


def test_a_role_not_in_the_list_may_do_nothing():
    assert not any(role_may("superuser", action) for action in RULES)


def test_only_admins_manage_users_and_only_partnership_admins_manage_agencies():
    managers = {role for role in Role if role_may(role, Action.USER_MANAGE)}
    assert managers == {Role.AGENCY_ADMIN, Role.PARTNERSHIP_ADMIN}
    assert {role for role in Role if role_may(role, Action.AGENCY_MANAGE)} == {
        Role.PARTNERSHIP_ADMIN
    }


def test_an_inactive_user_may_do_nothing(cast):
    cast.police_admin.is_active = False
    assert not cast.police_admin.may(Action.HOME_VIEW)


def test_declared_views_hold_the_sign_in_steps_even_without_the_middleware(cast, settings):
    """`@requires` checks the second factor and the own-password step itself, so a view
    reached some other way than through the middleware is still closed."""
    from django.test import RequestFactory

    from accord.web import views

    request = RequestFactory().get("/")
    request.user = cast.gp  # a password-only user: no verified second factor
    assert views.home(request)["Location"] == "/sign-in/second-factor/"
    settings.SECOND_FACTOR_REQUIRED = False
    cast.gp.must_change_password = True
    assert views.home(request)["Location"] == "/account/password/"
    cast.gp.must_change_password = False
    assert views.home(request).status_code == 200
