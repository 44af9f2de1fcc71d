"""Training the model: its sessions, what the artefact keeps, and what the stored model
learnt of transposed names."""

from __future__ import annotations

import pytest

from accord.people.index import synthetic
from accord.people.index.batch import features_frame
from accord.people.index.model import (
    BLOCKING_RULES,
    COMPARISONS,
    EM_IDENTIFIER_RULE,
    load_model,
    model_from_settings,
    prediction_blocking,
    train,
)

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def frame():
    return features_frame(synthetic.generate(1500, seed=21))


def test_the_nhs_number_session_runs_only_where_enough_pairs_share_one(frame):
    few = train(frame, version="t", description="fictional", u_max_pairs=2e5)
    assert f"(not on {EM_IDENTIFIER_RULE}: about" in few["training_data"]["m"]
    enough = train(
        frame, version="t", description="fictional", u_max_pairs=2e5, identifier_pairs_at_least=1
    )
    assert enough["training_data"]["m"].endswith(f"; {EM_IDENTIFIER_RULE}")
    assert few["splink_settings"] != enough["splink_settings"]  # it taught m something


def test_the_artefact_keeps_no_blocking_rules_and_a_model_predicts_over_the_codes(frame):
    artefact = train(frame, version="t", description="fictional", u_max_pairs=2e5)
    assert "blocking_rules_to_generate_predictions" not in artefact["splink_settings"]
    model = model_from_settings(artefact["splink_settings"], version="t", description={})
    rules = model.settings["blocking_rules_to_generate_predictions"]
    assert rules == prediction_blocking()
    # A crossed rule is two equality joins; every other rule one.
    assert len(rules) == len(BLOCKING_RULES) + sum(rule.crossed for rule in BLOCKING_RULES)


def test_the_stored_model_counts_transposed_names_for_a_match_not_against_it():
    """Before the NHS-number session, EM never saw a transposition among matches and
    gave it a weight of -4: a record with the names the other way round counted as
    less like her than one with another family name altogether."""
    model = load_model()
    family = [c.name for c in COMPARISONS].index("family_name")
    weights = {level.label: level.weight for level in model.levels[family]}
    assert weights["Given and family names swapped"] > 3
    assert weights["Given and family names swapped"] > weights["All other"] + 6
