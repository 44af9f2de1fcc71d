"""Every change to partnerships, agencies and users: one transaction, one audit row."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed, require
from accord.partnership import selectors
from accord.partnership.models import Agency, RecoveryCodeDevice, User
from accord.partnership.permissions import Action
from accord.partnership.vocabulary import Role, Sector, TrainingLevel

USER_EDITABLE = ("display_name", "email", "role", "training_level", "training_date", "is_active")


def _check_choice(field: str, value: str, choices: type[Any]) -> None:
    if value not in choices.values:
        raise ValidationError({field: [f"'{value}' is not one of the allowed values."]})


def _check_training_date(value: datetime.date | None) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError({"training_date": ["The training date cannot be in the future."]})


def _save_changes(
    actor: User, target: Agency | User, object_type: str, changes: dict[str, Any]
) -> None:
    """Save the fields that really changed, and audit their names, in one transaction."""
    changed = [name for name, value in changes.items() if getattr(target, name) != value]
    if not changed:
        return
    with transaction.atomic():
        for name in changed:
            setattr(target, name, changes[name])
        target.save(update_fields=changed)
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type=object_type,
            object_id=target.pk,
            changed_fields=changed,
        )


def agency_create(*, actor: User, name: str, sector: str, victim_survivor_word: str = "") -> Agency:
    """Add an agency to the actor's partnership (partnership admins only)."""
    require(actor, Action.AGENCY_MANAGE)
    _check_choice("sector", sector, Sector)
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Enter the agency's name."]})
    with transaction.atomic():
        if Agency.objects.filter(
            partnership_id=actor.agency.partnership_id, name__iexact=name
        ).exists():
            raise ValidationError(
                {"name": ["An agency with this name is already in the partnership."]}
            )
        agency = Agency.objects.create(
            partnership_id=actor.agency.partnership_id,
            name=name,
            sector=sector,
            victim_survivor_word=victim_survivor_word.strip(),
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="agency",
            object_id=agency.id,
            changed_fields=["name", "sector", "victim_survivor_word"],
        )
    return agency


def agency_update(*, actor: User, agency: Agency, **changes: Any) -> Agency:
    """Change an agency's name, sector, word for the victim-survivor or active flag."""
    require(actor, Action.AGENCY_MANAGE)
    agency = selectors.agency_get_for(actor=actor, agency_id=agency.pk)
    allowed = {"name", "sector", "victim_survivor_word", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    if "sector" in changes:
        _check_choice("sector", changes["sector"], Sector)
    if "name" in changes:
        changes["name"] = str(changes["name"]).strip()
        if not changes["name"]:
            raise ValidationError({"name": ["Enter the agency's name."]})
        others = Agency.objects.filter(partnership_id=agency.partnership_id).exclude(pk=agency.pk)
        if others.filter(name__iexact=changes["name"]).exists():
            raise ValidationError(
                {"name": ["An agency with this name is already in the partnership."]}
            )
    _save_changes(actor, agency, "agency", changes)
    return agency


def _check_user_fields(actor: User, fields: dict[str, Any]) -> None:
    if "role" in fields:
        _check_choice("role", fields["role"], Role)
        if fields["role"] not in dict(selectors.roles_assignable_by(actor=actor)):
            raise ValidationError({"role": ["You cannot give this role."]})
    if "training_level" in fields:
        _check_choice("training_level", fields["training_level"], TrainingLevel)
    if "training_date" in fields:
        _check_training_date(fields["training_date"])
    if "display_name" in fields and not str(fields["display_name"]).strip():
        raise ValidationError({"display_name": ["Enter the person's name."]})


def user_create(
    *,
    actor: User,
    agency: Agency,
    username: str,
    display_name: str,
    role: str,
    password: str,
    email: str = "",
    training_level: str = TrainingLevel.NONE,
    training_date: datetime.date | None = None,
) -> User:
    """Create a user in an agency the actor administers."""
    require(actor, Action.USER_MANAGE)
    if not selectors.agencies_assignable_by(actor=actor).filter(pk=agency.pk).exists():
        raise NotAllowed
    username = username.strip()
    if not username:
        raise ValidationError({"username": ["Enter a username."]})
    _check_user_fields(
        actor,
        {
            "role": role,
            "training_level": training_level,
            "training_date": training_date,
            "display_name": display_name,
        },
    )
    user = User(
        must_change_password=True,
        username=username,
        display_name=display_name.strip(),
        email=email.strip(),
        agency=agency,
        role=role,
        training_level=training_level,
        training_date=training_date,
    )
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    with transaction.atomic():
        try:
            # The database's case-insensitive unique constraint decides, so two admins
            # adding "j.smith" and "J.Smith" at once cannot both succeed.
            with transaction.atomic():
                user.save(force_insert=True)
        except IntegrityError:
            raise ValidationError({"username": ["This username is already taken."]}) from None
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="user",
            object_id=user.id,
            changed_fields=[
                "username",
                "display_name",
                "email",
                "agency",
                "role",
                "training_level",
                "training_date",
                "password",
            ],
        )
    return user


def _managed_user(actor: User, user: User) -> User:
    """The user, if the actor may manage them: in reach (else 404) and holding a role the
    actor could give (an agency admin must not edit a partnership admin into anything)."""
    require(actor, Action.USER_MANAGE)
    user = selectors.user_get_for(actor=actor, user_id=user.pk)
    if user.role not in dict(selectors.roles_assignable_by(actor=actor)):
        raise NotAllowed
    return user


def user_update(*, actor: User, user: User, **changes: Any) -> User:
    """Change a user's details, role, training record or whether they may sign in."""
    user = _managed_user(actor, user)
    unknown = set(changes) - set(USER_EDITABLE)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    role_changes = "role" in changes and changes["role"] != user.role
    if user.pk == actor.pk and (role_changes or changes.get("is_active") is False):
        raise ValidationError({"role": ["You cannot change your own role or deactivate yourself."]})
    _check_user_fields(actor, changes)
    _save_changes(actor, user, "user", changes)
    return user


def user_reset_second_factor(*, actor: User, user: User) -> None:
    """Remove a user's authenticator and recovery codes: they enrol again at next sign-in.

    For a lost or replaced phone. Until they sign in again, nobody can use the account
    with a second factor, and a password alone is still not enough to open any page.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = _managed_user(actor, user)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCodeDevice.objects.filter(user=user).delete()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="user",
            object_id=user.id,
            changed_fields=["second_factor", "recovery_codes"],
            reason="second factor reset",
        )


def user_unlock_sign_in(*, actor: User, user: User) -> int:
    """Lift a sign-in lockout on a user's name early. Returns the attempts cleared."""
    from axes.utils import reset

    user = _managed_user(actor, user)
    with transaction.atomic():
        cleared = reset(username=user.username.lower())
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="user",
            object_id=user.id,
            changed_fields=["sign_in_lockout"],
            reason="sign-in lockout lifted",
        )
    return int(cleared)


def password_change(*, actor: User, old_password: str, new_password: str, repeated: str) -> User:
    """A user sets their own password. Checks the old one and Django's validators."""
    if not actor.check_password(old_password):
        raise ValidationError({"old_password": ["Your current password is not right."]})
    if new_password != repeated:
        raise ValidationError({"repeated": ["The two new passwords are not the same."]})
    if new_password == old_password:
        raise ValidationError({"new_password": ["Choose a password you have not used here."]})
    try:
        validate_password(new_password, actor)
    except ValidationError as error:
        raise ValidationError({"new_password": error.messages}) from None
    with transaction.atomic():
        actor.set_password(new_password)
        actor.must_change_password = False
        actor.save(update_fields=["password", "must_change_password"])
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="user",
            object_id=actor.id,
            changed_fields=["password"],
            reason="own password changed",
        )
    return actor
