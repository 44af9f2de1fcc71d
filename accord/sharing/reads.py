"""Auditing what an actor read, item by item, with the basis the policy gave.

Every read of another agency's item is an audit event with its basis; every refusal
too. Reads of the actor's own agency's items are audited where the partnership says
so. A request's events are written in one statement, inside a transaction: if the
audit write fails, the read fails. A page built from several selectors gathers their
reads in one `PersonReading`, which writes them together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from django.db import transaction

from accord.audit.models import AuditAction
from accord.audit.services import AuditEntry, audit_record_many
from accord.sharing import policy
from accord.sharing.vocabulary import Basis


@dataclass(frozen=True)
class Read:
    object_type: str
    object_id: uuid.UUID
    holder_agency_id: uuid.UUID
    visible: bool
    basis: str = ""
    reason: str = ""


def audit_own_reads(actor: Any) -> bool:
    return bool(actor.agency.partnership.audit_own_agency_reads)


def record_reads(*, actor: Any, person_id: uuid.UUID | None, reads: Iterable[Read]) -> None:
    """Audit a request's reads and refusals for one person."""
    record_reads_by_person(actor=actor, reads={person_id: reads})


def record_reads_by_person(*, actor: Any, reads: Mapping[uuid.UUID | None, Iterable[Read]]) -> None:
    """Audit a request's reads and refusals about several people (a search's results) in
    one statement, each event with the person it is about."""
    own_too = None
    entries = []
    for person_id, person_reads in reads.items():
        for read in person_reads:
            if not read.visible:
                entries.append(
                    AuditEntry(
                        action=AuditAction.DENY,
                        object_type=read.object_type,
                        object_id=read.object_id,
                        person_id=person_id,
                        reason=read.reason or "content withheld by the access policy",
                    )
                )
                continue
            if read.basis == Basis.OWNER or read.holder_agency_id == actor.agency_id:
                if own_too is None:
                    own_too = audit_own_reads(actor)
                if not own_too:
                    continue
            entries.append(
                AuditEntry(
                    action=AuditAction.READ,
                    object_type=read.object_type,
                    object_id=read.object_id,
                    person_id=person_id,
                    basis=read.basis,
                )
            )
    audit_record_many(actor=actor, entries=entries)


class PersonReading:
    """One request's reading of one person: the actor's grants about her, read at most
    once, and every read and refusal, audited together in one statement.

    A page built from several selectors opens one and passes it to each::

        with PersonReading(actor=actor, person_id=person.id) as reading:
            found = identities_for(actor=actor, person=person, reading=reading)
            chronology = chronology_for(actor=actor, person=person, reading=reading)

    The reads are written when the block ends without an error, in a transaction and
    before anything is shown: if the write fails, the page fails. A selector called
    without a reading opens its own (see `reading_for`).
    """

    def __init__(self, *, actor: Any, person_id: uuid.UUID) -> None:
        self.actor = actor
        self.person_id = person_id
        self._reads: list[Read] = []
        self._grants: list[Any] | None = None
        self._written = False

    @property
    def grants(self) -> list[Any]:
        """The live grants to the actor about her (`policy.grants_for`), read on first use."""
        if self._grants is None:
            self._grants = policy.grants_for(self.actor, person_id=self.person_id)
        return self._grants

    def add(self, reads: Iterable[Read]) -> None:
        """Reads and refusals to audit with the rest of the request's."""
        if self._written:
            # A read added now would be shown without being audited.
            raise RuntimeError("This reading has been audited already; open a new one.")
        self._reads.extend(reads)

    def __enter__(self) -> PersonReading:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            return  # nothing read is shown: the request fails
        self._written = True
        with transaction.atomic():
            record_reads(actor=self.actor, person_id=self.person_id, reads=self._reads)


@contextmanager
def reading_for(
    reading: PersonReading | None, *, actor: Any, person_id: uuid.UUID
) -> Iterator[PersonReading]:
    """The caller's reading of this person, or a new one audited when the block ends."""
    if reading is None:
        with PersonReading(actor=actor, person_id=person_id) as own:
            yield own
        return
    if reading.actor.id != actor.id or reading.person_id != person_id:
        raise ValueError("The reading is another actor's or about another person.")
    yield reading
