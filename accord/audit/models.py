"""The audit log: append-only events, sealed into one HMAC chain per partnership.

Writing an event is one INSERT in the transaction of the act it records, so auditing
every read stays cheap and no writer waits for another. A sealer then links the
committed events, in the order it finds them, into their partnership's chain
(`AuditSeal`), shortly after commit. `audit_verify` proves the whole log.

No personal data is ever written here: identifiers are UUIDs, changed fields are
listed by name only, and reasons are written by staff who are told not to name
anyone. On PostgreSQL a trigger refuses UPDATE and DELETE on events and seals.
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
    """One audited act, as written by the service that did it."""

    id = models.BigAutoField(primary_key=True)
    # One chain per partnership (its UUID) and one for events with no partnership.
    chain = models.CharField(max_length=36)
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

    class Meta:
        indexes = [
            models.Index(fields=["person_id", "occurred_at"], name="audit_person_idx"),
            models.Index(fields=["actor_id", "occurred_at"], name="audit_actor_idx"),
            models.Index(fields=["object_id"], name="audit_object_idx"),
            models.Index(fields=["chain", "id"], name="audit_chain_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_kind} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class AuditPending(models.Model):
    """Events committed but not yet sealed: the sealer's queue, emptied as it seals."""

    event_id = models.BigIntegerField(primary_key=True)
    chain = models.CharField(max_length=36)

    class Meta:
        indexes = [models.Index(fields=["chain", "event_id"], name="audit_pending_chain_idx")]

    def __str__(self) -> str:
        return f"event {self.event_id} waiting in {self.chain}"


class AuditSeal(models.Model):
    """An event's place in its chain: HMAC over the previous seal and the event."""

    event_id = models.BigIntegerField(primary_key=True)
    chain = models.CharField(max_length=36)
    seq = models.BigIntegerField()
    key_id = models.CharField(max_length=16)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    sealed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["chain", "seq"], name="audit_seal_chain_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.chain} at {self.seq}"


class AuditChainHead(models.Model):
    """The last seal of each chain. Only sealers lock it; writers never touch it."""

    chain = models.CharField(max_length=36, primary_key=True)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"{self.chain} at {self.seq}"
