"""The online scorer is Splink's prediction: batch and online never disagree.

The stored model (CURRENT_VERSION) predicts over fictional records with Splink on DuckDB;
for a sample of the predicted pairs, the Python scorer, given the same term
frequencies, must give the same match weight and probability to 1e-6. A pair in
every level of every comparison is in the sample, so no level escapes the check.
"""

from __future__ import annotations

import itertools
import math
import random
import uuid
from collections import defaultdict

import pytest

from accord.people.index import synthetic
from accord.people.index.batch import features_frame, predict
from accord.people.index.candidates import keys_of
from accord.people.index.features import FEATURE_COLUMNS
from accord.people.index.model import BLOCKING_RULES, COMPARISONS, TF_COLUMNS, load_model
from accord.people.index.scorer import score

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def predicted():
    records = synthetic.generate(3000, seed=11, household_heavy=True)
    frame = features_frame(records)
    model = load_model()
    settings = {**model.settings, "retain_intermediate_calculation_columns": True}
    predictions = predict(frame, settings, threshold=0.0).as_pandas_dataframe()
    by_id = {
        row["unique_id"]: {c: (None if row[c] != row[c] else row[c]) for c in FEATURE_COLUMNS}
        for row in frame.to_dict("records")
    }
    frequencies = {}
    for column in TF_COLUMNS:
        present = frame[column].dropna()
        frequencies[column] = (present.value_counts() / len(present)).to_dict()
    return model, predictions, by_id, frequencies


def _check(model, row, by_id, frequencies):
    left, right = by_id[row["unique_id_l"]], by_id[row["unique_id_r"]]
    result = score(model, left, right, lambda column, value: frequencies[column].get(value))
    assert math.isclose(result.match_weight, row["match_weight"], abs_tol=1e-6)
    assert math.isclose(result.match_probability, row["match_probability"], abs_tol=1e-6)
    return result


def test_the_online_score_equals_splinks_prediction_on_a_sample_of_pairs(predicted):
    model, predictions, by_id, frequencies = predicted
    rows = predictions.to_dict("records")
    assert len(rows) > 2000
    for row in random.Random(3).sample(rows, 2000):
        _check(model, row, by_id, frequencies)


def test_every_level_seen_in_the_predictions_is_scored_as_splink_scores_it(predicted):
    """One pair per (comparison, level) Splink produced, each checked."""
    model, predictions, by_id, frequencies = predicted
    seen: dict[tuple[str, int], dict] = {}
    for row in predictions.to_dict("records"):
        left, right = by_id[row["unique_id_l"]], by_id[row["unique_id_r"]]
        result = score(model, left, right, lambda c, v: frequencies[c].get(v))
        for comparison, position in zip(COMPARISONS, result.positions, strict=True):
            seen.setdefault((comparison.name, position), row)
    for row in seen.values():
        _check(model, row, by_id, frequencies)
    # Most levels occur in fictional household-heavy data; the rare ones (a swap of
    # given and family name, say) are in the larger sample above or not at all.
    assert len(seen) >= sum(len(c.levels) for c in COMPARISONS) * 0.7


def test_each_comparisons_contribution_equals_splinks_weight_for_it(predicted):
    """The review queue shows each comparison's weight; it is Splink's, term-frequency
    adjustment included, comparison by comparison."""
    model, predictions, by_id, frequencies = predicted
    for row in predictions.sample(500, random_state=5).to_dict("records"):
        left, right = by_id[row["unique_id_l"]], by_id[row["unique_id_r"]]
        result = score(model, left, right, lambda c, v: frequencies[c].get(v))
        for contribution in result.contributions:
            splink = row[f"mw_{contribution.comparison}"]
            splink += row.get(f"mw_tf_adj_{contribution.comparison}", 0.0)
            assert math.isclose(contribution.weight, splink, abs_tol=1e-6), contribution


def test_the_candidate_index_finds_exactly_the_pairs_splinks_blocking_compares(predicted):
    """Online, an identity's candidates are those sharing one of its block keys where a
    rule holds; Splink's prediction (at probability 0) is every pair its blocking rules
    compare. The two sets of pairs are the same, so nothing batch compares is out of
    the online matcher's sight, and the other way round."""
    _, predictions, by_id, _ = predicted
    splink = {
        frozenset((row["unique_id_l"], row["unique_id_r"]))
        for row in predictions[["unique_id_l", "unique_id_r"]].to_dict("records")
    }
    partnership = uuid.UUID(int=7)
    sharing: dict[int, list[str]] = defaultdict(list)
    for unique_id, features in by_id.items():
        for key in keys_of(partnership, features):
            sharing[key].append(unique_id)
    online = set()
    for ids in sharing.values():
        for a, b in itertools.combinations(ids, 2):
            left, right = by_id[a], by_id[b]
            held = [rule.holds(left, right) for rule in BLOCKING_RULES]
            assert held == [rule.holds(right, left) for rule in BLOCKING_RULES]  # symmetric
            if any(held):
                online.add(frozenset((a, b)))
    assert online == splink
    # Transposed names are in the data, and some pairs only a crossed rule compares.
    crossed = [rule for rule in BLOCKING_RULES if rule.crossed]
    only_crossed = [
        p
        for p in online
        if not any(r.holds(*(by_id[i] for i in p)) for r in BLOCKING_RULES if not r.crossed)
    ]
    assert crossed and only_crossed
