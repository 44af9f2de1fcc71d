"""The subject access bundle holds the MARAC referrals the DPO's agency made about her."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accord.marac.services import case_refer, case_remove, meeting_create
from accord.people.models import Person
from accord.people.services import identity_create
from accord.sharing.dpo import bundle_csv, subject_access_bundle

pytestmark = pytest.mark.django_db

HER = {"given_names": "Rowan", "family_name": "Fictitious", "date_of_birth": date(1990, 1, 1)}
WHY = "Three call-outs in a month; she fears for her life (fictional)."


def _meeting(cast, title: str):
    return meeting_create(
        actor=cast.marac_coordinator,
        title=title,
        held_at=timezone.now() + timedelta(days=7),
        agency_ids=[cast.agency.police.id, cast.agency.gp.id, cast.agency.da_service.id],
    )


def test_the_bundle_holds_the_agencys_marac_referrals_and_only_its_own(cast, client_for):
    person_id = identity_create(actor=cast.police_officer, **HER).person_id
    identity_create(actor=cast.idva, person_id=person_id, **HER)
    first = case_refer(
        actor=cast.police_officer,
        person_id=person_id,
        meeting_id=_meeting(cast, "Testshire MARAC, March").id,
        criteria=["professional_judgement"],
        notes=WHY,
    )
    case_remove(actor=cast.police_officer, case_id=first.id, reason="Referred in error")
    case_refer(
        actor=cast.idva,
        person_id=person_id,
        meeting_id=_meeting(cast, "Testshire MARAC, April").id,
        criteria=["visible_high_risk"],
    )
    person = Person.objects.get(pk=person_id)

    bundle = subject_access_bundle(actor=cast.police_dpo, person=person, export="csv")
    [referral] = bundle.referrals
    assert referral["meeting"].startswith("Testshire MARAC, March")
    assert referral["criteria"] == "Professional judgement" and referral["notes"] == WHY
    assert referral["removed_at"] is not None and referral["removal_reason"] == "Referred in error"

    rows = list(csv.DictReader(io.StringIO(bundle_csv(bundle))))
    [row] = [r for r in rows if r["section"] == "marac referral"]
    assert "Testshire MARAC, March" in row["item"] and row["text"] == WHY
    assert "taken off the agenda" in row["detail"] and "Referred in error" in row["detail"]
    assert "April" not in bundle_csv(bundle)  # the DA service's referral is theirs to answer

    response = client_for(cast.police_dpo).post(reverse("web:subject-access-pdf", args=[person_id]))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "MARAC referrals" in text and "Testshire MARAC, March" in text
    assert "Referred in error" in text and "April" not in text
