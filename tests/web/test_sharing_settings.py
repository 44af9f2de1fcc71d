"""The partnership's sharing settings: lawful bases and auditing own-agency reads."""

from __future__ import annotations

from django.urls import reverse

from accord.partnership.models import Partnership
from accord.sharing.models import LawfulBasis
from tests.conftest import audit_rows


def test_partnership_admins_and_dpos_manage_the_settings_and_no_one_else(cast, client_for):
    url = reverse("web:sharing-settings")
    assert client_for(cast.partnership_admin).get(url).status_code == 200
    assert client_for(cast.dpo).get(url).status_code == 200
    for user in (cast.police_admin, cast.police_spoc, cast.idva, cast.analyst):
        assert client_for(user).get(url).status_code == 403


def test_the_seeded_bases_are_listed_and_can_be_relabelled_and_retired(cast, client_for):
    basis = LawfulBasis.objects.get(partnership=cast.testshire, code="vital-interests")
    client = client_for(cast.partnership_admin)
    page = client.get(reverse("web:sharing-settings")).content.decode()
    assert "Sch 1 para 18" in page and "vital interests" in page
    response = client.post(
        reverse("web:lawful-basis-edit", args=[basis.id]),
        {"label": "Vital interests (life at risk)", "explanation": "", "requires_approval": "on"},
    )
    assert response.status_code == 302
    basis.refresh_from_db()
    assert (basis.label, basis.requires_approval, basis.is_active) == (
        "Vital interests (life at risk)",
        True,
        False,
    )
    assert audit_rows(object_id=basis.id)[-1].changed_fields == [
        "explanation",
        "is_active",
        "label",
        "requires_approval",
    ]


def test_a_new_basis_needs_a_free_code_and_a_label(cast, client_for):
    client = client_for(cast.dpo)
    url = reverse("web:lawful-basis-create")
    before = LawfulBasis.objects.count()
    response = client.post(url, {"code": "vital-interests", "label": ""})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter the basis as staff will see it." in html
    response = client.post(url, {"code": "vital-interests", "label": "Again"})
    assert "already has a basis with this code" in response.content.decode()
    assert LawfulBasis.objects.count() == before
    client.post(url, {"code": "public-task-housing", "label": "Housing Act duties"})
    assert LawfulBasis.objects.filter(partnership=cast.testshire, code="public-task-housing")
    # Another partnership's list is its own.
    assert not LawfulBasis.objects.filter(partnership=cast.elsewhere, code="public-task-housing")


def test_auditing_own_agency_reads_is_switched_for_the_partnership(cast, client_for):
    client_for(cast.partnership_admin).post(
        reverse("web:sharing-settings"), {"audit_own_agency_reads": "on"}
    )
    assert Partnership.objects.get(pk=cast.testshire.pk).audit_own_agency_reads
    assert not Partnership.objects.get(pk=cast.elsewhere.pk).audit_own_agency_reads
