"""Two transactions writing one partnership's index at once, on PostgreSQL.

Each term-count statement locks its rows in order, but a transaction's statements do
not: an import whose first record has a family name and no address holds the
family-name total, another whose first record has an address and no family name holds
the postcode total, and each then waits for the other's. The index lock
(`candidates.lock_writers`) makes them queue instead.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections, transaction

from accord.people.index import batch
from accord.people.index.candidates import TOTAL
from accord.people.models import MatchFeatures, MatchRun, MatchRunStatus, TermCount
from accord.people.services import address_add, identity_create, identity_update

pytestmark = pytest.mark.django_db(transaction=True)


def _totals(cast) -> dict[str, int]:
    return dict(
        TermCount.objects.filter(partnership=cast.testshire, value=TOTAL).values_list(
            "column", "count"
        )
    )


def test_two_imports_crossing_the_term_counts_queue_rather_than_deadlock(cast):
    assert connection.vendor == "postgresql"
    before = _totals(cast)
    first_written = threading.Event()
    second_written = threading.Event()
    errors: list[BaseException] = []

    def family_name_first() -> None:
        try:
            with transaction.atomic():
                woman = identity_create(
                    actor=cast.police_officer,
                    given_names="Ottoline",
                    family_name="Quarrendew",
                    date_of_birth=date(1988, 3, 9),
                )
                first_written.set()
                # Without the lock the other import writes its first record now; with
                # it, that record waits for this transaction, and this one goes on.
                second_written.wait(timeout=2)
                address_add(
                    actor=cast.police_officer,
                    identity_id=woman.id,
                    lines="4 Fable Yard",
                    postcode="ZZ1 7QA",
                )
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def postcode_first() -> None:
        try:
            first_written.wait(timeout=10)
            with transaction.atomic():
                other = identity_create(
                    actor=cast.gp, given_names="Philippa", date_of_birth=date(1979, 11, 2)
                )
                address_add(
                    actor=cast.gp, identity_id=other.id, lines="9 Riddle Lane", postcode="ZZ2 3RB"
                )
                second_written.set()
                identity_create(
                    actor=cast.gp,
                    given_names="Cressida",
                    family_name="Vantablight",
                    date_of_birth=date(1965, 1, 30),
                )
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=family_name_first), threading.Thread(target=postcode_first)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    after = _totals(cast)
    assert after.get("family", 0) - before.get("family", 0) == 2
    assert after.get("postcode", 0) - before.get("postcode", 0) == 2


def test_a_change_while_a_rematch_rebuilds_the_index_waits_for_it(cast, monkeypatch):
    """The re-match deletes every block key and term count, then rebuilds them with each
    identity's features. A change to an identity in between would hold its features row
    and wait for its deleted block keys, while the re-match, writing that features row,
    waited for the change: one of the two failed on a deadlock."""
    assert connection.vendor == "postgresql"
    woman = identity_create(
        actor=cast.police_officer,
        given_names="Ottoline",
        family_name="Quarrendew",
        date_of_birth=date(1988, 3, 9),
    )
    rebuilding = threading.Event()
    changed = threading.Event()
    real_derive = batch.derive

    def derive_after_the_change(*args, **kwargs):
        # Pauses the re-match once, its deletions made, to let the change run.
        if not rebuilding.is_set():
            rebuilding.set()
            changed.wait(timeout=2)
        return real_derive(*args, **kwargs)

    monkeypatch.setattr(batch, "derive", derive_after_the_change)
    errors: list[BaseException] = []

    def rematch() -> None:
        try:
            batch.match_run_start(actor=cast.partnership_admin)  # runs on commit, here
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def change() -> None:
        try:
            rebuilding.wait(timeout=10)
            identity_update(
                actor=cast.police_officer, identity_id=woman.id, family_name="Quarrendewe"
            )
            changed.set()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rematch), threading.Thread(target=change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    run = MatchRun.objects.get()
    assert (run.status, run.error) == (MatchRunStatus.DONE, "")
    # The change came after the rebuild: its features and counts are the index's.
    stored = MatchFeatures.objects.get(identity=woman)
    assert stored.values["family"] == "quarrendewe"
    counts = dict(
        TermCount.objects.filter(partnership=cast.testshire, column="family").values_list(
            "value", "count"
        )
    )
    assert counts.get("quarrendewe") == 1 and not counts.get("QUARRENDEW")
