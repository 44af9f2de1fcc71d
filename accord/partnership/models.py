"""Partnerships, their agencies and the people who work in them."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from accord.partnership.vocabulary import Role, Sector, TrainingLevel, default_word_for


class Partnership(models.Model):
    """A local partnership: the tenant boundary. Nothing crosses it unaudited."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=120, unique=True)
    # Reads of one's own agency's records are audited where the partnership says so.
    audit_own_agency_reads = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    """An agency in a partnership (police force, GP practice, housing provider, …)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="agencies")
    name = models.CharField(max_length=120)
    sector = models.CharField(max_length=32, choices=Sector.choices)
    # The agency's own word for the victim-survivor; blank means the sector's default.
    victim_survivor_word = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"
        constraints = [
            models.UniqueConstraint(fields=["partnership", "name"], name="agency_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def word_for_victim_survivor(self) -> str:
        return self.victim_survivor_word or default_word_for(self.sector)


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        # Usernames are matched without regard to case, so "J.Smith" and "j.smith"
        # cannot be two accounts or two lockout counters.
        return self.get(username__iexact=username)


class User(AbstractBaseUser):  # type: ignore[django-manager-missing]
    """Someone who signs in. Every user belongs to exactly one agency."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=150, unique=True)
    display_name = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="users")
    role = models.CharField(max_length=32, choices=Role.choices)
    training_level = models.CharField(
        max_length=20, choices=TrainingLevel.choices, default=TrainingLevel.NONE
    )
    training_date = models.DateField(null=True, blank=True)
    # Set when an admin chose the password: the person chooses their own at next sign-in.
    must_change_password = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        ordering = ["display_name"]
        constraints = [
            # "J.Smith" and "j.smith" are one name: one account, one lockout counter.
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def partnership_id(self) -> uuid.UUID:
        return self.agency.partnership_id

    @property
    def actor_kind(self) -> str:
        return "user"

    def is_verified(self) -> bool:
        """Replaced per request by django-otp's middleware; False until then."""
        return False

    def may(self, action: str) -> bool:
        from accord.partnership.permissions import role_may

        return self.is_active and self.agency.is_active and role_may(self.role, action)


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """One-time recovery codes for when the authenticator app is lost.

    Only a SHA-256 digest of each code is stored: the codes carry 80 random bits, so
    a copy of the database does not give anyone a way past the second factor.
    """

    def get_throttle_factor(self) -> int:
        return 1

    @staticmethod
    def digest(code: str) -> str:
        return hashlib.sha256(code.strip().replace(" ", "").lower().encode()).hexdigest()

    def issue_codes(self, count: int) -> list[str]:
        """Replace every code with `count` new ones; return them to be shown once."""
        raw = [secrets.token_hex(10) for _ in range(count)]  # 80 random bits each
        codes = [" ".join(code[i : i + 5] for i in range(0, 20, 5)) for code in raw]
        self.codes.all().delete()
        RecoveryCode.objects.bulk_create(
            [RecoveryCode(device=self, digest=self.digest(code)) for code in codes]
        )
        return codes

    def verify_token(self, token: str) -> bool:
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        # Deleting is the check: of two requests racing with one code, only one deletes it.
        deleted, _ = self.codes.filter(digest=self.digest(token)).delete()
        if not deleted:
            self.throttle_increment()
            return False
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class RecoveryCode(models.Model):
    device = models.ForeignKey(RecoveryCodeDevice, related_name="codes", on_delete=models.CASCADE)
    digest = models.CharField(max_length=64, db_index=True)

    def __str__(self) -> str:
        return "recovery code"
