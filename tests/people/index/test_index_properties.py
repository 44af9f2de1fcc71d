"""The person index keeps its shape whatever happens, in any order.

Hypothesis runs random sequences of what staff and the index do — record identities
(new people or linked by hand) and change them, which the index matches at once and
may link by an automatic merge; records, addresses (some confidential), consents and
MARAC referrals; judge pairs different; merge two people, undo a merge, detach an
identity — and after every step checks that:

- every identity belongs to exactly one active person (`merged_into` empty), so a
  merged person has none, and every active person has at least one;
- no row of any table that refers to a person points at a merged person;
- an address's copied person is its identity's person;
- a record or consent sits on a person its agency knows (holds an identity of);
- the policy's hint is true wherever a grant covers an agency's contact details
  (ADR 0012), so the filter never hides what the check allows;
- a merge undone at once gives back exactly what was there.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accord.cases.models import AgencyRecord
from accord.cases.services import record_create
from accord.marac.services import case_refer, meeting_create
from accord.people.index.merge import identity_detach, merge_undo, person_links, persons_merge
from accord.people.models import (
    Address,
    Identity,
    Merge,
    PairJudgement,
    Person,
    ReviewItem,
    ReviewStatus,
)
from accord.people.services import address_add, identity_create, identity_update
from accord.sharing.models import AccessGrant, Consent
from accord.sharing.services import consent_record
from accord.sharing.vocabulary import Basis, InformationCategory

# One caseworker acts for each agency.
AGENCY_USERS = {
    "police": "police_officer",
    "gp": "gp",
    "hospital": "nurse",
    "housing": "housing_officer",
    "da_service": "idva",
    "probation": "probation_officer",
}
AGENCIES = sorted(AGENCY_USERS)
REVIEWERS = ["police_spoc", "marac_coordinator"]
# Fictional names; some near enough for the index to link them on arrival or change.
NAMES = [
    {"given_names": "Rowan", "family_name": "Fictitious", "date_of_birth": date(1990, 1, 1)},
    {"given_names": "Rowan", "family_name": "Fictitous", "date_of_birth": date(1990, 1, 1)},
    {"given_names": "Robin", "family_name": "Example", "date_of_birth": date(1985, 6, 15)},
    {"given_names": "Sam", "family_name": "Sample"},
]

pick = st.integers(0, 1000)  # an index into a list, taken modulo its length


def _snapshot() -> dict[str, Any]:
    tables: dict[str, Any] = {
        link.key: sorted(link.rows.values_list("pk", link.field.attname), key=str)
        for link in person_links()
    }
    tables["persons"] = sorted(Person.objects.values_list("id", "merged_into"), key=str)
    return tables


class IndexMachine(RuleBasedStateMachine):
    cast: ClassVar[Any]
    done: ClassVar[Counter[str]]

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        cast = self.cast
        self.users = {key: getattr(cast, name) for key, name in AGENCY_USERS.items()}
        self.identities: list[Any] = []
        self.meetings = [
            meeting_create(
                actor=cast.marac_coordinator,
                title=title,
                held_at=timezone.now() + timedelta(days=7),
                agency_ids=[cast.agency.police.id, cast.agency.da_service.id],
            )
            for title in ("Northgate MARAC", "Southgate MARAC")
        ]

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- helpers ---------------------------------------------------------------------

    def _active(self) -> list[Any]:
        # In the order they were made, so that a choice is the same when Hypothesis replays.
        active = Person.objects.filter(merged_into__isnull=True).order_by("created_at")
        return list(active.values_list("id", flat=True))

    def _identity(self, i: int) -> Identity | None:
        if not self.identities:
            return None
        return Identity.objects.select_related("agency").get(
            pk=self.identities[i % len(self.identities)]
        )

    def _user_of(self, identity: Identity) -> Any:
        key = next(k for k, u in self.users.items() if u.agency_id == identity.agency_id)
        return self.users[key]

    def _reviewer(self, i: int) -> Any:
        return getattr(self.cast, REVIEWERS[i % len(REVIEWERS)])

    @staticmethod
    def _pair(active: list[Any], i: int, j: int) -> tuple[Any, Any]:
        survivor = active[i % len(active)]
        others = [p for p in active if p != survivor]
        return survivor, others[j % len(others)]

    @contextlib.contextmanager
    def _matched(self) -> Iterator[None]:
        """A new or changed identity is matched at once, and may be linked by an automatic
        merge; where that merge is refused (both persons on one MARAC meeting's agenda)
        the pair goes to review instead, so the change itself always succeeds."""
        yield

    # --- what staff record -----------------------------------------------------------

    @initialize(
        first=st.lists(
            st.tuples(st.sampled_from(AGENCIES), st.booleans(), st.integers(0, len(NAMES) - 1)),
            min_size=2,
            max_size=5,
        )
    )
    def some_people(self, first: list[tuple[str, bool, int]]) -> None:
        for position, (agency, new_person, name) in enumerate(first):
            self.add_identity(agency, None if new_person or not position else 0, name)

    @rule(
        agency=st.sampled_from(AGENCIES),
        link_to=st.none() | pick,
        name=st.integers(0, len(NAMES) - 1),
    )
    def add_identity(self, agency: str, link_to: int | None, name: int) -> None:
        active = self._active()
        person_id = active[link_to % len(active)] if link_to is not None and active else None
        with self._matched():
            made = identity_create(actor=self.users[agency], person_id=person_id, **NAMES[name])
            self.identities.append(made.id)

    @rule(i=pick, name=st.integers(0, len(NAMES) - 1))
    def change_identity(self, i: int, name: int) -> None:
        identity = self._identity(i)
        if identity is None:
            return
        with self._matched():
            identity_update(actor=self._user_of(identity), identity_id=identity.id, **NAMES[name])

    @rule(i=pick, category=st.sampled_from(["health", "criminal_justice", "housing"]))
    def add_record(self, i: int, category: str) -> None:
        identity = self._identity(i)
        if identity is None:
            return
        record_create(
            actor=self._user_of(identity),
            person_id=identity.person_id,
            kind="note",
            category=category,
            occurred_at=timezone.now() - timedelta(days=1),
            summary="A fictional note",
        )

    @rule(i=pick, confidential=st.booleans(), named=st.sampled_from(AGENCIES))
    def add_address(self, i: int, confidential: bool, named: str) -> None:
        identity = self._identity(i)
        if identity is None:
            return
        with self._matched():
            address_add(
                actor=self._user_of(identity),
                identity_id=identity.id,
                lines="1 Nowhere Row",
                postcode="ZZ1 1ZZ",
                confidential=confidential,
                named_agency_ids=[getattr(self.cast.agency, named).id] if confidential else [],
            )

    @rule(
        i=pick,
        to=st.sampled_from(AGENCIES),
        categories=st.sampled_from([["contact_details"], ["health"], ["contact_details", "risk"]]),
    )
    def add_consent(self, i: int, to: str, categories: list[str]) -> None:
        identity = self._identity(i)
        if identity is None or getattr(self.cast.agency, to).id == identity.agency_id:
            return
        consent_record(
            actor=self._user_of(identity),
            person_id=identity.person_id,
            decision="given",
            given_by="self",
            method="verbal",
            recipient_agency_ids=[getattr(self.cast.agency, to).id],
            categories=categories,
            purposes=["safety_planning"],
            explanation="Fictional consent.",
        )

    @rule(i=pick, meeting=st.integers(0, 1))
    def refer_to_marac(self, i: int, meeting: int) -> None:
        identity = self._identity(i)
        if identity is None:
            return
        with contextlib.suppress(ValidationError):  # already on this meeting's agenda
            case_refer(
                actor=self._user_of(identity),
                person_id=identity.person_id,
                meeting_id=self.meetings[meeting].id,
                criteria=["repeat"],
            )

    @rule(i=pick, j=pick)
    def judge_different(self, i: int, j: int) -> None:
        x, y = self._identity(i), self._identity(j)
        if x is None or y is None or x.id == y.id:
            return
        a, b = sorted([x.id, y.id])
        PairJudgement.objects.get_or_create(
            identity_a_id=a,
            identity_b_id=b,
            defaults={"partnership": self.cast.testshire, "verdict": "different"},
        )

    # --- what the index and its reviewers do ---------------------------------------------

    @precondition(lambda self: len(self._active()) > 1)
    @rule(i=pick, j=pick, who=pick, automatic=st.booleans())
    def merge(self, i: int, j: int, who: int, automatic: bool) -> None:
        active = self._active()
        if len(active) < 2:
            return
        survivor, merged = self._pair(active, i, j)
        try:
            persons_merge(
                actor=self._reviewer(who),
                survivor_id=survivor,
                merged_id=merged,
                reason="" if automatic else "The same woman, recorded twice.",
                automatic=automatic,
            )
        except ValidationError:
            self.done["merge refused"] += 1
            return
        self.done["merge"] += 1

    @precondition(lambda self: Merge.objects.filter(undone_at__isnull=True).exists())
    @rule(k=st.sampled_from([0, 0, 0, 1, 2]), who=pick)
    def undo(self, k: int, who: int) -> None:
        # Mostly the latest standing merge (the index's automatic ones included);
        # sometimes an older one, which is refused while a later one depends on it.
        standing = list(
            Merge.objects.filter(undone_at__isnull=True)
            .order_by("merged_at")
            .values_list("id", flat=True)
        )
        try:
            merge_undo(
                actor=self._reviewer(who),
                merge_id=standing[-1 - k % len(standing)],
                reason="Two different women.",
            )
        except ValidationError:
            self.done["undo refused"] += 1
            return
        self.done["undo"] += 1

    @precondition(lambda self: len(self._active()) > 1)
    @rule(i=pick, j=pick)
    def merge_then_undo_at_once(self, i: int, j: int) -> None:
        active = self._active()
        if len(active) < 2:
            return
        before = _snapshot()
        try:
            made = persons_merge(
                actor=self.cast.police_spoc,
                survivor_id=self._pair(active, i, j)[0],
                merged_id=self._pair(active, i, j)[1],
                reason="Checking.",
            )
        except ValidationError:
            return
        merge_undo(actor=self.cast.police_spoc, merge_id=made.id, reason="Checked.")
        assert _snapshot() == before
        self.done["merge undone at once"] += 1

    @rule(i=pick, who=pick)
    def detach(self, i: int, who: int) -> None:
        identity = self._identity(i)
        if identity is None:
            return
        try:
            identity_detach(actor=self._reviewer(who), identity_id=identity.id, reason="Not her.")
        except ValidationError:
            self.done["detach refused"] += 1
            return
        self.done["detach"] += 1

    # --- what must always hold -------------------------------------------------------

    @invariant()
    def no_pair_waits_or_lapses_within_one_person(self) -> None:
        """A merge withdraws the items it puts within one person (open, escalated and
        lapsed alike), and its undo brings back only those about two persons again."""
        within = ReviewItem.objects.filter(
            identity_a__person_id=F("identity_b__person_id"),
            status__in=[ReviewStatus.OPEN, ReviewStatus.NOT_SURE, ReviewStatus.LAPSED],
        )
        assert not within.exists()

    @invariant()
    def identities_belong_to_active_persons(self) -> None:
        assert not Identity.objects.filter(person__merged_into__isnull=False).exists()
        empty = Person.objects.filter(merged_into__isnull=True).annotate(n=Count("identities"))
        assert not empty.filter(n=0).exists()

    @invariant()
    def nothing_points_at_a_merged_person(self) -> None:
        for link in person_links():
            stale = link.rows.filter(**{f"{link.field.name}__merged_into__isnull": False})
            assert not stale.exists(), link.key

    @invariant()
    def addresses_are_on_their_identitys_person(self) -> None:
        assert not Address.objects.exclude(person_id=F("identity__person_id")).exists()

    @invariant()
    def records_and_consents_are_on_a_person_their_agency_knows(self) -> None:
        for model in (AgencyRecord, Consent):
            known = Identity.objects.filter(
                person_id=OuterRef("person_id"), agency_id=OuterRef("agency_id")
            )
            assert not model.objects.filter(~Exists(known)).exists(), model.__name__

    @invariant()
    def the_hint_is_set_wherever_a_grant_covers_contact_details(self) -> None:
        covering = AccessGrant.objects.filter(
            person_id=OuterRef("person_id"),
            holder_agency_id=OuterRef("agency_id"),
            category=InformationCategory.CONTACT_DETAILS,
        ).exclude(basis=Basis.NAMED)
        assert not Identity.objects.filter(Exists(covering), may_be_shared=False).exists()

    @invariant()
    def merges_say_who_is_merged(self) -> None:
        standing = Merge.objects.filter(undone_at__isnull=True)
        assert set(standing.values_list("merged_id", "survivor_id")) == set(
            Person.objects.filter(merged_into__isnull=False).values_list("id", "merged_into")
        )


def test_the_index_keeps_its_invariants_under_any_sequence_of_changes(cast):
    done: Counter[str] = Counter()

    class Machine(IndexMachine):
        pass

    Machine.cast = cast
    Machine.done = done
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
    # The sequences did more than refuse: merges went through and were undone. (Which
    # other steps went through varies from run to run; test_merge.py covers each.)
    assert done["merge undone at once"] > 0, done
