"""Issuing and revoking agency API keys."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accord.api.models import ApiKey
from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.core.errors import NotAllowed, NotFound
from accord.partnership.models import User
from accord.partnership.permissions import API_KEY_SCOPES, Action

KEY_PREFIX = "acc"


def key_digest(secret: str) -> str:
    # The secret is 256 random bits, so a plain SHA-256 is enough; a slow hash
    # would only add latency to every API call.
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_issue(*, actor: User, name: str, scopes: Iterable[str]) -> tuple[ApiKey, str]:
    """Issue a key for the actor's own agency. Returns the key and its secret,
    which is shown once and never stored."""
    if not actor.may(Action.API_KEY_MANAGE):
        raise NotAllowed
    name = name.strip()
    if not name:
        raise ValidationError(
            {"name": ["Give the key a name, such as the system that will use it."]}
        )
    chosen = sorted(set(scopes))
    if not chosen:
        raise ValidationError({"scopes": ["Choose at least one scope."]})
    unknown = [scope for scope in chosen if scope not in API_KEY_SCOPES]
    if unknown:
        raise ValidationError({"scopes": [f"'{unknown[0]}' is not a scope an API key can hold."]})
    prefix = secrets.token_hex(6)
    secret = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        key = ApiKey.objects.create(
            agency_id=actor.agency_id,
            name=name,
            prefix=prefix,
            digest=key_digest(secret),
            scopes=chosen,
            created_by_id=actor.id,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="api_key",
            object_id=key.id,
            changed_fields=["name", "scopes"],
        )
    return key, secret


def api_keys_for(*, actor: User) -> list[ApiKey]:
    """The keys of the actor's own agency."""
    if not actor.may(Action.API_KEY_MANAGE):
        return []
    return list(ApiKey.objects.filter(agency_id=actor.agency_id).select_related("agency"))


def api_key_revoke(*, actor: User, key_id: uuid.UUID | str) -> ApiKey:
    """Revoke a key of the actor's own agency; it stops working on the next request."""
    if not actor.may(Action.API_KEY_MANAGE):
        raise NotAllowed
    with transaction.atomic():
        try:
            key = ApiKey.objects.select_for_update().get(pk=key_id, agency_id=actor.agency_id)
        except (ApiKey.DoesNotExist, ValueError, ValidationError):
            raise NotFound from None
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.revoked_by_id = actor.id
            key.save(update_fields=["revoked_at", "revoked_by_id"])
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type="api_key",
                object_id=key.id,
                changed_fields=["revoked_at"],
            )
    return key


def api_key_authenticate(secret: str) -> ApiKey | None:
    """The active key for this secret, or None. Records when it was last used."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = ApiKey.objects.select_related("agency").filter(prefix=parts[1]).first()
    if key is None or not secrets.compare_digest(key.digest, key_digest(secret)):
        return None
    if not key.is_active:
        return None
    now = timezone.now()
    # Touch at most once a minute, so a busy system does not write on every call.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
