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

from accord.people.index.features import (
    FEATURE_COLUMNS,
    RAW_FIELDS,
    Features,
    derive,
    derive_coded,
    derive_columns,
)
from accord.people.index.model import (
    COMPARISONS,
    Model,
    dl1_sql,
    duckdb_api,
    model_from_settings,
    train,
)
from accord.people.index.safeguards import (
    AGREEING_LEVELS,
    IDENTIFIERS,
    LEFT,
    RIGHT,
    VAGUE_LEVELS,
    ambiguous,
    conflicting,
    linkable,
    vague_sides,
)

if TYPE_CHECKING:
    from accord.people.models import MatchRun

log = logging.getLogger(__name__)

BENCH_SECRET = b"accord-batch-records"
# Random pairs for u when a batch trains on its own records: enough for every level
# the model weighs (the artefact's training uses more, once), and a fixed cost.
BATCH_U_PAIRS = 2e6
SAFEGUARD_COLUMNS = ("given", "given_key", "family", "dob", "dob_swap", "nhs_number", "police_id")


class Clusters:
    """Union-find over records, with the household safeguard on every union.

    `features` gives each record's features (at least SAFEGUARD_COLUMNS); records are
    any hashable keys. With `safeguard=False` every union is made: that is the model
    alone, for measuring what the safeguard costs and saves; the index never does it.
    """

    def __init__(
        self,
        features: Mapping[Any, Features],
        different: Callable[[Any, Any], bool] = lambda a, b: False,
        *,
        safeguard: bool = True,
    ) -> None:
        self.features = features
        self.different = different
        self.safeguard = safeguard
        self.parent: dict[Any, Any] = {}
        self.members: dict[Any, list[Any]] = {}

    def find(self, item: Any) -> Any:
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

    def try_join(self, a: Any, b: Any, *, linkable_pair: bool = False) -> bool:
        """Join a's cluster and b's, unless a member of one conflicts with one of the
        other. `linkable_pair`: a and b are known to be linkable, so two records on
        their own need no check (a linkable pair never conflicts)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        side_a, side_b = self.members[ra], self.members[rb]
        alone = linkable_pair and len(side_a) == 1 and len(side_b) == 1
        if alone and self.different(a, b):
            return False
        if self.safeguard and not alone:
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

    def pairs(self, name: Callable[[Any], str] = str) -> set[tuple[str, str]]:
        """Every pair of records in one cluster, by name, lower name first."""
        out: set[tuple[str, str]] = set()
        for members in self.members.values():
            ordered = sorted(name(member) for member in members)
            for i, a in enumerate(ordered):
                for b in ordered[i + 1 :]:
                    out.add((a, b))
        return out


Coded = Mapping[str, tuple[Any, list[str | None]]]  # column -> (codes by row, value by code)


class _Rows(Mapping[int, Features]):
    """Records' features by row number, read from coded columns (`features_arrow`),
    each dict made when first asked for."""

    def __init__(self, coded: Coded) -> None:
        self.coded = coded
        self.made: dict[int, Features] = {}

    def __getitem__(self, row: int) -> Features:
        found = self.made.get(row)
        if found is None:
            found = self.made[row] = {
                column: values[codes[row]] for column, (codes, values) in self.coded.items()
            }
        return found

    def __iter__(self) -> Any:
        return iter(range(len(self)))

    def __len__(self) -> int:
        codes, _ = next(iter(self.coded.values()))
        return len(codes)


def _raw_columns(
    records: Iterable[Mapping[str, Any]], id_key: str
) -> tuple[list[str], dict[str, list[Any]]]:
    ids: list[str] = []
    raw: dict[str, list[Any]] = {field: [] for field in RAW_FIELDS}
    appends = [(field, raw[field].append) for field in RAW_FIELDS]
    for record in records:
        ids.append(str(record[id_key]))
        for field, append in appends:
            append(record.get(field))
    return ids, raw


def features_frame(records: Iterable[Mapping[str, Any]], *, id_key: str = "record_id") -> Any:
    """Derive every record's features into a pandas frame with `unique_id`."""
    import pandas as pd

    ids, raw = _raw_columns(records, id_key)
    columns = derive_columns(raw, premise_secret=BENCH_SECRET)
    return pd.DataFrame({"unique_id": ids, **columns}, columns=["unique_id", *FEATURE_COLUMNS])


def features_arrow(
    raw: Mapping[str, Any], *, premise_secret: bytes, keep: Iterable[str] = ()
) -> tuple[Any, dict[str, tuple[Any, list[str | None]]]]:
    """Derive the features straight into an Arrow table (`unique_id` the row number),
    one column at a time, so that no column is ever a list of a million Python values:
    what DuckDB reads without copying. The columns in `keep` are also returned coded
    (codes by row, value by code), to be read row by row (`_Rows`)."""
    import numpy as np
    import pyarrow as pa

    kept = set(keep)
    arrays: dict[str, Any] = {}
    coded: dict[str, tuple[Any, list[str | None]]] = {}
    rows = 0
    for name, codes, values in derive_coded(raw, premise_secret=premise_secret):
        arrays[name] = pa.array(values, pa.string()).take(pa.array(codes))
        if name in kept:
            coded[name] = (codes.astype(np.int32), values)
        rows = len(codes)
    table = pa.table(
        {
            "unique_id": pa.array(np.arange(rows, dtype=np.int64)),
            **{column: arrays.pop(column) for column in FEATURE_COLUMNS},
        }
    )
    return table, coded


def predict(frame: Any, model_settings: dict[str, Any], *, threshold: float) -> Any:
    """Splink's predictions over the blocking rules, at or above a probability."""
    from splink import Linker

    db_api = duckdb_api()
    table = db_api.register(frame)
    linker = Linker(table, model_settings, log_level="WARNING")
    return linker.inference.predict(threshold_match_probability=threshold)


def cluster_pairs(
    ordered: Iterable[tuple[Any, Any, float]] | Iterable[tuple[Any, Any, float, bool]],
    features: Mapping[Any, Features],
    *,
    link_at: float,
    safeguard: bool = True,
) -> Clusters:
    """Join records pair by pair, strongest first, while the probability reaches
    `link_at`: a pair joins when it is linkable and its clusters do not conflict.

    A pair may carry a fourth item, whether it is linkable, worked out from Splink's
    comparison levels (`linkable_gammas`) so that the features are only read where
    a cluster of more than one record must be checked.
    """
    clusters = Clusters(features, safeguard=safeguard)
    find = clusters.find
    for left, right, probability, *known in ordered:
        if probability < link_at:
            break
        if find(left) == find(right):
            continue
        if not safeguard:
            clusters.try_join(left, right)
        elif known[0] if known else linkable(features[left], features[right]):
            clusters.try_join(left, right, linkable_pair=True)
    return clusters


def linkable_sql() -> str:
    """`safeguards.linkable` in SQL, over a pair's columns (`given_l`, `given_r`, ...)."""
    levels = next(c for c in COMPARISONS if c.name == "given_name_and_birth").levels
    contradicts = _contradicts_sql()
    agreeing = " OR ".join(
        f"({levels[position].sql})"
        + (f" AND NOT ({contradicts})" if position in VAGUE_LEVELS else "")
        for position in sorted(AGREEING_LEVELS)
    )
    earlier = " OR ".join(
        f"({level.sql})" for position, level in enumerate(levels) if position < min(AGREEING_LEVELS)
    )
    identifier = " OR ".join(f"{name}_l = {name}_r" for name in IDENTIFIERS)
    # The first level that holds is the pair's: an agreeing level counts only when
    # no earlier level holds.
    return f"COALESCE((NOT ({earlier}) AND ({agreeing})) OR {identifier}, FALSE)"


def _contradicts_sql() -> str:
    """`safeguards.identifier_contradicts` in SQL."""
    return " OR ".join(
        f"COALESCE(NOT {dl1_sql(f'{name}_l', f'{name}_r')}, FALSE)" for name in IDENTIFIERS
    )


def vague_sql() -> str:
    """`safeguards.vague_sides` in SQL: levels taken in order as Splink takes them (a
    level whose test is NULL does not hold)."""
    levels = next(c for c in COMPARISONS if c.name == "given_name_and_birth").levels
    identifier = " OR ".join(f"{name}_l = {name}_r" for name in IDENTIFIERS)
    cases = [f"WHEN {identifier} THEN 0", f"WHEN {_contradicts_sql()} THEN 0"]
    for position, level in enumerate(levels[: max(VAGUE_LEVELS) + 1]):
        column = VAGUE_LEVELS.get(position)
        then = (
            f"CAST({column}_l IS NULL AS INTEGER) * {LEFT}"
            f" + CAST({column}_r IS NULL AS INTEGER) * {RIGHT}"
            if column
            else "0"
        )
        cases.append(f"WHEN {level.sql} THEN {then}")
    return f"CASE {' '.join(cases)} ELSE 0 END"


def without_ambiguous(
    left: Any,
    right: Any,
    probability: Any,
    pair_linkable: Any,
    pair_vague: Any,
    features: Mapping[Any, Features],
    *,
    link_at: float,
) -> Any:
    """`pair_linkable` (a numpy array) with the ambiguous pairs (`safeguards.ambiguous`)
    turned off. Only the pairs touching a record that lacks a field are looked at, so
    the work is small beside the clustering."""
    import numpy as np

    linked = pair_linkable & (probability >= link_at)
    vague_rows = np.flatnonzero(linked & (pair_vague != 0))
    if not len(vague_rows):
        return pair_linkable
    sides = pair_vague[vague_rows]
    lacking = np.union1d(
        left[vague_rows[(sides & LEFT) != 0]], right[vague_rows[(sides & RIGHT) != 0]]
    )
    touching = np.flatnonzero(linked & (np.isin(left, lacking) | np.isin(right, lacking)))
    row_of = {
        (a, b): row
        for a, b, row in zip(
            left[touching].tolist(), right[touching].tolist(), touching.tolist(), strict=True
        )
    }
    refused = ambiguous(((a, b, int(pair_vague[row])) for (a, b), row in row_of.items()), features)
    if not refused:
        return pair_linkable
    kept = pair_linkable.copy()
    kept[[row_of[key] for key in refused]] = False
    return kept


LINKABLE_COLUMNS = ("given", "given_key", "family", "dob", "dob_swap", *IDENTIFIERS)


def link_records(
    records: Iterable[Mapping[str, Any]],
    *,
    link_at: float = 0.99,
    id_key: str = "record_id",
    seed: int = 1,
    safeguard: bool = True,
) -> set[tuple[str, str]]:
    """Accord's batch matcher on records outside the database: the same-person pairs.

    Trains the model on the records themselves (as a partnership trains on its own
    index), predicts with Splink on DuckDB and clusters with the household safeguard
    (`safeguard=False`: the model alone, see `Clusters`). Records are read once into
    columns; each distinct raw value is derived once, straight into Arrow, which DuckDB
    reads; the safeguard's columns are also kept coded for the clustering.
    """
    ids, raw = _raw_columns(records, id_key)
    table, kept = features_arrow(raw, premise_secret=BENCH_SECRET, keep=SAFEGUARD_COLUMNS)
    del raw
    artefact = train(
        table,
        version="batch",
        description="the records linked",
        seed=seed,
        u_max_pairs=BATCH_U_PAIRS,
    )
    model = model_from_settings(artefact["splink_settings"], version="batch", description={})
    left, right, probability, pair_linkable, pair_vague = _predicted(
        table, model.settings, threshold=link_at
    )
    del table
    rows = _Rows(kept)
    if safeguard:
        pair_linkable = without_ambiguous(
            left, right, probability, pair_linkable, pair_vague, rows, link_at=link_at
        )
    clusters = cluster_pairs(
        _chunked(left, right, probability, pair_linkable),
        rows,
        link_at=link_at,
        safeguard=safeguard,
    )
    return clusters.pairs(ids.__getitem__)


def _chunked(*arrays: Any, size: int = 100_000) -> Iterable[tuple[Any, ...]]:
    """The numpy arrays' rows as tuples of Python values, a chunk at a time (not a
    million Python numbers at once)."""
    for start in range(0, len(arrays[0]), size):
        yield from zip(*(array[start : start + size].tolist() for array in arrays), strict=True)


def _predicted(table: Any, model_settings: dict[str, Any], *, threshold: float) -> Any:
    """Splink's pairs at or above `threshold`, strongest first, as numpy arrays: the
    two records, the probability, whether the pair is linkable and its vague sides."""
    from splink import Linker

    db_api = duckdb_api()
    registered = db_api.register(table)
    linker = Linker(registered, model_settings, log_level="WARNING")
    found = linker.inference.predict(threshold_match_probability=threshold)
    sides = ", ".join(
        f"l.{column} AS {column}_l, r.{column} AS {column}_r" for column in LINKABLE_COLUMNS
    )
    features = registered.physical_name
    relation = found.as_duckdbpyrelation().query(
        "p",
        "SELECT unique_id_l, unique_id_r, match_probability, "  # noqa: S608 (no input)
        f"{linkable_sql()} AS pair_linkable, {vague_sql()} AS pair_vague FROM ("
        f"SELECT p.unique_id_l, p.unique_id_r, p.match_probability, p.match_weight, {sides} "
        f"FROM p JOIN {features} AS l ON l.unique_id = p.unique_id_l "
        f"JOIN {features} AS r ON r.unique_id = p.unique_id_r) AS q "
        "ORDER BY match_weight DESC, unique_id_l, unique_id_r",
    )
    assert relation is not None  # a SELECT always gives a relation
    arrays = relation.fetchnumpy()
    return (
        arrays["unique_id_l"],
        arrays["unique_id_r"],
        arrays["match_probability"],
        arrays["pair_linkable"],
        arrays["pair_vague"],
    )


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
    from django.utils import timezone

    from accord.people.index import candidates as index
    from accord.people.index.model import TF_COLUMNS, load_model
    from accord.people.index.online import (
        decide_pair,
        index_secret,
        pair,
        raw_from_identity,
        thresholds,
    )
    from accord.people.index.scorer import score
    from accord.people.models import BlockKey, Identity, MatchFeatures, MatchRun, TermCount

    model = load_model(run.model_version)
    partnership_id = run.partnership_id
    started = timezone.now()
    identities = Identity.objects.filter(partnership_id=partnership_id).order_by("id")
    _progress(run, total=identities.count(), done=0, stage="Deriving features")
    secret = index_secret()
    counts: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    with transaction.atomic():
        index.lock_writers(partnership_id)
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
    pairs = list(zip(ordered["unique_id_l"], ordered["unique_id_r"], strict=True))

    def frequency(column: str, value: str) -> float | None:
        """The term frequencies this run wrote (and Splink predicted with)."""
        total = counts.get((column, index.TOTAL), 0)
        return index.shrunk(counts.get((column, value), 0), total, model.u_exact(column))

    def scored(left: str, right: str) -> Any:
        return score(model, by_id[left], by_id[right], frequency)

    # Ambiguity judged on the score the pairs are decided with (the online path's),
    # keeping only the probabilities: a Score for every pair would not fit in memory
    # on a large index, so each is scored again as it is decided.
    refused = ambiguous(
        (
            (left, right, vague_sides(by_id[left], by_id[right]))
            for left, right in pairs
            if linkable(by_id[left], by_id[right])
            and scored(left, right).match_probability >= limits.link_at
        ),
        by_id,
    )
    links = reviews = 0
    reviewed: set[tuple[uuid.UUID, uuid.UUID]] = set()
    for left, right in pairs:
        result = scored(left, right)
        with transaction.atomic():
            index.lock_writers(partnership_id)  # decided on the persons as they are now
            action = decide_pair(
                uuid.UUID(left),
                uuid.UUID(right),
                result,
                model=model,
                limits=limits,
                actor=run.requested_by,
                ambiguous=(left, right) in refused,
            )
        links += action == "linked"
        reviews += action == "review"
        if action == "review":
            reviewed.add(pair(uuid.UUID(left), uuid.UUID(right)))
    seen = {uuid.UUID(identity_id) for identity_id in by_id}
    lapsed = _lapse_unlike(run, started, seen, reviewed)
    _progress(run, links=links, reviews=reviews, lapsed=lapsed)


def _lapse_unlike(
    run: MatchRun,
    started: Any,
    seen: set[uuid.UUID],
    reviewed: set[tuple[uuid.UUID, uuid.UUID]],
) -> int:
    """Lapse the partnership's open review items between two identities the run
    compared, last queued before it started, whose pair it did not send for review
    (under the thresholds now, or no longer compared). An item queued, rescored or
    reopened by an arrival while the run went on is left as it is, as is an item with
    an identity the run did not see, and an escalated item. How many lapsed."""
    from accord.people.models import ReviewItem, ReviewStatus

    waiting = ReviewItem.objects.filter(
        partnership_id=run.partnership_id, status=ReviewStatus.OPEN, queued_at__lt=started
    ).values_list("id", "identity_a_id", "identity_b_id")
    unlike = [pk for pk, a, b in waiting if a in seen and b in seen and (a, b) not in reviewed]
    lapsed = 0
    for first in range(0, len(unlike), CHUNK):
        lapsed += ReviewItem.objects.filter(
            pk__in=unlike[first : first + CHUNK],
            status=ReviewStatus.OPEN,
            queued_at__lt=started,
        ).update(status=ReviewStatus.LAPSED)
    return lapsed


def _predict_with_counts(
    frame: Any, model: Model, counts: dict[tuple[str, str], int], *, threshold: float
) -> Any:
    """Splink's prediction with the index's (shrunk) term frequencies registered."""
    import pandas as pd
    from splink import Linker

    from accord.people.index import candidates as index
    from accord.people.index.model import TF_COLUMNS

    db_api = duckdb_api()
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
