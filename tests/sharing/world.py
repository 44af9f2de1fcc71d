"""The cast's world for the sharing tests: one fictional victim-survivor, known to every
Testshire agency, and what each may see of Testshire Police's records about her.

| who                      | why                                  | sees police record R1 |
| ------------------------ | ------------------------------------ | --------------------- |
| police_officer           | owner agency                         | yes (owner)           |
| gp                       | police consent names the GP          | yes (consent)         |
| housing_officer          | consent for housing withdrawn        | flag only             |
| nurse (hospital)         | consent for the hospital expired     | flag only             |
| probation_officer        | no consent, no decision              | flag only             |
| idva                     | consent names the specialist DA sector | yes (consent)       |
| social_worker            | approved disclosure decision         | yes (disclosure)      |
| police_spoc              | named on restricted record R2        | R1 (owner), R2 (named) |
| outsider                 | another partnership                  | nothing (404)         |

R2 (restricted, named: police_spoc) does not exist for anyone else, police colleagues
included. The IDVA's refuge address is confidential, named for the IDVA and the GP
practice; the DA service's colleagues see "address withheld"; the GP sees it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from django.utils import timezone

from accord.cases.services import record_create
from accord.people.services import address_add, identity_create
from accord.sharing.models import AccessGrant, Consent, LawfulBasis
from accord.sharing.services import (
    consent_record,
    consent_withdraw,
    decision_approve,
    decision_create,
)

NAME = {"given_names": "Rowan", "family_name": "Fictitious", "date_of_birth": date(1990, 1, 1)}


def rewind_consent(consent: Consent, *, days: int) -> None:
    """Time passes: the consent and its grants started and expired `days` ago and yesterday."""
    start = timezone.now() - timedelta(days=days)
    end = timezone.now() - timedelta(days=1)
    Consent.objects.filter(pk=consent.pk).update(starts_at=start, expires_at=end)
    AccessGrant.objects.filter(source_id=consent.pk).update(valid_from=start, valid_until=end)


def build_world(cast: SimpleNamespace) -> SimpleNamespace:
    police = identity_create(actor=cast.police_officer, **NAME, police_id="TP-0001")
    person_id = police.person_id
    identities = {"police": police}
    for key, user in (
        ("gp", cast.gp),
        ("housing", cast.housing_officer),
        ("hospital", cast.nurse),
        ("probation", cast.probation_officer),
        ("da_service", cast.idva),
        ("childrens", cast.social_worker),
    ):
        identities[key] = identity_create(actor=user, person_id=person_id, **NAME)
    home = address_add(
        actor=cast.police_officer,
        identity_id=police.id,
        lines="1 Example Street\nTesttown",
        postcode="te1 1st",
    )
    refuge = address_add(
        actor=cast.idva,
        identity_id=identities["da_service"].id,
        lines="Refuge, 9 Hidden Lane\nTesttown",
        postcode="TE9 9ZZ",
        confidential=True,
        named_agency_ids=[cast.agency.gp.id],
    )
    occurred = datetime(2026, 10, 1, 22, 30, tzinfo=UTC)
    r1 = record_create(
        actor=cast.police_officer,
        person_id=person_id,
        kind="incident",
        category="criminal_justice",
        occurred_at=occurred,
        summary="Call-out to a domestic incident",
        body="Officers attended; the fictional suspect had left.",
    )
    r2 = record_create(
        actor=cast.police_spoc,
        person_id=person_id,
        kind="note",
        category="risk",
        occurred_at=occurred + timedelta(hours=1),
        summary="Restricted note",
        body="A member of staff knows the family.",
        restricted_to=[cast.police_spoc.id],
    )
    r3 = record_create(
        actor=cast.idva,
        person_id=person_id,
        kind="contact",
        category="safety_plan",
        occurred_at=occurred + timedelta(days=1),
        summary="Safety planning session",
        body="Agreed a safe word with her.",
    )
    consent = consent_record(
        actor=cast.police_officer,
        person_id=person_id,
        decision="given",
        given_by="self",
        method="verbal",
        recipient_agency_ids=[cast.agency.gp.id, cast.agency.housing.id],
        recipient_sectors=["specialist_da"],
        categories=["criminal_justice", "contact_details", "address"],
        purposes=["safety_planning"],
        explanation="Police will tell her GP, her housing provider and the IDVA service.",
    )
    withdrawal = consent_withdraw(
        actor=cast.police_officer,
        consent_id=consent.id,
        recipient_agency_ids=[cast.agency.housing.id],
        note="She asked that housing is not told.",
    )
    hospital_consent = consent_record(
        actor=cast.police_officer,
        person_id=person_id,
        decision="given",
        given_by="self",
        method="written",
        recipient_agency_ids=[cast.agency.hospital.id],
        categories=["criminal_justice"],
        purposes=["safety_planning"],
        expires_at=timezone.now() + timedelta(days=30),
        explanation="Police will tell the hospital for a month.",
    )
    rewind_consent(hospital_consent, days=40)
    basis = LawfulBasis.objects.get(partnership=cast.testshire, code="public-task-safeguarding")
    decision = decision_create(
        actor=cast.police_officer,
        person_id=person_id,
        categories=["criminal_justice"],
        recipient_agency_id=cast.agency.childrens.id,
        purpose="safeguarding_children",
        lawful_basis_id=basis.id,
        necessity="Children live at the address; children's services must assess.",
        victim_survivor_told=False,
        not_told_reason="Telling her now would put the children at risk.",
    )
    decision_approve(actor=cast.police_spoc, decision_id=decision.id, note="Agreed.")
    return SimpleNamespace(
        person_id=person_id,
        identities=SimpleNamespace(**identities),
        home=home,
        refuge=refuge,
        r1=r1,
        r2=r2,
        r3=r3,
        consent=consent,
        withdrawal=withdrawal,
        hospital_consent=hospital_consent,
        decision=decision,
        basis=basis,
    )


# --- The person index's review queue ------------------------------------------------------

# What each comparison of the model added, as the matcher stores it with a review item.
# The starting weight is match_weight minus their sum (here -6.1).
REVIEW_CONTRIBUTIONS = [
    {"comparison": "family_name", "title": "Family name", "level": 5, "label": "Exact match",
     "weight": 9.6},
    {"comparison": "given_name_and_birth", "title": "Given name and date of birth", "level": 2,
     "label": "Same or similar given name, different date of birth", "weight": -2.1},
    {"comparison": "postcode", "title": "Postcode", "level": -1, "label": "Missing on one side",
     "weight": 0.0},
    {"comparison": "phone", "title": "Phone", "level": -1, "label": "Missing on one side",
     "weight": 0.0},
    {"comparison": "nhs_number", "title": "NHS number", "level": -1,
     "label": "Missing on one side", "weight": 0.0},
]  # fmt: skip


def build_review_pair(cast: SimpleNamespace, world: SimpleNamespace) -> SimpleNamespace:
    """A second record of someone like her, held by the DA service as a person of its own
    (Rowena Fictitious, with a confidential address named for no one but the IDVA who
    recorded it), in the review queue with Testshire Police's identity of her; and
    data-quality problems on both.

    | reviewer                 | police side            | DA service side           |
    | ------------------------ | ---------------------- | ------------------------- |
    | police_spoc              | own: details, home     | "held by", audited flag   |
    | marac_coordinator (DA)   | consent: details, home | own: details, withheld    |
    """
    from accord.people.index.online import pair
    from accord.people.models import MatchFeatures, ReviewItem

    cached = getattr(world, "review", None)
    if cached is not None:
        return cached
    dup = identity_create(
        actor=cast.idva,
        given_names="Rowena",
        family_name="Fictitious",
        date_of_birth=date(1991, 3, 7),
        phone="0123",
    )
    quiet = address_add(
        actor=cast.idva,
        identity_id=dup.id,
        lines="Flat 2, 4 Quiet Court\nTesttown",
        postcode="TE8 8QC",
        confidential=True,
    )
    dup.refresh_from_db()
    police = world.identities.police
    first, second = pair(police.id, dup.id)
    # The matcher may have queued the pair already (or others with her): this one, exactly.
    ReviewItem.objects.filter(identity_a=dup).delete()
    ReviewItem.objects.filter(identity_b=dup).delete()
    item = ReviewItem.objects.create(
        partnership=cast.testshire,
        identity_a_id=first,
        identity_b_id=second,
        match_probability=0.7252,
        match_weight=1.4,
        contributions=REVIEW_CONTRIBUTIONS,
        model_version="test",
    )
    type(police).objects.filter(pk=police.pk).update(nhs_number="1234567890")
    for identity, problems in ((police, ["nhs_number_check_digit"]), (dup, ["phone_malformed"])):
        MatchFeatures.objects.update_or_create(
            identity=identity,
            defaults={
                "partnership": cast.testshire,
                "values": {},
                "problems": problems,
                "has_problems": True,
            },
        )
    world.review = SimpleNamespace(item=item, dup=dup, dup_person_id=dup.person_id, quiet=quiet)
    return world.review
