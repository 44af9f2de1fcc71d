"""Background work of the person index."""

from __future__ import annotations

from django_tasks import task


@task()
def rematch_index(run_id: str) -> None:
    """Re-match a partnership's whole index, recording progress on its MatchRun."""
    from accord.people.index.batch import rematch

    rematch(run_id)


@task()
def match_again(identity_id: str, actor_kind: str, actor_id: str) -> None:
    """Match an identity again after a candidate was committed alongside it."""
    from accord.people.index.online import match_again as again

    again(identity_id, actor_kind, actor_id)
