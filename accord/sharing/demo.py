"""Fictional people for the demo: enough to show a chronology across agencies, consent,
a withdrawal, a disclosure decision, a restricted record, a refuge address, and a MARAC
meeting with Robin's case on its agenda.

Every name, address and identifier is made up and looks it ("Demo", "Example Street",
postcodes in the unused ZZ area). Loaded once: a second run adds nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accord.cases.services import record_create
from accord.marac.services import case_refer, meeting_create
from accord.people.models import Identity
from accord.people.services import address_add, identity_create
from accord.sharing.models import LawfulBasis
from accord.sharing.services import consent_record, consent_withdraw, decision_create

MARKER = "DEMO-0001"


def load_demo_people(*, agencies: dict[str, Any], users: dict[str, Any]) -> int:
    """Create the demo people unless they exist; return how many demo people there are."""
    if Identity.objects.filter(agency=agencies["police"], local_id=MARKER).exists():
        return 2
    police, spoc, idva = users["demo.practitioner"], users["demo.spoc"], users["demo.idva"]
    gp, housing = users["demo.gp"], users["demo.housing"]
    start = datetime(2026, 9, 1, 21, 0, tzinfo=UTC)
    with transaction.atomic():
        robin = identity_create(
            actor=police,
            given_names="Robin",
            family_name="Demo-Example",
            date_of_birth=date(1991, 3, 14),
            gender="female",
            local_id=MARKER,
        )
        person = robin.person_id
        for actor in (gp, housing, idva):
            identity_create(
                actor=actor,
                person_id=person,
                given_names="Robin",
                family_name="Demo-Example",
                date_of_birth=date(1991, 3, 14),
                gender="female",
            )
        address_add(
            actor=police,
            identity_id=robin.id,
            lines="12 Example Street\nNorthtown",
            postcode="ZZ1 2AB",
        )
        idva_identity = Identity.objects.get(person_id=person, agency=agencies["da_service"])
        address_add(
            actor=idva,
            identity_id=idva_identity.id,
            lines="Harbour Light refuge (fictional)\n1 Quiet Close, Northtown",
            postcode="ZZ9 9ZZ",
            confidential=True,
            named_agency_ids=[agencies["da_service"].id],
        )
        events = [
            (
                police,
                "incident",
                "criminal_justice",
                0,
                "Call-out to a domestic incident",
                "Neighbour reported shouting. The fictional partner had left before officers came.",
            ),
            (
                gp,
                "attendance",
                "health",
                6,
                "Attended with bruising to the arm",
                "Explanation given did not match the injury. Asked about safety; declined help.",
            ),
            (
                housing,
                "concern",
                "housing",
                12,
                "Damage to the front door reported",
                "Repair requested for the second time this quarter.",
            ),
            (
                police,
                "incident",
                "criminal_justice",
                20,
                "Second call-out in three weeks",
                "She disclosed threats to kill. DASH: high risk. Referred to MARAC and the IDVA.",
            ),
            (
                idva,
                "contact",
                "safety_plan",
                22,
                "First meeting with the IDVA",
                "Safety plan agreed; moved to refuge; consent to share discussed and recorded.",
            ),
        ]
        for actor, kind, category, days, summary, body in events:
            record_create(
                actor=actor,
                person_id=person,
                kind=kind,
                category=category,
                occurred_at=start + timedelta(days=days),
                summary=summary,
                body=body,
            )
        record_create(
            actor=spoc,
            person_id=person,
            kind="note",
            category="risk",
            occurred_at=start + timedelta(days=21),
            summary="Restricted: a member of staff knows the family",
            body="Only the named SPOC may see this note.",
            restricted_to=[spoc.id],
        )
        consent = consent_record(
            actor=idva,
            person_id=person,
            decision="given",
            given_by="self",
            method="written",
            recipient_agency_ids=[agencies["gp"].id, agencies["housing"].id, agencies["police"].id],
            categories=["safety_plan", "contact_details"],
            purposes=["safety_planning", "marac"],
            explanation=(
                "Robin agreed that the IDVA service may tell her GP, her housing provider and "
                "the police about her safety plan and how to contact her safely."
            ),
        )
        consent_withdraw(
            actor=idva,
            consent_id=consent.id,
            recipient_agency_ids=[agencies["housing"].id],
            note="She asked that housing is not told while the tenancy is reviewed.",
        )
        consent_record(
            actor=police,
            person_id=person,
            decision="given",
            given_by="self",
            method="verbal",
            recipient_sectors=["specialist_da", "primary_health"],
            categories=["criminal_justice"],
            purposes=["safety_planning", "marac"],
            explanation="Police will share the incidents with her IDVA and her GP.",
        )
        basis = LawfulBasis.objects.get(
            partnership_id=police.partnership_id, code="public-task-safeguarding"
        )
        decision_create(
            actor=police,
            person_id=person,
            categories=["criminal_justice"],
            recipient_agency_id=agencies["childrens"].id,
            purpose="safeguarding_children",
            lawful_basis_id=basis.id,
            necessity="A child lives at the address; children's services must assess the risk.",
            victim_survivor_told=True,
        )
        meeting = meeting_create(
            actor=users["demo.maraccoordinator"],
            title="Northshire MARAC (fictional)",
            held_at=timezone.now().replace(hour=10, minute=0, second=0, microsecond=0)
            + timedelta(days=10),
            agency_ids=[
                agencies[key].id
                for key in ("police", "gp", "housing", "childrens", "probation", "da_service")
            ],
        )
        case_refer(
            actor=idva,
            person_id=person,
            meeting_id=meeting.id,
            criteria=["visible_high_risk"],
            notes="Fictional referral for the demo: a Dash score at the threshold.",
        )
        sam = identity_create(
            actor=gp, given_names="Sam", family_name="Demo-Sample", date_of_birth=date(1985, 7, 2)
        )
        record_create(
            actor=gp,
            person_id=sam.person_id,
            kind="missed_appointment",
            category="health",
            occurred_at=start + timedelta(days=3),
            summary="Missed two appointments",
            body="Practice to follow up by a safe route.",
        )
    return 2
