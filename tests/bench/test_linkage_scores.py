"""The linkage benchmark's scoring, and its scores at other link thresholds.

`score` is what every row of bench/RESULTS.md's linkage tables rests on; the sweep
(FEBRL only in a full run) scores Accord and Splink again at SWEEP_THRESHOLDS after the
clock, from the same child process.
"""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

from bench import linkage
from bench.linkage import data, matchers
from bench.linkage.data import Dataset


def _dataset() -> Dataset:
    frame = pd.DataFrame({"record_id": ["a", "b", "c", "d"], "person": ["1", "1", "1", "2"]})
    return Dataset("tiny", "tiny", "dedupe_only", frame, {("a", "b"), ("a", "c"), ("b", "c")})


def test_score_counts_pairs_against_the_truth():
    run = linkage.Run("accord", "tiny", "ok")
    linkage.score(run, _dataset(), {("a", "b"), ("c", "d")}, None)

    assert (run.predicted, run.true_positives) == (2, 1)
    assert run.precision == 0.5
    assert run.recall == pytest.approx(1 / 3)
    assert run.f1 == pytest.approx(0.4)


def test_sweep_scores_each_threshold_beside_the_main_one():
    dataset = _dataset()
    run = linkage.Run("splink", "tiny", "ok")
    linkage.score(run, dataset, {("a", "b")}, None)

    linkage.sweep_scores(
        run, dataset, {0.5: {("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")}}, None
    )

    assert list(run.by_threshold) == [0.5, matchers.SPLINK_CLUSTER_THRESHOLD]
    assert run.by_threshold[0.5] == (0.75, 1.0, pytest.approx(6 / 7))
    assert run.by_threshold[matchers.SPLINK_CLUSTER_THRESHOLD][0] == 1.0
    assert run.diagnostics[-1].startswith("F1 by link threshold: 0.5 → 0.8571 (precision 0.7500")


def test_the_child_scores_accord_at_each_threshold_after_the_clock(tmp_path, monkeypatch):
    monkeypatch.setattr(matchers, "EXTRAS", {})
    monkeypatch.setattr(matchers, "AFTER", [])
    monkeypatch.setattr(matchers, "SWEEP", [False])
    dataset = data.synthetic("tiny", "tiny", 400, seed=data.SYNTHETIC_SEED, heavy=False)
    path = data.write_input(dataset, tmp_path)
    out = tmp_path / "out.pickle"

    matchers.child("accord_alone", str(path), "dedupe_only", str(out), True)

    outcome = pickle.loads(out.read_bytes())
    assert "error" not in outcome, outcome.get("error")
    by_threshold = outcome["extras"]["pairs_by_threshold"]
    assert sorted(by_threshold) == sorted(matchers.SWEEP_THRESHOLDS)
    # The model alone clusters by connected components, so a lower threshold keeps
    # every pair of a higher one; the main run linked at 0.99.
    assert by_threshold[0.5] >= by_threshold[0.9] >= outcome["pairs"] >= by_threshold[0.999]
    assert by_threshold[0.5] > by_threshold[0.999]
