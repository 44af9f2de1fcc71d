"""`Identity.may_be_shared`, the filter's hint: set by every grant that covers an
agency's contact details, computed when an identity is created after such a grant,
and never the reason anything is shown."""

from __future__ import annotations

from accord.people.models import Identity
from accord.people.services import identity_create
from accord.sharing import policy
from accord.sharing.models import AccessGrant, LawfulBasis
from accord.sharing.services import consent_record, consent_withdraw, decision_create


def _visible_identities(actor, person_id):
    return set(
        policy.visible(actor, Identity.objects.filter(person_id=person_id)).values_list(
            "id", flat=True
        )
    )


def _allowed_identities(actor, person_id):
    return {
        i.id for i in Identity.objects.filter(person_id=person_id) if policy.check(actor, i).visible
    }


def test_a_consent_covering_contact_details_marks_the_holders_identity(cast, world):
    police = Identity.objects.get(id=world.identities.police.id)
    assert police.may_be_shared  # the world's police consent covers contact details
    gp = Identity.objects.get(id=world.identities.gp.id)
    assert not gp.may_be_shared
    assert world.identities.police.id in _visible_identities(cast.gp, world.person_id)


def test_an_identity_recorded_after_the_grant_is_marked_when_created(cast, world):
    # The school knows her only through what police shared; it decides to share its
    # own contact details with probation before it records its identity.
    consent_record(
        actor=cast.police_officer,
        person_id=world.person_id,
        decision="given",
        given_by="self",
        method="verbal",
        recipient_agency_ids=[cast.agency.school.id],
        categories=["contact_details"],
        purposes=["safety_planning"],
        explanation="Police will tell the school.",
    )
    decision_create(
        actor=cast.teacher,
        person_id=world.person_id,
        categories=["contact_details"],
        recipient_agency_id=cast.agency.probation.id,
        purpose="safeguarding_children",
        lawful_basis_id=LawfulBasis.objects.get(
            partnership=cast.testshire, code="vital-interests"
        ).id,
        necessity="A child's life is at risk.",
        victim_survivor_told=True,
    )
    school = identity_create(
        actor=cast.teacher, person_id=world.person_id, given_names="Rowan", family_name="Fictitious"
    )
    assert Identity.objects.get(id=school.id).may_be_shared
    assert school.id in _visible_identities(cast.probation_officer, world.person_id)
    assert _visible_identities(cast.probation_officer, world.person_id) == _allowed_identities(
        cast.probation_officer, world.person_id
    )


def test_the_hint_stays_after_withdrawal_and_the_grants_still_decide(cast, world):
    consent_withdraw(actor=cast.police_officer, consent_id=world.consent.id)
    assert Identity.objects.get(id=world.identities.police.id).may_be_shared
    assert world.identities.police.id not in _visible_identities(cast.gp, world.person_id)
    assert not AccessGrant.objects.filter(
        source_id=world.consent.id, ended_at__isnull=True
    ).exists()
