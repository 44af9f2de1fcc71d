"""What each role may do: one map, and it fails closed.

An action that has no rule here is refused for everyone, so an action added to
a view and forgotten here cannot be used. Which *records* an allowed action
reaches (own agency, own partnership) is decided by the selectors.
"""

from __future__ import annotations

from enum import StrEnum

from accord.partnership.vocabulary import Role


class Action(StrEnum):
    HOME_VIEW = "home.view"
    ACCOUNT_VIEW = "account.view"
    AGENCY_VIEW = "agency.view"
    AGENCY_MANAGE = "agency.manage"
    USER_VIEW = "user.view"
    USER_MANAGE = "user.manage"
    API_KEY_MANAGE = "api_key.manage"
    API_SCHEMA_VIEW = "api.schema.view"
    AUDIT_VERIFY = "audit.verify"


EVERY_ROLE = frozenset(Role)
ADMINS = frozenset({Role.AGENCY_ADMIN, Role.PARTNERSHIP_ADMIN})

RULES: dict[str, frozenset[Role]] = {
    Action.HOME_VIEW: EVERY_ROLE,
    Action.ACCOUNT_VIEW: EVERY_ROLE,
    Action.AGENCY_VIEW: EVERY_ROLE,
    Action.AGENCY_MANAGE: frozenset({Role.PARTNERSHIP_ADMIN}),
    Action.USER_VIEW: ADMINS,
    # Agency admins manage their own agency's users only; the selectors scope it.
    Action.USER_MANAGE: ADMINS,
    Action.API_KEY_MANAGE: frozenset({Role.AGENCY_ADMIN}),
    Action.API_SCHEMA_VIEW: EVERY_ROLE,
    Action.AUDIT_VERIFY: frozenset({Role.DATA_PROTECTION_OFFICER, Role.PARTNERSHIP_ADMIN}),
}

# What an agency's own system may be allowed to do with an API key. A key holds a
# subset of these, chosen when it is issued.
API_KEY_SCOPES: frozenset[str] = frozenset({Action.AGENCY_VIEW, Action.API_SCHEMA_VIEW})


def role_may(role: str, action: str) -> bool:
    """True only when a rule names this action and lists this role."""
    allowed = RULES.get(action)
    if allowed is None:
        return False
    return role in allowed


class PermissionDenied(Exception):
    """The actor's role does not allow the action."""
