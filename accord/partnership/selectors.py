"""Reads of partnerships, agencies and users, scoped to what the actor may reach."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from accord.core.errors import NotFound
from accord.partnership.models import Agency, User
from accord.partnership.permissions import Action
from accord.partnership.vocabulary import Role


def agencies_for(*, actor: User) -> QuerySet[Agency]:
    """Agencies in the actor's own partnership; never another partnership's."""
    return Agency.objects.filter(partnership_id=actor.agency.partnership_id).order_by("name")


def agency_get_for(*, actor: User, agency_id: uuid.UUID | str) -> Agency:
    try:
        return agencies_for(actor=actor).get(pk=agency_id)
    except (Agency.DoesNotExist, ValueError):
        raise NotFound from None


def users_for(*, actor: User) -> QuerySet[User]:
    """The users an admin may see: own agency for agency admins, partnership for
    partnership admins, nobody for anyone else."""
    users = User.objects.select_related("agency").order_by("display_name")
    if not actor.may(Action.USER_VIEW):
        return users.none()
    if actor.role == Role.PARTNERSHIP_ADMIN:
        return users.filter(agency__partnership_id=actor.agency.partnership_id)
    return users.filter(agency_id=actor.agency_id)


def user_get_for(*, actor: User, user_id: uuid.UUID | str) -> User:
    try:
        return users_for(actor=actor).get(pk=user_id)
    except (User.DoesNotExist, ValueError):
        raise NotFound from None


def agencies_assignable_by(*, actor: User) -> QuerySet[Agency]:
    """Agencies the actor may put a user in."""
    if actor.role == Role.PARTNERSHIP_ADMIN:
        return agencies_for(actor=actor).filter(is_active=True)
    return Agency.objects.filter(pk=actor.agency_id, is_active=True)


# Roles whose reach is the agency itself. The others (MARAC coordinator and chair,
# partnership analyst, data protection officer, partnership admin) act for the whole
# partnership, so only a partnership admin may give them.
AGENCY_ROLES = frozenset({Role.PRACTITIONER, Role.AGENCY_SPOC, Role.IDVA, Role.AGENCY_ADMIN})


def roles_assignable_by(*, actor: User) -> list[tuple[str, str]]:
    """The roles the actor may give (and so the users whose role the actor may change)."""
    if actor.role == Role.PARTNERSHIP_ADMIN:
        return list(Role.choices)
    return [(value, label) for value, label in Role.choices if value in AGENCY_ROLES]
