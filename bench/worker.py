"""The production task set-up, and a real background worker for the sealing-lag measurement.

Under `config.settings.test` tasks run inline (ImmediateBackend) and every commit asks
for sealing, so a measured write would include sealing its own event. Production
queues tasks in the database (`django_tasks_db`), asks for sealing at most once a
second per process, and seals in a separate worker process. `production_tasks()`
gives the benchmark process those two settings from `config.settings.base`, and
`python -m bench.worker` runs the worker itself (`manage.py db_worker`) with them.

This module imports nothing from Django at the top, so that it can be imported before
Django is set up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def production_tasks() -> Iterator[None]:
    """The task backend and sealing-request interval of production, for this process."""
    from django.test.utils import override_settings

    from config.settings import base

    with override_settings(
        TASKS=base.TASKS, AUDIT_SEAL_INTERVAL_SECONDS=base.AUDIT_SEAL_INTERVAL_SECONDS
    ):
        yield


def main() -> int:
    """Run `db_worker` as production does, until it is sent SIGTERM."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    import django

    django.setup()
    from django.core.management import call_command

    with production_tasks():
        # The worker's own defaults (poll every second when idle), without the random
        # start-up delay meant for fleets of workers.
        call_command("db_worker", startup_delay=False, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
