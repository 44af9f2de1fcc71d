"""What the data protection officer sees of a person another was merged into: the
events filed under the merged person's id before the merge are about her now."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from accord.cases.selectors import record_get_for
from accord.cases.services import record_create
from accord.people.index.merge import merge_undo, persons_merge
from accord.people.models import Person
from accord.people.services import identity_create
from accord.sharing.dpo import subject_access_bundle, who_saw
from accord.sharing.services import consent_record

pytestmark = pytest.mark.django_db

# Unlike enough that the person index does not link them on arrival.
ONE = {"given_names": "Rowan", "family_name": "Fictitious", "date_of_birth": date(1990, 1, 1)}
TWO = {"given_names": "Robin", "family_name": "Example", "date_of_birth": date(1985, 6, 15)}


def _gp_reads_a_police_record(cast, person_id):
    record = record_create(
        actor=cast.police_officer,
        person_id=person_id,
        kind="note",
        category="criminal_justice",
        occurred_at=datetime(2026, 10, 1, 22, 30, tzinfo=UTC),
        summary="A fictional call-out",
    )
    consent_record(
        actor=cast.police_officer,
        person_id=person_id,
        decision="given",
        given_by="self",
        method="verbal",
        recipient_agency_ids=[cast.agency.gp.id],
        categories=["criminal_justice"],
        purposes=["safety_planning"],
        explanation="She agreed; fictional.",
    )
    record_get_for(actor=cast.gp, record_id=record.id)
    return record


def _reads_of(lines, agency_name) -> int:
    return sum(1 for line in lines if line.action == "Read" and line.agency == agency_name)


def test_who_saw_and_the_bundle_include_what_was_filed_under_a_person_merged_into_her(cast):
    survivor = identity_create(actor=cast.police_officer, **ONE).person_id
    merged = identity_create(actor=cast.police_officer, **TWO).person_id
    _gp_reads_a_police_record(cast, merged)
    person = Person.objects.get(pk=survivor)
    gp = cast.agency.gp.name

    def seen() -> tuple[int, int]:
        bundle = subject_access_bundle(actor=cast.police_dpo, person=person, export="csv")
        return _reads_of(who_saw(actor=cast.police_dpo, person=person), gp), _reads_of(
            bundle.disclosed, gp
        )

    assert seen() == (0, 0)
    merge = persons_merge(
        actor=cast.police_spoc, survivor_id=survivor, merged_id=merged, reason="Same woman."
    )
    assert seen() == (1, 1)
    merge_undo(actor=cast.police_spoc, merge_id=merge.id, reason="Two women after all.")
    assert seen() == (0, 0)
