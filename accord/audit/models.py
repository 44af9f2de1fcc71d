"""The audit chain: one append-only table, sealed row by row with an HMAC.

No personal data is ever written here: identifiers are UUIDs, changed fields are
listed by name only, and reasons are written by staff who are told not to name
anyone. On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

from django.db import models


class AuditAction(models.TextChoices):
    READ = "read", "Read"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    DISCLOSE = "disclose", "Disclose"
    DENY = "deny", "Deny"
    SIGN_IN = "sign-in", "Sign-in"
    SIGN_IN_FAILED = "sign-in-failed", "Sign-in failed"
    EXPORT = "export", "Export"


class ActorKind(models.TextChoices):
    USER = "user", "User"
    API_KEY = "api_key", "Agency API key"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Not signed in"


class AuditEvent(models.Model):
    """One audited act. Rows are sealed into their partnership's chain in order."""

    id = models.BigAutoField(primary_key=True)
    # One chain per partnership (its UUID) and one for events with no partnership.
    chain = models.CharField(max_length=36)
    seq = models.BigIntegerField()
    occurred_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor_id = models.UUIDField(null=True)
    agency_id = models.UUIDField(null=True)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.UUIDField(null=True)
    person_id = models.UUIDField(null=True)
    basis = models.CharField(max_length=60, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    changed_fields = models.JSONField(default=list)
    key_id = models.CharField(max_length=16)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique"),
        ]
        indexes = [
            models.Index(fields=["person_id", "occurred_at"], name="audit_person_idx"),
            models.Index(fields=["actor_id", "occurred_at"], name="audit_actor_idx"),
            models.Index(fields=["object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_kind} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class AuditChainHead(models.Model):
    """The last sealed row of each chain. Locking it orders writers within a chain."""

    chain = models.CharField(max_length=36, primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.chain} at {self.seq}"
