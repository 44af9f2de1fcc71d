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
    PERSON_VIEW = "person.view"
    PERSON_RECORD = "person.record"
    CONSENT_RECORD = "consent.record"
    DISCLOSURE_DECIDE = "disclosure.decide"
    DISCLOSURE_APPROVE = "disclosure.approve"
    INFORMATION_REQUEST_SEND = "information_request.send"
    INFORMATION_REQUEST_ANSWER = "information_request.answer"
    PERSON_AUDIT_VIEW = "person.audit.view"
    SUBJECT_ACCESS_EXPORT = "subject_access.export"
    SHARING_SETTINGS_MANAGE = "sharing_settings.manage"
    MARAC_MEETING_VIEW = "marac.meeting.view"
    MARAC_MEETING_MANAGE = "marac.meeting.manage"
    MARAC_REFER = "marac.refer"
    PERSON_INDEX_REVIEW = "person_index.review"
    PERSON_INDEX_MANAGE = "person_index.manage"
    DATA_QUALITY_VIEW = "data_quality.view"


EVERY_ROLE = frozenset(Role)
ADMINS = frozenset({Role.AGENCY_ADMIN, Role.PARTNERSHIP_ADMIN})
# Who works with victim-survivors' information. Admins manage accounts, analysts see
# aggregates: neither reads case records.
CASEWORKERS = frozenset({Role.PRACTITIONER, Role.AGENCY_SPOC, Role.IDVA, Role.MARAC_COORDINATOR})

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
    # What each may see of a person is the access policy's answer (accord.sharing.policy).
    Action.PERSON_VIEW: CASEWORKERS | {Role.MARAC_CHAIR, Role.DATA_PROTECTION_OFFICER},
    Action.PERSON_RECORD: CASEWORKERS,
    Action.CONSENT_RECORD: CASEWORKERS,
    Action.DISCLOSURE_DECIDE: CASEWORKERS,
    # The agency's SPOC approves disclosures and answers other agencies' requests.
    Action.DISCLOSURE_APPROVE: frozenset({Role.AGENCY_SPOC}),
    Action.INFORMATION_REQUEST_SEND: CASEWORKERS,
    Action.INFORMATION_REQUEST_ANSWER: frozenset({Role.AGENCY_SPOC}),
    Action.PERSON_AUDIT_VIEW: frozenset({Role.DATA_PROTECTION_OFFICER}),
    Action.SUBJECT_ACCESS_EXPORT: frozenset({Role.DATA_PROTECTION_OFFICER}),
    # The partnership's list of lawful bases and whether own-agency reads are audited.
    Action.SHARING_SETTINGS_MANAGE: frozenset(
        {Role.PARTNERSHIP_ADMIN, Role.DATA_PROTECTION_OFFICER}
    ),
    # MARAC meetings: the coordinator and chair run them; caseworkers see the meetings
    # their agency is represented at (the selectors scope it) and refer cases to them.
    Action.MARAC_MEETING_VIEW: CASEWORKERS | {Role.MARAC_CHAIR},
    Action.MARAC_MEETING_MANAGE: frozenset({Role.MARAC_COORDINATOR, Role.MARAC_CHAIR}),
    Action.MARAC_REFER: CASEWORKERS,
    # The person index: an agency's SPOC and the MARAC coordinator decide the pairs the
    # matcher was unsure of (those touching their own agency: the selectors scope it),
    # and undo merges; partnership admins and DPOs set the thresholds and re-match.
    Action.PERSON_INDEX_REVIEW: frozenset({Role.AGENCY_SPOC, Role.MARAC_COORDINATOR}),
    Action.PERSON_INDEX_MANAGE: frozenset({Role.PARTNERSHIP_ADMIN, Role.DATA_PROTECTION_OFFICER}),
    # Their own agency's identities with data-quality problems, to fix at source: by name
    # to the SPOC, by reference to the admin (who may not view people).
    Action.DATA_QUALITY_VIEW: frozenset({Role.AGENCY_SPOC, Role.AGENCY_ADMIN}),
}

# Actions whose pages and endpoints show or return information about a person. Each
# such route must be in the cast matrix (tests/sharing/test_matrix_*.py); a meta-test
# fails for one that is not.
PERSON_DATA_ACTIONS: frozenset[str] = frozenset(
    {
        Action.PERSON_VIEW,
        Action.PERSON_RECORD,
        Action.CONSENT_RECORD,
        Action.DISCLOSURE_DECIDE,
        Action.DISCLOSURE_APPROVE,
        Action.INFORMATION_REQUEST_SEND,
        Action.INFORMATION_REQUEST_ANSWER,
        Action.PERSON_AUDIT_VIEW,
        Action.SUBJECT_ACCESS_EXPORT,
        Action.MARAC_REFER,
        Action.PERSON_INDEX_REVIEW,
        Action.DATA_QUALITY_VIEW,
    }
)

# What an agency's own system may be allowed to do with an API key. A key holds a
# subset of these, chosen when it is issued.
API_KEY_SCOPES: frozenset[str] = frozenset(
    {Action.AGENCY_VIEW, Action.API_SCHEMA_VIEW, Action.PERSON_VIEW, Action.PERSON_RECORD}
)


def role_may(role: str, action: str) -> bool:
    """True only when a rule names this action and lists this role."""
    allowed = RULES.get(action)
    if allowed is None:
        return False
    return role in allowed


class PermissionDenied(Exception):
    """The actor's role does not allow the action."""
