"""Matching many identities at once with Splink, and the background re-match.

`link_records` is the batch matcher on its own, for records outside the database
(the benchmark): derive features, train the model on the records (u by random
sampling, m by expectation maximisation), predict with Splink over the blocking
rules, and cluster. `match_run_start` re-matches a partnership's whole index in the
background with the stored model, recording progress on a `MatchRun`.

Clustering is Accord's own, because connected components over pairwise links is
where a household chains into one person: pairs are taken strongest first, and two
clusters join only when the pair's given name and date of birth agree (a linkable
level) and no member of one disagrees with a member of the other on them, nor has
been judged a different person. The same safeguards decide online links.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from accord.people.index.features import FEATURE_COLUMNS, Features, derive
from accord.people.index.model import COMPARISONS, Model, model_from_settings, train

log = logging.getLogger(__name__)

BIRTH_NAME = [c.name for c in COMPARISONS].index("given_name_and_birth")
LINKABLE = frozenset({1, 2, 3, 4})
CONFLICTING = frozenset({6, 7, 8, 9})
BENCH_SECRET = b"accord-batch-records"


def birth_name_position(left: Features, right: Features) -> int:
    """The given-name-and-birth level a pair falls in (its position in the list)."""
    levels = COMPARISONS[BIRTH_NAME].levels
    return next(i for i, level in enumerate(levels) if level.test(left, right))


class Clusters:
    """Union-find over record ids, with the household safeguard on every union."""

    def __init__(
        self,
        features: Mapping[str, Features],
        different: Callable[[str, str], bool] = lambda a, b: False,
    ) -> None:
        self.features = features
        self.different = different
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}

    def find(self, item: str) -> str:
        parent = self.parent
        if item not in parent:
            parent[item] = item
            self.members[item] = [item]
            return item
        root = item
        while parent[root] != root:
            root = parent[root]
        while parent[item] != root:
            parent[item], item = root, parent[item]
        return root

    def try_join(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        side_a, side_b = self.members[ra], self.members[rb]
        for x in side_a:
            fx = self.features[x]
            for y in side_b:
                if birth_name_position(fx, self.features[y]) in CONFLICTING or self.different(x, y):
                    return False
        if len(side_a) < len(side_b):
            ra, rb, side_a, side_b = rb, ra, side_b, side_a
        self.parent[rb] = ra
        side_a.extend(side_b)
        del self.members[rb]
        return True

    def pairs(self) -> set[tuple[str, str]]:
        out: set[tuple[str, str]] = set()
        for members in self.members.values():
            ordered = sorted(members)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    out.add((a, b))
        return out


def features_frame(records: Iterable[Mapping[str, Any]], *, id_key: str = "record_id") -> Any:
    """Derive every record's features into a pandas frame with `unique_id`."""
    import pandas as pd

    rows = []
    for record in records:
        features, _ = derive(record, premise_secret=BENCH_SECRET)
        features["unique_id"] = str(record[id_key])
        rows.append(features)
    return pd.DataFrame(rows, columns=["unique_id", *FEATURE_COLUMNS])


def predict(frame: Any, model_settings: dict[str, Any], *, threshold: float) -> Any:
    """Splink's predictions over the blocking rules, at or above a probability."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI()
    table = db_api.register(frame)
    linker = Linker(table, model_settings, log_level="WARNING")
    return linker.inference.predict(threshold_match_probability=threshold)


def cluster_predictions(
    predictions: Any, features: Mapping[str, Features], *, link_at: float
) -> Clusters:
    """Join records strongest pair first, under the household safeguard."""
    clusters = Clusters(features)
    ordered = predictions.sort_values("match_weight", ascending=False)
    for left, right, probability in zip(
        ordered["unique_id_l"], ordered["unique_id_r"], ordered["match_probability"], strict=True
    ):
        if probability < link_at:
            break
        if birth_name_position(features[left], features[right]) in LINKABLE:
            clusters.try_join(left, right)
    return clusters


def link_records(
    records: Iterable[Mapping[str, Any]],
    *,
    link_at: float = 0.99,
    id_key: str = "record_id",
    seed: int = 1,
) -> set[tuple[str, str]]:
    """Accord's batch matcher on records outside the database: the same-person pairs.

    Trains the model on the records themselves (as a partnership trains on its own
    index), predicts with Splink and clusters with the household safeguard.
    """
    frame = features_frame(records, id_key=id_key)
    artefact = train(frame, version="batch", description="the records linked", seed=seed)
    model = model_from_settings(artefact["splink_settings"], version="batch", description={})
    predictions = predict(frame, model.settings, threshold=link_at).as_pandas_dataframe()
    by_id: dict[str, Features] = {
        row["unique_id"]: {column: _none(row[column]) for column in FEATURE_COLUMNS}
        for row in frame.to_dict("records")
    }
    return cluster_predictions(predictions, by_id, link_at=link_at).pairs()


def _none(value: Any) -> Any:
    return None if value is None or value != value else value  # NaN is not equal to itself


__all__ = [
    "Clusters",
    "Model",
    "birth_name_position",
    "cluster_predictions",
    "features_frame",
    "link_records",
    "predict",
]
_ = uuid  # re-exported types are used by the background re-match below
