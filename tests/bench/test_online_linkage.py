"""The linkage benchmark's online measurement runs the real online path on a small index.

`bench.linkage.online.online_benchmark` loads synthetic records into the person index
(COPY, secondary indexes dropped and rebuilt, VACUUM ANALYZE, which cannot run inside
a test's transaction: hence `transaction=True`) and times `match_identity` for the
held-out records, each in a transaction it rolls back.
"""

from __future__ import annotations

import pytest

from accord.people.models import BlockKey, Identity, MatchFeatures, Merge, Person, ReviewItem
from bench.linkage import data
from bench.linkage.online import PARTNERSHIP, online_benchmark

pytestmark = pytest.mark.django_db(transaction=True)


def test_arrivals_are_matched_against_the_loaded_index_and_rolled_back():
    dataset = data.synthetic("tiny", "tiny", 300, seed=data.SYNTHETIC_SEED, heavy=False)
    records = data.as_records(dataset.frame.drop(columns=list(data.TRUTH)))
    messages: list[str] = []

    measured = online_benchmark(records, sample=40, splink_sample=3, warmup=5, log=messages.append)

    assert measured["samples"] == 40
    # The sample holds people the index already knows and people it does not.
    assert measured["linked"] > 0
    assert measured["new"] > 0
    assert measured["linked"] + measured["review"] + measured["new"] == 40
    assert 0 < measured["p50_ms"] <= measured["p99_ms"] <= measured["max_ms"]
    assert measured["new_p50_ms"] > 0 and measured["linked_p50_ms"] > 0
    assert measured["candidates_mean"] > 0
    assert measured["queries_mean"] > 5  # the real path: features, keys, counts, candidates
    assert 0 < measured["services_p50_ms"] <= measured["services_p99_ms"]
    # Splink's blocking finds exactly the online path's candidates, and scores them alike.
    assert measured["splink_same_candidates"] == "3 of 3 arrivals"
    equal, _, pairs, _ = measured["splink_same_weights"].split()
    assert equal == pairs
    assert 0 < measured["splink_predict_p50_ms"] <= measured["splink_predict_p99_ms"]
    assert measured["database"].startswith("PostgreSQL")

    # The index is as loaded: every arrival was rolled back, with its merge or review.
    index = len(records) - 45
    assert measured["index_identities"] == index
    assert Identity.objects.filter(partnership__name=PARTNERSHIP).count() == index
    assert Person.objects.filter(partnership__name=PARTNERSHIP).count() == index
    assert MatchFeatures.objects.count() == index
    assert BlockKey.objects.count() == measured["block_keys"]
    assert not Merge.objects.exists()
    assert not ReviewItem.objects.exists()
    assert any("secondary indexes rebuilt" in message for message in messages)
