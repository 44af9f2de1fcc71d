"""Writers of one partnership's index while a re-match rebuilds it, on PostgreSQL.

The re-match deletes every block key and term count, then rebuilds them with each
identity's features. A change to an identity in between held the identity's rows
(its features row, or the identity itself) and waited for the block keys the rebuild
had deleted, while the rebuild, writing that features row or checking the identity its
new block keys point to, waited for the change: a deadlock, which failed the re-match.
The index lock (`candidates.lock_writers`), taken first, makes the change wait.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection, connections

from accord.people.index import batch
from accord.people.index.online import match_again
from accord.people.models import MatchFeatures, MatchRun, MatchRunStatus, TermCount
from accord.people.services import identity_create, identity_update

pytestmark = pytest.mark.django_db(transaction=True)


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
    errors: list[BaseException] = []
    outcome: list[Any] = []

    def rematch() -> None:
        try:
            batch.match_run_start(actor=cast.partnership_admin)  # runs on commit, here
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def run_change() -> None:
        try:
            assert rebuilding.wait(timeout=10)
            outcome.append(change())
            changed.set()
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rematch), threading.Thread(target=run_change)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
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
