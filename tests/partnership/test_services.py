"""Agencies and users: who may change what, what is refused, and what is audited."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from accord.core.errors import NotAllowed, NotFound
from accord.partnership import selectors, services
from accord.partnership.models import Agency, User
from accord.partnership.vocabulary import Role, Sector
from tests.conftest import audit_rows


def _new_user(actor, agency, **extra):
    fields = {
        "username": "new.person",
        "display_name": "New Person",
        "role": Role.PRACTITIONER,
        "password": "a-long-enough-passphrase",
    } | extra
    return services.user_create(actor=actor, agency=agency, **fields)


def test_each_sector_has_its_own_word_for_the_victim_survivor(cast):
    assert cast.agency.police.word_for_victim_survivor == "victim"
    assert cast.agency.gp.word_for_victim_survivor == "patient"
    assert cast.agency.housing.word_for_victim_survivor == "tenant"
    assert cast.agency.da_service.word_for_victim_survivor == "client"
    cast.agency.housing.victim_survivor_word = "resident"
    assert cast.agency.housing.word_for_victim_survivor == "resident"


def test_an_agency_admin_adds_a_user_to_their_own_agency(cast):
    user = _new_user(
        cast.police_admin,
        cast.agency.police,
        training_level="practitioner",
        training_date=datetime.date(2025, 6, 1),
    )
    assert user.agency == cast.agency.police
    assert user.check_password("a-long-enough-passphrase")
    assert user.training_date == datetime.date(2025, 6, 1)
    [row] = audit_rows(action="create", object_id=user.id)
    assert row.actor_id == cast.police_admin.id
    assert "password" in row.changed_fields
    assert "a-long-enough-passphrase" not in str(row.__dict__)


def test_an_agency_admin_cannot_add_users_to_another_agency(cast):
    with pytest.raises(NotAllowed):
        _new_user(cast.police_admin, cast.agency.housing)
    assert not User.objects.filter(username="new.person").exists()


def test_an_agency_admin_sees_and_edits_only_their_own_agency_users(cast):
    visible = set(selectors.users_for(actor=cast.police_admin))
    assert cast.police_officer in visible and cast.gp not in visible
    with pytest.raises(NotFound):
        services.user_update(actor=cast.police_admin, user=cast.gp, display_name="Changed")
    cast.gp.refresh_from_db()
    assert cast.gp.display_name == "Dee Doctor"


def test_an_agency_admin_cannot_make_a_partnership_admin(cast):
    with pytest.raises(ValidationError) as error:
        _new_user(cast.police_admin, cast.agency.police, role=Role.PARTNERSHIP_ADMIN)
    assert "role" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.user_update(
            actor=cast.police_admin, user=cast.police_officer, role=Role.PARTNERSHIP_ADMIN
        )


def test_a_partnership_admin_manages_users_across_the_partnership_only(cast):
    user = _new_user(cast.partnership_admin, cast.agency.housing)
    assert user.agency == cast.agency.housing
    assert cast.outsider not in set(selectors.users_for(actor=cast.partnership_admin))
    with pytest.raises(NotAllowed):
        _new_user(cast.partnership_admin, cast.elsewhere_agency.police, username="x.y")


def test_practitioners_cannot_manage_users(cast):
    with pytest.raises(NotAllowed):
        _new_user(cast.police_officer, cast.agency.police)
    assert list(selectors.users_for(actor=cast.police_officer)) == []


def test_weak_passwords_and_taken_usernames_are_refused_by_field(cast):
    with pytest.raises(ValidationError) as error:
        _new_user(cast.police_admin, cast.agency.police, password="password")
    assert "password" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        _new_user(cast.police_admin, cast.agency.police, username="GP")
    assert error.value.message_dict == {"username": ["This username is already taken."]}


def test_a_training_date_in_the_future_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        services.user_update(
            actor=cast.police_admin,
            user=cast.police_officer,
            training_date=datetime.date.today() + datetime.timedelta(days=3),
        )
    assert "training_date" in error.value.message_dict


def test_updates_record_the_names_of_changed_fields_only(cast):
    services.user_update(
        actor=cast.police_admin,
        user=cast.police_officer,
        display_name="Alice Renamed",
        training_level="specialist",
    )
    [row] = audit_rows(action="update", object_id=cast.police_officer.id)
    assert row.changed_fields == ["display_name", "training_level"]
    assert "Alice" not in row.reason


def test_admins_cannot_demote_or_deactivate_themselves(cast):
    with pytest.raises(ValidationError):
        services.user_update(actor=cast.police_admin, user=cast.police_admin, is_active=False)


def test_only_partnership_admins_add_agencies_and_names_are_unique(cast):
    agency = services.agency_create(
        actor=cast.partnership_admin, name="Testshire Refuge", sector=Sector.SPECIALIST_DA
    )
    assert agency.partnership == cast.testshire
    with pytest.raises(ValidationError) as error:
        services.agency_create(
            actor=cast.partnership_admin, name="testshire refuge", sector=Sector.SPECIALIST_DA
        )
    assert "name" in error.value.message_dict
    with pytest.raises(NotAllowed):
        services.agency_create(actor=cast.police_admin, name="Another", sector=Sector.OTHER)
    with pytest.raises(ValidationError) as error:
        services.agency_create(actor=cast.partnership_admin, name="Odd", sector="astrology")
    assert "sector" in error.value.message_dict


def test_agencies_of_another_partnership_do_not_exist_for_you(cast):
    assert cast.elsewhere_agency.police not in set(selectors.agencies_for(actor=cast.gp))
    with pytest.raises(NotFound):
        selectors.agency_get_for(actor=cast.gp, agency_id=cast.elsewhere_agency.police.id)
    with pytest.raises(NotFound):
        services.agency_update(
            actor=cast.partnership_admin, agency=cast.elsewhere_agency.police, name="Taken over"
        )
    assert Agency.objects.get(pk=cast.elsewhere_agency.police.pk).name == "Elsewhere Police"


def test_the_demo_partnership_loads_the_same_way_twice(db, settings):
    from io import StringIO

    from django.core.management import call_command

    from accord.audit.models import AuditEvent

    settings.DEMO_MODE = True
    call_command("demo_data", stdout=StringIO())
    from accord.cases.models import AgencyRecord
    from accord.people.models import Person

    def counts() -> tuple[int, ...]:
        return (
            User.objects.count(),
            Agency.objects.count(),
            AuditEvent.objects.count(),
            Person.objects.count(),
            AgencyRecord.objects.count(),
        )

    first = counts()
    assert first[3:] == (2, 7)
    ids = set(User.objects.values_list("id", flat=True))
    call_command("demo_data", stdout=StringIO())
    assert counts() == first
    assert set(User.objects.values_list("id", flat=True)) == ids
    assert {u.role for u in User.objects.all()} == set(Role)
    assert all("(fictional)" in a.name for a in Agency.objects.all())


def test_demo_data_refuses_to_run_outside_demo_mode(db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="demo settings"):
        call_command("demo_data")
    assert not User.objects.exists()


def test_agency_admins_give_agency_roles_only(cast):
    for role in (
        Role.DATA_PROTECTION_OFFICER,
        Role.PARTNERSHIP_ANALYST,
        Role.MARAC_CHAIR,
        Role.MARAC_COORDINATOR,
    ):
        with pytest.raises(ValidationError):
            _new_user(cast.police_admin, cast.agency.police, role=role)
    assert _new_user(cast.police_admin, cast.agency.police, role=Role.AGENCY_SPOC).role == (
        Role.AGENCY_SPOC
    )
    # Nor may they unlock or reset the partnership's own staff.
    with pytest.raises(NotFound):
        services.user_unlock_sign_in(actor=cast.police_admin, user=cast.dpo)


def test_an_admin_may_save_their_own_details_with_their_role_unchanged(cast):
    services.user_update(
        actor=cast.police_admin,
        user=cast.police_admin,
        role=Role.AGENCY_ADMIN,
        display_name="Cal Renamed",
    )
    cast.police_admin.refresh_from_db()
    assert cast.police_admin.display_name == "Cal Renamed"


def test_renaming_an_agency_to_a_name_in_use_is_refused_by_field(cast):
    with pytest.raises(ValidationError) as error:
        services.agency_update(
            actor=cast.partnership_admin, agency=cast.agency.gp, name="testshire police"
        )
    assert "name" in error.value.message_dict


def test_usernames_are_unique_without_regard_to_case_in_the_database(cast):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(
            username="GP", display_name="Copy", agency=cast.agency.gp, role=Role.PRACTITIONER
        )
