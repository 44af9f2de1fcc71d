"""Matching many identities at once with Splink, and the background re-match.

`link_records` is the batch matcher on its own, for records outside the database
(the benchmark): derive features, train the model on the records (u by random
sampling, m by expectation maximisation), predict with Splink over the blocking
rules, and cluster. `match_run_start` re-matches a partnership's whole index in the
background with the stored model, recording progress on a `MatchRun`.

Clustering is Accord's own, because connected components over pairwise links is
where a household chains into one person: pairs are taken strongest first, and two
clusters join only under the safeguards (`safeguards.py`): the pair is linkable and
no member of one conflicts with a member of the other, nor has been judged a
different person. The same safeguards decide online links.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from accord.people.index.features import FEATURE_COLUMNS, Features, derive
from accord.people.index.model import Model, model_from_settings, train
from accord.people.index.safeguards import conflicting, linkable

if TYPE_CHECKING:
    from accord.people.models import MatchRun

log = logging.getLogger(__name__)

BENCH_SECRET = b"accord-batch-records"


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
                if conflicting(fx, self.features[y]) or self.different(x, y):
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
        if linkable(features[left], features[right]):
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


# --- The background re-match of a partnership's whole index ----------------------

CHUNK = 2000


def match_run_start(*, actor: Any) -> Any:
    """Queue a re-match of the actor's partnership's whole index; progress is kept on
    the returned MatchRun, which the person-index settings page shows."""
    from django.db import transaction

    from accord.audit.models import AuditAction
    from accord.audit.services import audit_record
    from accord.core.errors import require
    from accord.partnership.models import User
    from accord.partnership.permissions import Action
    from accord.people.index.model import CURRENT_VERSION
    from accord.people.index.tasks import rematch_index
    from accord.people.models import MatchRun, MatchRunStatus

    require(actor, Action.PERSON_INDEX_MANAGE)
    with transaction.atomic():
        running = MatchRun.objects.filter(
            partnership_id=actor.partnership_id,
            status__in=[MatchRunStatus.QUEUED, MatchRunStatus.RUNNING],
        ).first()
        if running is not None:
            return running
        run = MatchRun.objects.create(
            partnership_id=actor.partnership_id,
            requested_by=actor if isinstance(actor, User) else None,
            model_version=CURRENT_VERSION,
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            object_type="match_run",
            object_id=run.id,
            changed_fields=["status"],
        )
        transaction.on_commit(lambda: rematch_index.enqueue(str(run.id)))
    return run


def _progress(run: MatchRun, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(run, name, value)
    run.save(update_fields=list(fields))


def rematch(run_id: uuid.UUID | str) -> None:
    """Re-derive every identity's features, rebuild the candidate index and term
    counts, score all blocked pairs with Splink, and act on each pair as the online
    matcher would (link under the safeguards, or review). Failures are recorded on
    the run, never half-applied per pair."""
    from django.utils import timezone

    from accord.people.models import MatchRun, MatchRunStatus

    run = MatchRun.objects.get(pk=run_id)
    _progress(run, status=MatchRunStatus.RUNNING, stage="Reading identities")
    try:
        _rematch(run)
    except Exception as error:
        log.exception("Re-match %s failed", run.id)
        _progress(
            run,
            status=MatchRunStatus.FAILED,
            error=f"{type(error).__name__}: the re-match stopped; see the server log.",
            finished_at=timezone.now(),
        )
        return
    _progress(run, status=MatchRunStatus.DONE, stage="Finished", finished_at=timezone.now())


def _rematch(run: MatchRun) -> None:
    import pandas as pd
    from django.db import transaction

    from accord.people.index import candidates as index
    from accord.people.index.model import TF_COLUMNS, load_model
    from accord.people.index.online import decide_pair, index_secret, raw_from_identity, thresholds
    from accord.people.index.scorer import score
    from accord.people.models import BlockKey, Identity, MatchFeatures, MatchRun, TermCount

    model = load_model(run.model_version)
    partnership_id = run.partnership_id
    identities = Identity.objects.filter(partnership_id=partnership_id).order_by("id")
    _progress(run, total=identities.count(), done=0, stage="Deriving features")
    secret = index_secret()
    counts: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    with transaction.atomic():
        BlockKey.objects.filter(identity__partnership_id=partnership_id).delete()
        TermCount.objects.filter(partnership_id=partnership_id).delete()
        done = 0
        ids = list(identities.values_list("id", flat=True))
        for start in range(0, len(ids), CHUNK):
            chunk = list(Identity.objects.filter(id__in=ids[start : start + CHUNK]))
            stored: list[MatchFeatures] = []
            keys: list[BlockKey] = []
            for identity in chunk:
                features, problems = derive(raw_from_identity(identity), premise_secret=secret)
                stored.append(
                    MatchFeatures(
                        identity=identity,
                        partnership_id=partnership_id,
                        values=features,
                        problems=problems,
                        has_problems=bool(problems),
                    )
                )
                keys.extend(
                    BlockKey(key=key, identity_id=identity.id)
                    for key in index.keys_of(partnership_id, features)
                )
                for column in TF_COLUMNS:
                    if (value := features.get(column)) is not None:
                        counts[(column, value)] = counts.get((column, value), 0) + 1
                        counts[(column, index.TOTAL)] = counts.get((column, index.TOTAL), 0) + 1
                rows.append({"unique_id": str(identity.id), **features})
            MatchFeatures.objects.bulk_create(
                stored,
                update_conflicts=True,
                unique_fields=["identity"],
                update_fields=["values", "problems", "has_problems"],
            )
            BlockKey.objects.bulk_create(keys)
            done += len(chunk)
            MatchRun.objects.filter(pk=run.pk).update(done=done)
        TermCount.objects.bulk_create(
            TermCount(partnership_id=partnership_id, column=c, value=v, count=n)
            for (c, v), n in counts.items()
        )
    if len(rows) < 2:
        return
    _progress(run, stage="Scoring pairs")
    frame = pd.DataFrame(rows, columns=["unique_id", *FEATURE_COLUMNS])
    limits = thresholds(partnership_id)
    predictions = _predict_with_counts(frame, model, counts, threshold=limits.review_at)
    by_id = {row["unique_id"]: row for row in rows}
    ordered = predictions.sort_values("match_weight", ascending=False)
    _progress(run, stage="Linking and queueing for review", pairs_scored=len(ordered))
    links = reviews = 0
    for left, right in zip(ordered["unique_id_l"], ordered["unique_id_r"], strict=True):
        tf = index.frequencies(partnership_id, [by_id[left], by_id[right]], model)
        result = score(model, by_id[left], by_id[right], _lookup(tf))
        with transaction.atomic():
            action = decide_pair(
                uuid.UUID(left),
                uuid.UUID(right),
                result,
                model=model,
                limits=limits,
                actor=run.requested_by,
            )
        links += action == "linked"
        reviews += action == "review"
    _progress(run, links=links, reviews=reviews)


def _lookup(tf: dict[tuple[str, str], float]) -> Callable[[str, str], float | None]:
    return lambda column, value: tf.get((column, value))


def _predict_with_counts(
    frame: Any, model: Model, counts: dict[tuple[str, str], int], *, threshold: float
) -> Any:
    """Splink's prediction with the index's (shrunk) term frequencies registered."""
    import pandas as pd
    from splink import DuckDBAPI, Linker

    from accord.people.index import candidates as index
    from accord.people.index.model import TF_COLUMNS

    db_api = DuckDBAPI()
    linker = Linker(db_api.register(frame), model.settings, log_level="WARNING")
    for column in TF_COLUMNS:
        total = counts.get((column, index.TOTAL), 0)
        lookup = pd.DataFrame(
            [
                {column: value, f"tf_{column}": index.shrunk(n, total, model.u_exact(column))}
                for (c, value), n in counts.items()
                if c == column and value != index.TOTAL
            ],
            columns=[column, f"tf_{column}"],
        )
        linker.table_management.register_term_frequency_lookup(db_api.register(lookup), column)
    return linker.inference.predict(threshold_match_probability=threshold).as_pandas_dataframe()
