"""The linkage benchmark's scoring, and its scores at other link thresholds.

`score` is what every row of bench/RESULTS.md's linkage tables rests on; the sweep
(FEBRL only in a full run) scores Accord and Splink again at SWEEP_THRESHOLDS after the
clock, from the same child process.
"""

from __future__ import annotations

import datetime
import pickle

import pandas as pd
import pytest

from bench import linkage
from bench.linkage import data, matchers
from bench.linkage.ceiling import Ceiling, safeguard_ceiling
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


def _febrl_like(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    """Records of one surname, birthday and address: (id, person, given name, police id)."""
    return data._frame(
        [
            {
                "record_id": record_id,
                "person": person,
                "household": None,
                "agency": "x",
                "given_names": given,
                "family_name": "Quillfeather",
                "date_of_birth": datetime.date(1990, 5, 17),
                "gender": "not_known",
                "phone": "",
                "email": "",
                "nhs_number": "",
                "police_id": police_id,
                "address_line": "12 Lantern Row",
                "postcode": "ZZ9 9ZZ",
            }
            for record_id, person, given, police_id in rows
        ]
    )


def test_the_ceiling_counts_the_true_pairs_the_safeguard_forbids():
    frame = _febrl_like(
        [
            ("a0", "a", "Marigold", "4431563"),
            ("a1", "a", "Marigold", "9020997"),  # same name and birthday: allowed
            ("b0", "b", "Juniper", "5752105"),
            ("b1", "b", "Tamsin", "5752105"),  # another name, the same identifier: allowed
            ("c0", "c", "Odile", "6494659"),
            ("c1", "c", "Bryony", "6494629"),  # another name, an identifier a typo apart
            ("d0", "d", "Perpetua", "2283023"),
            ("d1", "d", "Sorrel", "7916610"),  # another name, another identifier
            ("e0", "e", "Wren", "3631759"),
            ("e1", "e", "Clemency", ""),  # another name, no identifier to tell
        ]
    )
    truth = {(f"{p}0", f"{p}1") for p in "abcde"}
    ceiling = safeguard_ceiling(Dataset("tiny", "tiny", "dedupe_only", frame, truth))

    assert (ceiling.true_pairs, ceiling.forbidden, ceiling.forbidden_near) == (5, 3, 2)
    assert ceiling.recall() == pytest.approx(2 / 5)
    assert ceiling.f1() == pytest.approx(2 * 0.4 / 1.4)
    assert ceiling.f1(near=True) == pytest.approx(2 * 0.6 / 1.6)


def test_the_report_gives_the_ceiling_beside_the_febrl_target():
    info = linkage.DatasetInfo(
        "febrl3", "FEBRL3", "dedupe_only", 5, 3, 100, 0, 0.0, Ceiling(100, 10, 4)
    )
    run = linkage.Run("accord", "febrl3", "ok", f1=0.9)
    result = linkage.Result([info], [run], linkage.Online("unavailable"), None, {}, 1.0)

    target = next(t for t in linkage.targets(result) if "FEBRL3" in t[0])
    assert target == (
        "Accord F1 ≥ 0.994 on FEBRL3",
        f"0.9000 (at most {2 * 0.9 / 1.9:.4f} under the safeguard)",
        "no",
    )
    assert linkage.ceiling_note(info).startswith(
        "The safeguard's ceiling: 10 of the 100 true pairs disagree on given name and date "
        "of birth with no identifier in common"
    )
    assert "one typo apart to count as in common, 4 pairs, F1 at most 0.9796" in (
        linkage.ceiling_note(info)
    )
