"""Background work of the person index."""

from __future__ import annotations

from django_tasks import task


@task()
def rematch_index(run_id: str) -> None:
    """Re-match a partnership's whole index, recording progress on its MatchRun."""
    from accord.people.index.batch import rematch

    rematch(run_id)
