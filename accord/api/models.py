"""Agency API keys: how an agency's own system signs in to the API."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accord.partnership.models import Agency


class ApiKey(models.Model):
    """A key is shown once when issued; only its SHA-256 digest is kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="api_keys")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_id = models.UUIDField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.agency.is_active


class ApiKeyActor:
    """The agency system acting through a key. It acts as its agency, within the key's scopes."""

    actor_kind = "api_key"
    is_authenticated = True
    is_anonymous = False
    role = "agency_system"

    def __init__(self, key: ApiKey) -> None:
        self.key = key
        self.id = key.id
        self.agency = key.agency
        self.agency_id = key.agency_id
        self.display_name = f"API key {key.prefix}"

    @property
    def pk(self) -> uuid.UUID:
        return self.id

    @property
    def partnership_id(self) -> uuid.UUID:
        return self.agency.partnership_id

    def may(self, action: str) -> bool:
        from accord.partnership.permissions import API_KEY_SCOPES

        return self.key.is_active and action in API_KEY_SCOPES and action in self.key.scopes

    def is_verified(self) -> bool:
        return True
