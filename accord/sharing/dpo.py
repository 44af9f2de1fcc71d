"""For the data protection officer: who saw a person's data, and the subject access bundle.

Both are answered for the DPO's own agency, the controller they act for: "who saw"
lists every read, disclosure and refusal of that agency's information about the
person and every act of its own staff about her; the bundle holds everything the
agency holds about her and everything it disclosed. Both go through the access
policy like any other read: a restricted record is included only for a DPO named on
it, and a confidential address appears as "address withheld" unless the DPO or the
agency is named for it. Producing either is itself audited.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accord.api.models import ApiKey
from accord.audit.models import AuditAction, AuditEvent
from accord.audit.services import audit_record
from accord.cases.models import AgencyRecord, RecordVersion
from accord.core.errors import require
from accord.marac.models import Case as MaracCase
from accord.partnership.models import Agency, User
from accord.partnership.permissions import Action
from accord.people.models import Address, Identity, Person
from accord.people.selectors import merged_into_person
from accord.sharing import policy
from accord.sharing.models import Consent, DisclosureDecision, InformationRequest


def _unseen_restricted(actor: Any, person: Person) -> set[uuid.UUID]:
    """Restricted records about the person that the DPO is not named on. For them these
    records do not exist, so no event about them may appear in what the DPO is shown."""
    grants = policy.grants_for(actor, person_id=person.id)
    return {
        record.id
        for record in AgencyRecord.objects.filter(person=person, restricted=True)
        if not policy.check(actor, record, grants=grants).visible
    }


def _own_item_ids(actor: Any, person: Person) -> set[uuid.UUID]:
    ids: set[uuid.UUID] = {actor.agency_id}
    mine = {"person": person, "agency_id": actor.agency_id}
    for model in (AgencyRecord, Identity, Address, Consent, DisclosureDecision):
        ids.update(model.objects.filter(**mine).values_list("id", flat=True))
    ids.update(
        InformationRequest.objects.filter(person=person)
        .filter(Q(to_agency_id=actor.agency_id) | Q(from_agency_id=actor.agency_id))
        .values_list("id", flat=True)
    )
    return ids


def _ids_of(person: Person) -> list[uuid.UUID]:
    """The person's id and the ids of the persons merged into her while the merges
    stand: audit events filed under those ids before the merge are about her now."""
    return [person.id, *merged_into_person(person.id)]


@dataclass(frozen=True)
class Seen:
    """One line of "who saw this person's data"."""

    occurred_at: datetime
    action: str
    who: str
    agency: str
    object_type: str
    basis: str
    reason: str


def who_saw(*, actor: Any, person: Person) -> list[Seen]:
    """Every read, disclosure, refusal and change about this person that concerns the
    DPO's agency, newest first: by whom, when, on what basis."""
    require(actor, Action.PERSON_AUDIT_VIEW)
    events = (
        AuditEvent.objects.filter(chain=str(actor.partnership_id), person_id__in=_ids_of(person))
        .filter(Q(agency_id=actor.agency_id) | Q(object_id__in=_own_item_ids(actor, person)))
        .exclude(object_id__in=_unseen_restricted(actor, person))
        .order_by("-occurred_at", "-id")
    )
    lines = _seen(events)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.READ,
            object_type="audit_trail",
            object_id=person.id,
            person_id=person.id,
            reason="who saw this person's data",
        )
    return lines


@dataclass
class Bundle:
    """Everything the agency holds about the person and everything it disclosed."""

    person: Person
    agency: Agency
    produced_at: datetime
    identities: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    disclosed: list[Seen] = field(default_factory=list)


def _labels(values: list[str], choices: Any) -> str:
    names = dict(choices)
    return ", ".join(str(names.get(v, v)) for v in values)


def subject_access_bundle(*, actor: Any, person: Person, export: str) -> Bundle:
    """Build the bundle and audit its export (`export` is "csv" or "pdf")."""
    require(actor, Action.SUBJECT_ACCESS_EXPORT)
    from accord.partnership.vocabulary import Sector
    from accord.sharing.vocabulary import InformationCategory, Purpose

    agency = Agency.objects.get(pk=actor.agency_id)
    bundle = Bundle(person=person, agency=agency, produced_at=timezone.now())
    grants = policy.grants_for(actor, person_id=person.id)
    for identity in Identity.objects.filter(person=person, agency=agency).order_by("recorded_at"):
        entry = policy.fields_of(identity, policy.check(actor, identity, grants=grants))
        entry.pop("agency", None)
        entry["addresses"] = []
        for address in identity.addresses.order_by("recorded_at"):
            access = policy.check(actor, address, grants=grants)
            entry["addresses"].append(
                {
                    "recorded_at": address.recorded_at,
                    "text": "Address withheld"
                    if not access.visible
                    else f"{address.lines.replace(chr(10), ', ')}, {address.postcode_sealed}",
                    "confidential": address.confidential,
                    "current": address.is_current,
                }
            )
        bundle.identities.append(entry)
    records = AgencyRecord.objects.filter(person=person, agency=agency).order_by("occurred_at")
    for record in records:
        if not policy.check(actor, record, grants=grants).visible:
            continue  # a restricted record the DPO is not named on does not exist for them
        versions = RecordVersion.objects.filter(record=record).order_by("version")
        bundle.records.append(
            {
                "id": record.id,
                "occurred_at": record.occurred_at,
                "kind": record.get_kind_display(),
                "category": record.get_category_display(),
                "versions": [
                    {
                        "version": v.version,
                        "recorded_at": v.recorded_at,
                        "summary": v.summary,
                        "body": v.body,
                        "correction_reason": v.correction_reason,
                    }
                    for v in versions
                ],
            }
        )
    for consent in Consent.objects.filter(person=person, agency=agency).order_by("recorded_at"):
        bundle.consents.append(
            {
                "recorded_at": consent.recorded_at,
                "decision": consent.get_decision_display(),
                "given_by": consent.get_given_by_display(),
                "method": consent.get_method_display(),
                "recipients": ", ".join(
                    [a.name for a in consent.recipient_agencies.order_by("name")]
                    + [str(dict(Sector.choices)[s]) for s in consent.recipient_sectors]
                ),
                "categories": _labels(consent.categories, InformationCategory.choices),
                "purposes": _labels(consent.purposes, Purpose.choices),
                "expires_at": consent.expires_at,
                "withdrawn_at": consent.withdrawn_at,
                "explanation": consent.explanation,
                "withdrawals": [
                    {"withdrawn_at": w.withdrawn_at, "note": w.note}
                    for w in consent.withdrawals.order_by("withdrawn_at")
                ],
            }
        )
    decisions = DisclosureDecision.objects.filter(person=person, agency=agency).select_related(
        "lawful_basis", "recipient_agency", "recipient_user", "recipient_case__meeting"
    )
    for decision in decisions.order_by("decided_at"):
        bundle.decisions.append(
            {
                "decided_at": decision.decided_at,
                "status": decision.get_status_display(),
                "recipient": decision.recipient_label,
                "purpose": decision.get_purpose_display(),
                "lawful_basis": decision.lawful_basis.label,
                "categories": _labels(decision.categories, InformationCategory.choices),
                "records": decision.records.count(),
                "necessity": decision.necessity,
                "told": "Yes" if decision.victim_survivor_told else "No",
                "not_told_reason": decision.not_told_reason,
                "expires_at": decision.expires_at,
            }
        )
    requests = InformationRequest.objects.filter(person=person, to_agency=agency).select_related(
        "from_agency"
    )
    for request in requests.order_by("created_at"):
        bundle.requests.append(
            {
                "created_at": request.created_at,
                "from": request.from_agency.name,
                "purpose": request.get_purpose_display(),
                "status": request.get_status_display(),
                "decline_reason": request.decline_reason,
            }
        )
    referrals = MaracCase.objects.filter(person=person, referred_by_agency=agency).select_related(
        "meeting"
    )
    for case in referrals.order_by("referred_at"):
        bundle.referrals.append(
            {
                "referred_at": case.referred_at,
                "meeting": f"{case.meeting.title} on {_when(case.meeting.held_at)}",
                "number": case.number,
                "criteria": ", ".join(case.criteria_labels),
                "notes": case.notes,
                "removed_at": case.removed_at,
                "removal_reason": case.removal_reason,
            }
        )
    own_items = _own_item_ids(actor, person) - {actor.agency_id} - _unseen_restricted(actor, person)
    bundle.disclosed = _seen(
        AuditEvent.objects.filter(
            chain=str(actor.partnership_id),
            person_id__in=_ids_of(person),
            action__in=[AuditAction.READ, AuditAction.DISCLOSE],
            object_id__in=own_items,
        )
        .exclude(agency_id=actor.agency_id)
        .order_by("occurred_at", "id")
    )
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.EXPORT,
            object_type="subject_access_bundle",
            object_id=person.id,
            person_id=person.id,
            reason=f"subject access bundle ({export})",
        )
    return bundle


def _seen(events: Any) -> list[Seen]:
    """Audit events as lines a DPO reads: who (a user, an agency's API key, or Accord
    itself), their agency, what, and on what basis. Keeps the queryset's order."""
    events = list(events)
    actor_ids = {e.actor_id for e in events}
    users = {u.id: u.display_name for u in User.objects.filter(id__in=actor_ids)}
    keys = {k.id: f"API key {k.prefix}" for k in ApiKey.objects.filter(id__in=actor_ids)}
    agencies = {a.id: a.name for a in Agency.objects.filter(id__in={e.agency_id for e in events})}
    return [
        Seen(
            occurred_at=e.occurred_at,
            action=str(AuditAction(e.action).label),
            who=users.get(e.actor_id) or keys.get(e.actor_id) or "Accord",
            agency=agencies.get(e.agency_id, ""),
            object_type=e.object_type.replace("_", " "),
            basis=policy.basis_label(e.basis) if e.basis else "",
            reason=e.reason,
        )
        for e in events
    ]


CSV_COLUMNS = ["section", "when", "item", "detail", "text"]


def bundle_csv(bundle: Bundle) -> str:
    """The bundle as one CSV table: a row per fact, in sections."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(CSV_COLUMNS)
    for identity in bundle.identities:
        for name, value in identity.items():
            if name == "addresses":
                for address in value:
                    writer.writerow(
                        [
                            "address",
                            _when(address["recorded_at"]),
                            "confidential" if address["confidential"] else "",
                            "current" if address["current"] else "previous",
                            address["text"],
                        ]
                    )
            elif name != "id" and value not in ("", None):
                writer.writerow(["identity", "", name, "", _safe(str(value))])
    for record in bundle.records:
        for version in record["versions"]:
            writer.writerow(
                [
                    "record",
                    _when(version["recorded_at"]),
                    f"{record['kind']} ({record['category']}) on {_when(record['occurred_at'])}",
                    f"version {version['version']}"
                    + (
                        f": corrected because {version['correction_reason']}"
                        if version["correction_reason"]
                        else ""
                    ),
                    _safe(f"{version['summary']}\n{version['body']}".strip()),
                ]
            )
    for consent in bundle.consents:
        writer.writerow(
            [
                "consent",
                _when(consent["recorded_at"]),
                f"{consent['decision']} by {consent['given_by']}, {consent['method']}",
                f"to {consent['recipients']}; {consent['categories']}; for {consent['purposes']}",
                _safe(consent["explanation"]),
            ]
        )
        for withdrawal in consent["withdrawals"]:
            writer.writerow(
                [
                    "consent withdrawn",
                    _when(withdrawal["withdrawn_at"]),
                    "",
                    "",
                    _safe(withdrawal["note"]),
                ]
            )
    for decision in bundle.decisions:
        writer.writerow(
            [
                "disclosure decision",
                _when(decision["decided_at"]),
                f"{decision['status']}: to {decision['recipient']} for {decision['purpose']}",
                f"{decision['lawful_basis']}; {decision['categories']}; told: {decision['told']}",
                _safe(decision["necessity"]),
            ]
        )
    for request in bundle.requests:
        writer.writerow(
            [
                "information request",
                _when(request["created_at"]),
                f"from {request['from']} for {request['purpose']}",
                request["status"],
                _safe(request["decline_reason"]),
            ]
        )
    for referral in bundle.referrals:
        writer.writerow(
            [
                "marac referral",
                _when(referral["referred_at"]),
                f"case {referral['number']} at {referral['meeting']}",
                referral["criteria"]
                + (
                    f"; taken off the agenda {_when(referral['removed_at'])}: "
                    f"{referral['removal_reason']}"
                    if referral["removed_at"]
                    else ""
                ),
                _safe(referral["notes"]),
            ]
        )
    for seen in bundle.disclosed:
        writer.writerow(
            [
                "disclosed",
                _when(seen.occurred_at),
                seen.object_type,
                f"{seen.agency} ({seen.who})",
                seen.basis,
            ]
        )
    return out.getvalue()


def _when(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class _SafeWriter:
    """A CSV writer that quotes, in every cell, text a spreadsheet would run."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: list[str]) -> None:
        self._writer.writerow([_safe(str(cell)) for cell in row])


def _safe(text: str) -> str:
    """Free text that a spreadsheet would run as a formula is quoted (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


__all__ = ["Bundle", "Seen", "bundle_csv", "subject_access_bundle", "who_saw"]
