"""Sealing and checking rows of the audit chain.

Each row's hash is HMAC-SHA256(key, previous row's hash || canonical content),
with the key named by the row's key id, so keys can be rotated without
resealing history: retired keys stay in the key ring for verification only.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from accord.audit.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64

SEALED_FIELDS = (
    "chain",
    "seq",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "agency_id",
    "action",
    "object_type",
    "object_id",
    "person_id",
    "basis",
    "reason",
    "changed_fields",
    "key_id",
)


def _value(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, list)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="microseconds")
    return str(value)


def canonical(event: AuditEvent) -> bytes:
    """The row's content as bytes that do not depend on dict order or database."""
    content = {name: _value(getattr(event, name)) for name in SEALED_FIELDS}
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def _key(key_id: str) -> bytes:
    keys: dict[str, bytes] = settings.AUDIT_KEYS.keys
    try:
        return keys[key_id]
    except KeyError:
        raise ImproperlyConfigured(
            f"The audit key '{key_id}' is not in ACCORD_AUDIT_KEY or ACCORD_AUDIT_OLD_KEYS."
        ) from None


def seal(event: AuditEvent, prev_hash: str) -> str:
    mac = hmac.new(_key(event.key_id), prev_hash.encode() + b"|" + canonical(event), "sha256")
    return mac.hexdigest()


def current_key_id() -> str:
    key_id: str = settings.AUDIT_KEYS.current_id
    return key_id


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int
    row_id: int | None
    what: str

    def __str__(self) -> str:
        where = f"row {self.row_id}" if self.row_id is not None else "chain head"
        return f"chain {self.chain}, position {self.seq} ({where}): {self.what}"


def _walk(
    chain: str, rows: Iterable[AuditEvent], head: AuditChainHead | None
) -> ChainProblem | None:
    prev_hash = GENESIS
    expected_seq = 1
    for row in rows:
        if row.seq != expected_seq:
            what = (
                f"expected position {expected_seq} next but found {row.seq}: "
                "rows were deleted or reordered"
            )
            return ChainProblem(chain, expected_seq, row.id, what)
        if row.prev_hash != prev_hash:
            return ChainProblem(
                chain,
                row.seq,
                row.id,
                "its link to the previous row is broken: rows were deleted, inserted or reordered",
            )
        try:
            recomputed = seal(row, prev_hash)
        except ImproperlyConfigured as error:
            return ChainProblem(chain, row.seq, row.id, str(error))
        if not hmac.compare_digest(recomputed, row.hash):
            return ChainProblem(
                chain, row.seq, row.id, "its content does not match its seal: the row was altered"
            )
        prev_hash = row.hash
        expected_seq += 1
    last_seq = expected_seq - 1
    if head is None:
        if last_seq:
            return ChainProblem(chain, last_seq, None, "the chain head is missing")
        return None
    if head.seq != last_seq or head.hash != prev_hash:
        return ChainProblem(
            chain,
            last_seq + 1,
            None,
            f"the chain head records {head.seq} rows but {last_seq} remain: rows at the end "
            "were deleted",
        )
    return None


def verify(batch_size: int = 5000) -> Iterator[tuple[str, int, ChainProblem | None]]:
    """Walk every chain; yield (chain, rows checked, first problem or None)."""
    heads = {head.chain: head for head in AuditChainHead.objects.all()}
    chains = set(heads) | set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    for chain in sorted(chains):
        rows = AuditEvent.objects.filter(chain=chain).order_by("seq", "id").iterator(batch_size)
        counted: list[int] = [0]

        def counting(
            source: Iterator[AuditEvent], counter: list[int] = counted
        ) -> Iterator[AuditEvent]:
            for row in source:
                counter[0] += 1
                yield row

        problem = _walk(chain, counting(rows), heads.get(chain))
        yield chain, counted[0], problem
