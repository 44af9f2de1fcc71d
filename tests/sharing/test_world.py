"""The access policy on the cast's world: who sees what, on which basis."""

from __future__ import annotations

import pytest

from accord.cases.models import AgencyRecord
from accord.sharing import policy
from accord.sharing.vocabulary import Basis

# who -> what they see of (R1 police incident, R2 restricted police note, R3 IDVA contact)
EXPECTED = {
    "police_officer": (Basis.OWNER, None, "flag"),
    "police_spoc": (Basis.OWNER, Basis.NAMED, "flag"),
    "police_admin": (Basis.OWNER, None, "flag"),
    "gp": (Basis.CONSENT, None, "flag"),
    "housing_officer": ("flag", None, "flag"),
    "nurse": ("flag", None, "flag"),
    "probation_officer": ("flag", None, "flag"),
    "idva": (Basis.CONSENT, None, Basis.OWNER),
    "social_worker": (Basis.DISCLOSURE, None, "flag"),
    "outsider": (None, None, None),
}


def _answer(access: policy.Access) -> str | None:
    if not access.exists:
        return None
    return access.basis if access.visible else "flag"


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_member_of_the_cast_sees_what_the_policy_allows(cast, world, who):
    actor = getattr(cast, who)
    records = [world.r1, world.r2, world.r3]
    got = tuple(_answer(policy.check(actor, AgencyRecord.objects.get(pk=r.pk))) for r in records)
    assert got == EXPECTED[who]
    listed = {r.pk: r.access_basis for r in policy.visible(actor, AgencyRecord.objects.all())}
    expected_listed = {
        r.pk: basis
        for r, basis in zip(records, EXPECTED[who], strict=True)
        if basis not in (None, "flag")
    }
    assert listed == expected_listed


def test_the_refuge_address_is_shown_only_to_those_named(cast, world):
    refuge = world.refuge
    assert policy.check(cast.idva, refuge).basis == Basis.NAMED
    assert policy.check(cast.gp, refuge).basis == Basis.NAMED
    # The IDVA's colleague would see the DA service's addresses, so sees "withheld".
    assert policy.check(cast.marac_coordinator, refuge).withheld
    # The police hold no address grant from the DA service: only the flag.
    police_view = policy.check(cast.police_officer, refuge)
    assert not police_view.visible and not police_view.withheld
    assert police_view.fields == policy.FLAG_FIELDS
