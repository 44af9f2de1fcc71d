"""Writers of one partnership's index at the same moment, on PostgreSQL: a change
while a re-match rebuilds the index, two edits of her records of which one links her,
and two records of one household arriving at once.

The re-match deletes every block key and term count, then rebuilds them with each
identity's features. A change to an identity in between held the identity's rows
(its features row, or the identity itself) and waited for the block keys the rebuild
had deleted, while the rebuild, writing that features row or checking the identity its
new block keys point to, waited for the change: a deadlock, which failed the re-match.
The index lock (`candidates.lock_writers`), taken first, makes the change wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection, connections, transaction

from accord.people.index import batch, merge
from accord.people.index.online import match_again
from accord.people.models import (
    IndexSettings,
    MatchFeatures,
    MatchRun,
    MatchRunStatus,
    NotLinkedBecause,
    ReviewItem,
    TermCount,
)
from accord.people.services import identity_create, identity_update

pytestmark = pytest.mark.django_db(transaction=True)


class _Threads:
    """Functions run each in a thread with a database connection of its own; whatever
    one raises is kept, and `finish` fails the test on it."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.threads: list[threading.Thread] = []

    def start(self, function: Callable[[], Any], *, on_error: Callable[[], Any] = lambda: None):
        def run() -> None:
            try:
                function()
            except BaseException as error:
                self.errors.append(error)
                on_error()  # lets the other thread go on rather than wait for it
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        self.threads.append(thread)

    def finish(self) -> None:
        for thread in self.threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in self.threads)
        assert self.errors == []


def _during_a_rematch(cast, monkeypatch, change: Callable[[], Any]) -> Any:
    """Start a re-match, and run `change` once it has deleted the index and begun
    rebuilding it; both must finish without an error. What `change` returned."""
    assert connection.vendor == "postgresql"
    rebuilding = threading.Event()
    changed = threading.Event()
    real_derive = batch.derive

    def derive_after_the_change(*args, **kwargs):
        # Pauses the re-match once, its deletions made, to let the change run (with the
        # lock the change waits for the re-match instead, and this pause runs out).
        if not rebuilding.is_set():
            rebuilding.set()
            changed.wait(timeout=2)
        return real_derive(*args, **kwargs)

    monkeypatch.setattr(batch, "derive", derive_after_the_change)
    outcome: list[Any] = []

    def run_change() -> None:
        assert rebuilding.wait(timeout=10)
        outcome.append(change())
        changed.set()

    threads = _Threads()
    threads.start(lambda: batch.match_run_start(actor=cast.partnership_admin))  # runs on commit
    threads.start(run_change)
    threads.finish()
    run = MatchRun.objects.get()
    assert (run.status, run.error) == (MatchRunStatus.DONE, "")
    return outcome[0]


def _her(cast):
    return identity_create(
        actor=cast.police_officer,
        given_names="Ottoline",
        family_name="Quarrendew",
        date_of_birth=date(1988, 3, 9),
    )


def test_a_change_while_a_rematch_rebuilds_the_index_waits_for_it(cast, monkeypatch):
    woman = _her(cast)

    _during_a_rematch(
        cast,
        monkeypatch,
        lambda: identity_update(
            actor=cast.police_officer, identity_id=woman.id, family_name="Quarrendewe"
        ),
    )

    # The change came after the rebuild: its features and counts are the index's.
    assert MatchFeatures.objects.get(identity=woman).values["family"] == "quarrendewe"
    counts = dict(
        TermCount.objects.filter(partnership=cast.testshire, column="family").values_list(
            "value", "count"
        )
    )
    assert counts.get("quarrendewe") == 1 and counts.get("quarrendew", 0) == 0


def test_matching_again_while_a_rematch_rebuilds_the_index_waits_for_it(cast, monkeypatch):
    """`match_again` locks the identity's row: it must not do so before the index lock."""
    woman = _her(cast)

    outcome = _during_a_rematch(
        cast,
        monkeypatch,
        lambda: match_again(str(woman.id), "user", str(cast.police_officer.id)),
    )

    assert outcome is not None and outcome.person_id == woman.person_id


def test_two_records_arriving_at_once_never_put_a_household_in_one_person(cast):
    """A mother's and her namesake daughter's records arrive at the same moment; an
    earlier record of one of them has no date of birth, so each alone would join it.
    Deciding on the persons as it read them, before the other arrival committed, each
    joined it, and mother and daughter were one person. Each arrival takes the index
    lock first, so the second decides on the persons the first left, and the pair is
    left to a person."""
    assert connection.vendor == "postgresql"
    IndexSettings.objects.update_or_create(
        partnership=cast.testshire, defaults={"link_at": 0.5, "review_at": 0.1}
    )
    undated = identity_create(
        actor=cast.idva,
        given_names="Morwenna",
        family_name="Examplewright",
        phone="07700 900461",
        email="morwenna.e@example.org",
    )
    merged = threading.Event()
    release = threading.Event()
    arrived: dict[str, Any] = {}

    def mother() -> None:
        # No family name: her term counts touch no row the daughter's do, so nothing
        # but the index lock makes the daughter's arrival wait for hers.
        with transaction.atomic():
            arrived["mother"] = identity_create(
                actor=cast.police_officer,
                given_names="Morwenna",
                date_of_birth=date(1971, 6, 14),
                phone="07700 900461",
                email="morwenna.e@example.org",
            )
            merged.set()
            release.wait(timeout=10)

    def daughter() -> None:
        assert merged.wait(timeout=10)
        arrived["daughter"] = identity_create(
            actor=cast.gp,
            given_names="Morwenna",
            family_name="Examplewright",
            date_of_birth=date(2003, 2, 3),
            phone="07700 900461",
            email="morwenna.e@example.org",
        )

    threads = _Threads()
    threads.start(mother, on_error=merged.set)
    threads.start(daughter)
    assert merged.wait(timeout=10)
    _wait_for_a_lock_wait()
    release.set()
    threads.finish()

    mother_record, daughter_record = arrived["mother"], arrived["daughter"]
    undated.refresh_from_db()
    assert mother_record.person_id == undated.person_id  # the first to arrive joined
    assert daughter_record.person_id != undated.person_id
    item = ReviewItem.objects.get(
        identity_a_id=min(daughter_record.id, undated.id, key=str),
        identity_b_id=max(daughter_record.id, undated.id, key=str),
    )
    assert item.not_linked_because == NotLinkedBecause.HOUSEHOLD


def _wait_for_a_lock_wait(timeout: float = 10) -> None:
    """Until another connection waits for a lock this test's threads hold."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("no connection waited for a lock")


def test_two_edits_of_her_records_one_linking_her_elsewhere_do_not_deadlock(cast, monkeypatch):
    """Two agencies correct her family name at the same moment. The police edit links
    her person to another record of hers (an automatic merge, which moves the GP's
    record too); the GP edit holds the GP's record while it waits for the term count
    of the new name, which the police edit holds. Without one lock for both, the merge
    waited for the GP's record and the GP edit for the term count: a deadlock."""
    assert connection.vendor == "postgresql"
    her = {"given_names": "Ottoline", "date_of_birth": date(1988, 3, 9)}
    IndexSettings.objects.update_or_create(
        partnership=cast.testshire, defaults={"link_at": 0.999999999999, "review_at": 0.5}
    )
    police = identity_create(actor=cast.police_officer, family_name="Quarrendew", **her)
    gp = identity_create(actor=cast.gp, person_id=police.person_id, family_name="Quarrendew", **her)
    elsewhere = identity_create(actor=cast.idva, family_name="Quarrendewe", **her)
    assert elsewhere.person_id != police.person_id
    IndexSettings.objects.filter(partnership=cast.testshire).update(link_at=0.9)

    merging = threading.Event()
    release = threading.Event()
    real_merge = merge.persons_merge

    def merge_after_the_other_edit(**kwargs):
        # Pauses the police edit once, its term counts written, before it merges.
        if not merging.is_set():
            merging.set()
            release.wait(timeout=10)
        return real_merge(**kwargs)

    monkeypatch.setattr(merge, "persons_merge", merge_after_the_other_edit)

    def edit(actor, identity) -> Callable[[], None]:
        return lambda: identity_update(
            actor=actor, identity_id=identity.id, family_name="Quarrendewe"
        )

    threads = _Threads()
    threads.start(edit(cast.police_officer, police), on_error=merging.set)
    assert merging.wait(timeout=10)
    threads.start(edit(cast.gp, gp))
    _wait_for_a_lock_wait()
    release.set()
    threads.finish()

    police.refresh_from_db()
    gp.refresh_from_db()
    assert police.family_name == gp.family_name == "Quarrendewe"
    assert police.person_id == gp.person_id == elsewhere.person_id
