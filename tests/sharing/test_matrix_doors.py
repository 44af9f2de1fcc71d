"""The cast matrix covers every door into person data.

A route whose view declares a person-data action (PERSON_DATA_ACTIONS) must be
listed in a matrix module's COVERED set, where it is called as every member of
the cast. A new endpoint with person data that is not in the matrix fails here.
"""

from __future__ import annotations

import pytest

from accord.core.declare import declared_action
from accord.partnership.permissions import PERSON_DATA_ACTIONS
from tests.sharing import test_matrix_api, test_matrix_dpo, test_matrix_web
from tests.test_doors import ROUTES

COVERED = test_matrix_web.COVERED | test_matrix_api.COVERED | test_matrix_dpo.COVERED


def _person_data_routes() -> list[str]:
    names = []
    for _route, name, callback in ROUTES:
        declared = declared_action(callback)
        actions = set(declared.values()) if isinstance(declared, dict) else {declared}
        if actions & PERSON_DATA_ACTIONS:
            names.append(name)
    return sorted(set(names))


PERSON_ROUTES = _person_data_routes()


def test_there_are_person_data_routes():
    assert len(PERSON_ROUTES) >= 10


@pytest.mark.parametrize("name", PERSON_ROUTES)
def test_every_person_data_route_is_in_the_cast_matrix(name):
    assert name in COVERED, f"{name} returns person data but is not in the cast matrix"


def test_the_matrix_names_only_real_routes():
    assert set(PERSON_ROUTES) >= COVERED
