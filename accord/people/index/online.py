"""Matching an identity on arrival: a link, a review-queue item, or a person of its own.

`match_identity` runs inside the transaction that creates or changes the identity:
it derives the identity's features, stores them in the candidate index, retrieves
the candidates the blocking rules pair it with, scores each with the trained model
(`scorer.score`, equal to Splink's prediction), and then decides:

- at or above the partnership's `link_at`, it joins the best-scoring person, by an
  automatic merge that can be undone, but only when the safeguards hold
  (`safeguards.py`): the pair is linkable (given name and date of birth agree, or an
  NHS number or police identifier does), no identity of either person conflicts
  with one of the other (a mother and her daughter, twins), and no one has judged
  any pair across the two persons "different people";
- between `review_at` and `link_at`, or above `link_at` where a safeguard stops the
  link, the best pair with each such person goes to the review queue;
- below `review_at`, nothing: the identity stays a person of its own.

When a change to what the matcher compares is matched, the identity's open review items
with persons no pair of hers now reaches `review_at` with (or is compared with at all)
lapse; a lapsed item opens again, rescored, when the matcher queues the pair again.
Escalated items stay, and an address leaving what is compared lapses nothing
(`_may_lapse`).

Two identities of one woman created at the same moment in two transactions do not
see each other while they are matched. So after its transaction commits, each match
looks up its candidates once more (one indexed statement); if one has appeared that it
did not see, the identity is matched again in the background (`tasks.match_again`),
as the same actor. Of two such transactions the one that commits second always sees
the first, so the pair is never missed; the batch re-match (`batch`) remains for a
model or threshold change.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accord.people.index import candidates as index
from accord.people.index.features import Features, derive
from accord.people.index.model import COMPARISONS, Model, load_model
from accord.people.index.safeguards import (
    LEFT,
    RIGHT,
    ambiguous,
    conflicting,
    contradicted,
    linkable,
    names_and_dates_differ,
    vague_sides,
)
from accord.people.index.scorer import Score, score
from accord.people.models import (
    Address,
    Identity,
    IndexSettings,
    MatchFeatures,
    NotLinkedBecause,
    PairJudgement,
    ReviewItem,
    ReviewStatus,
)

REVIEW_PERSONS_AT_MOST = 5


def index_secret() -> bytes:
    """The key of the address hash, derived from the deployment's secret key.

    Changing SECRET_KEY changes every address hash: run a batch re-match after it.
    """
    return hashlib.blake2b(
        settings.SECRET_KEY.encode(), person=b"accord-index-v1", digest_size=32
    ).digest()


def raw_from_identity(identity: Identity) -> dict[str, Any]:
    """The identity's fields and its current address, unless that address is
    confidential: a refuge's postcode never reaches the matcher."""
    address = (
        Address.objects.filter(identity=identity, is_current=True, confidential=False)
        .order_by("-recorded_at")
        .first()
    )
    raw: dict[str, Any] = {
        name: getattr(identity, name)
        for name in (
            "given_names",
            "family_name",
            "date_of_birth",
            "gender",
            "phone",
            "email",
            "nhs_number",
            "police_id",
        )
    }
    raw["address_line"] = address.lines.splitlines()[0] if address and address.lines else ""
    raw["postcode"] = address.postcode if address else ""
    return raw


def thresholds(partnership_id: uuid.UUID) -> IndexSettings:
    found, _ = IndexSettings.objects.get_or_create(partnership_id=partnership_id)
    return found


def refresh(identity: Identity) -> tuple[Features, list[str]]:
    """Derive and store the identity's features, block keys and term counts."""
    features, problems, _ = _refreshed(identity)
    return features, problems


def _refreshed(identity: Identity) -> tuple[Features, list[str], Features | None]:
    """`refresh`, also returning the features stored before (None for a new identity).
    The caller took the index lock first in its transaction; taken again here (held
    already, it is granted at once) so that no writer goes without it."""
    index.lock_writers(identity.partnership_id)
    features, problems = derive(raw_from_identity(identity), premise_secret=index_secret())
    stored = MatchFeatures.objects.filter(identity=identity).first()
    previous = stored.values if stored else None
    if stored is None:
        MatchFeatures.objects.create(
            identity=identity,
            partnership_id=identity.partnership_id,
            values=features,
            problems=problems,
            has_problems=bool(problems),
        )
    else:
        stored.values, stored.problems = features, problems
        stored.has_problems, stored.updated_at = bool(problems), timezone.now()
        stored.save(update_fields=["values", "problems", "has_problems", "updated_at"])
    index.store(identity.partnership_id, identity.id, features, previous)
    return features, problems, previous


def pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """A pair of identities in stored order (lower id first)."""
    return (a, b) if str(a) < str(b) else (b, a)


@dataclass
class Outcome:
    action: str  # "linked", "review" or "new"
    person_id: uuid.UUID
    reviews: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # pairs queued
    # The persons whose best pair with her scored at or above the review threshold.
    alike_persons: set[uuid.UUID] = field(default_factory=set)
    best: Score | None = None


def _score_all(
    model: Model, features: Features, found: list[index.Candidate], partnership_id: uuid.UUID
) -> list[tuple[Score, index.Candidate]]:
    """Each candidate scored against her."""
    tf = index.frequencies(partnership_id, [features, *(c.features for c in found)], model)

    def lookup(column: str, value: str) -> float | None:
        return tf.get((column, value))

    return [(score(model, features, c.features, lookup), c) for c in found]


def _ambiguous(
    model: Model,
    identity_id: uuid.UUID,
    features: Features,
    scored: list[tuple[Score, index.Candidate]],
    own_person: list[index.Candidate],
    partnership_id: uuid.UUID,
    *,
    link_at: float,
) -> set[uuid.UUID]:
    """The candidates whose pair with her is ambiguous (`safeguards.ambiguous`), as the
    batch would find it: her pairs at or above the link threshold (with her own
    person's records where she lacks the field), and, for a candidate
    that lacks the field their pair rests on, its own pairs at or above it with its own
    candidates, which blocking may not have made hers (looked up and scored only then,
    which is rare)."""
    linked = [
        (identity_id, c.identity_id, vague_sides(features, c.features))
        for result, c in scored
        if result.match_probability >= link_at and linkable(features, c.features)
    ]
    if not any(sides for *_, sides in linked):
        return set()
    features_of = {identity_id: features, **{c.identity_id: c.features for _, c in scored}}
    if own_person and any(sides & LEFT for *_, sides in linked):
        # She lacks the field: her records in her own person are her partners too.
        for result, c in _score_all(model, features, own_person, partnership_id):
            if result.match_probability >= link_at and linkable(features, c.features):
                features_of[c.identity_id] = c.features
                linked.append((identity_id, c.identity_id, vague_sides(features, c.features)))
    for _, lacking, sides in list(linked):
        if not sides & RIGHT:
            continue
        own = features_of[lacking]
        theirs = [
            c
            for c in index.candidates(partnership_id, own, exclude=lacking)
            if c.identity_id != identity_id and linkable(own, c.features)
        ]
        for result, other in _score_all(model, own, theirs, partnership_id):
            if result.match_probability >= link_at:
                features_of[other.identity_id] = other.features
                linked.append((lacking, other.identity_id, vague_sides(own, other.features)))
    refused = ambiguous(linked, features_of)
    return {b for a, b in refused if a == identity_id}


def _households_agree(side_a: list[Features], side_b: list[Features]) -> bool:
    """No identity of one person disagrees with one of the other on given name and
    date of birth (the safeguard that keeps a family from chaining into one)."""
    return not any(conflicting(left, right) for left in side_a for right in side_b)


@dataclass
class _Around:
    """What deciding pairs needs to know about the persons in play, read in three
    statements however many pairs are decided: every identity of those persons with
    its features, and the judgements and review items between those identities. A
    merge made while deciding is applied here too (`joined`)."""

    person_of: dict[uuid.UUID, uuid.UUID]
    features_of: dict[uuid.UUID, Features]
    verdicts: dict[tuple[uuid.UUID, uuid.UUID], str]  # stored pair -> verdict
    statuses: dict[tuple[uuid.UUID, uuid.UUID], str]  # stored pair -> review item status

    @classmethod
    def read(cls, identity_ids: set[uuid.UUID]) -> _Around:
        persons = Identity.objects.filter(id__in=identity_ids).values("person_id")
        members = Identity.objects.filter(person_id__in=persons).values_list(
            "id", "person_id", "match_features__values"
        )
        person_of: dict[uuid.UUID, uuid.UUID] = {}
        features_of: dict[uuid.UUID, Features] = {}
        for identity_id, person_id, values in members:
            person_of[identity_id] = person_id
            if values is not None:
                features_of[identity_id] = values
        everyone = list(person_of)
        verdicts = {
            (a, b): verdict
            for a, b, verdict in PairJudgement.objects.filter(
                identity_a__in=everyone, identity_b__in=everyone
            ).values_list("identity_a", "identity_b", "verdict")
        }
        statuses = {
            (a, b): status
            for a, b, status in ReviewItem.objects.filter(
                identity_a__in=everyone, identity_b__in=everyone
            ).values_list("identity_a", "identity_b", "status")
        }
        return cls(person_of, features_of, verdicts, statuses)

    def members(self, person_id: uuid.UUID) -> list[uuid.UUID]:
        return [i for i, p in self.person_of.items() if p == person_id]

    def judged_different(self, one: uuid.UUID, other: uuid.UUID) -> bool:
        """Has anyone judged a pair across these two persons "different people"?"""
        return any(
            verdict == PairJudgement.Verdict.DIFFERENT
            and {self.person_of.get(a), self.person_of.get(b)} == {one, other}
            for (a, b), verdict in self.verdicts.items()
        )

    def households_agree(self, one: uuid.UUID, other: uuid.UUID) -> bool:
        def side(person_id: uuid.UUID) -> list[Features]:
            return [self.features_of[i] for i in self.members(person_id) if i in self.features_of]

        return _households_agree(side(one), side(other))

    def reviewable(self, a: uuid.UUID, b: uuid.UUID) -> bool:
        """May the pair go to (or stay in) the review queue: nobody judged it, and its
        item, if it has one, is still open or escalated?"""
        key = pair(a, b)
        status = self.statuses.get(key)
        return key not in self.verdicts and status in (
            None,
            ReviewStatus.OPEN,
            ReviewStatus.NOT_SURE,
            ReviewStatus.LAPSED,
        )

    def joined(self, merged: uuid.UUID, survivor: uuid.UUID) -> None:
        for identity_id, person_id in self.person_of.items():
            if person_id == merged:
                self.person_of[identity_id] = survivor


def match_identity(identity: Identity, *, actor: Any, model: Model | None = None) -> Outcome:
    """Match a new or changed identity against the index and act on the result.

    Where what the matcher compares of her changed, her open review items with persons
    none of whose pairs with her now reaches the review threshold lapse (`_lapse`).
    """
    model = model or load_model()
    features, _, previous = _refreshed(identity)
    outcome = _match(identity, features, model=model, actor=actor)
    if previous is not None and _may_lapse(previous, features):
        _lapse(identity.id, keep=outcome.alike_persons)
    return outcome


# The features the address comparisons read: what a confidential address takes away.
ADDRESS_FEATURES = frozenset(
    column for c in COMPARISONS if c.name in ("postcode", "address") for column in c.columns
)


def _may_lapse(previous: Features, features: Features) -> bool:
    """Did what the matcher compares change, other than an address leaving it?

    Nothing compared changed (a local reference edited, a match run again after
    commit): nothing lapses. An address that only leaves what is compared lapses
    nothing either: a confidential address never reaches the matcher, so a refuge
    address added takes the postcode away, and a pair lapsing then would tell the other
    agency's reviewer that something happened to her address."""
    changed = {column for column in features if features[column] != previous.get(column)}
    return any(column not in ADDRESS_FEATURES or features[column] is not None for column in changed)


def _lapse(identity_id: uuid.UUID, *, keep: set[uuid.UUID]) -> None:
    """Lapse, in one statement, the identity's open review items with identities of
    persons other than those in `keep` (the persons whose best pair with her scored at or
    above the review threshold in this match, queued or not: beyond the five most
    alike, or not queued because a person judged them). An escalated item stays: a
    person asked for it to be decided."""
    ReviewItem.objects.filter(
        (Q(identity_a_id=identity_id) & ~Q(identity_b__person_id__in=keep))
        | (Q(identity_b_id=identity_id) & ~Q(identity_a__person_id__in=keep)),
        status=ReviewStatus.OPEN,
    ).update(status=ReviewStatus.LAPSED)


def _match(identity: Identity, features: Features, *, model: Model, actor: Any) -> Outcome:
    everyone = index.candidates(identity.partnership_id, features, exclude=identity.id)
    _recheck_after_commit(identity, features, {c.identity_id for c in everyone}, actor)
    found = [c for c in everyone if c.person_id != identity.person_id]
    outcome = Outcome("new", identity.person_id)
    if not found:
        return outcome
    limits = thresholds(identity.partnership_id)
    scored = _score_all(model, features, found, identity.partnership_id)
    own_person = [c for c in everyone if c.person_id == identity.person_id]
    refused = _ambiguous(
        model,
        identity.id,
        features,
        scored,
        own_person,
        identity.partnership_id,
        link_at=limits.link_at,
    )
    # Each person's best pair with her, a pair the safeguards would let link before one
    # they would not; persons with such a pair first. A household's members score high
    # on what they share with her but never link: they must not crowd her own records
    # out of the persons decided.
    best_by_person: dict[uuid.UUID, tuple[bool, Score, index.Candidate]] = {}
    for result, candidate in scored:
        plausible = linkable(features, candidate.features)
        held = best_by_person.get(candidate.person_id)
        if held is None or (plausible, result.match_weight) > (held[0], held[1].match_weight):
            best_by_person[candidate.person_id] = (plausible, result, candidate)
    ranked = sorted(best_by_person.values(), key=lambda item: (not item[0], -item[1].match_weight))
    outcome.best = max((result for result, _ in scored), key=lambda result: result.match_weight)
    outcome.alike_persons = {
        candidate.person_id
        for result, candidate in scored
        if result.match_probability >= limits.review_at
    }
    worth = [
        (result, candidate)
        for _, result, candidate in ranked[:REVIEW_PERSONS_AT_MOST]
        if result.match_probability >= limits.review_at
    ]
    if not worth:
        return outcome
    around = _Around.read({identity.id, *(candidate.identity_id for _, candidate in worth)})
    queued: list[tuple[uuid.UUID, uuid.UUID, Score, str]] = []
    for result, candidate in worth:
        action, because = _decide(
            around,
            identity.id,
            candidate.identity_id,
            result,
            model=model,
            limits=limits,
            actor=actor,
            may_link=outcome.action != "linked",
            ambiguous=candidate.identity_id in refused,
        )
        if action == "linked":
            outcome.action = "linked"
            outcome.person_id = around.person_of[identity.id]
        elif action == "review":
            queued.append((identity.id, candidate.identity_id, result, because))
            if outcome.action == "new":
                outcome.action = "review"
    _queue(queued, model, partnership_id=identity.partnership_id, around=around)
    outcome.reviews = [pair(a, b) for a, b, _, _ in queued]
    return outcome


def _recheck_after_commit(
    identity: Identity, features: Features, seen: set[uuid.UUID], actor: Any
) -> None:
    """After the transaction commits, look for candidates committed meanwhile by
    another transaction, which this match could not see; if there are any, match the
    identity again in the background."""
    partnership_id, identity_id = identity.partnership_id, identity.id
    kind, actor_id = getattr(actor, "actor_kind", ""), getattr(actor, "id", None)

    def check() -> None:
        from accord.people.index.tasks import match_again

        now = index.candidates(partnership_id, features, exclude=identity_id)
        if {c.identity_id for c in now} - seen and actor_id is not None:
            match_again.enqueue(str(identity_id), kind, str(actor_id))

    transaction.on_commit(check, robust=True)


def match_again(identity_id: str, actor_kind: str, actor_id: str) -> Outcome | None:
    """Match an identity again, as the actor whose act first matched it (a user, or an
    agency system's key), in a transaction of its own: what `_recheck_after_commit`
    queues. Nothing if the identity or the actor is gone (the batch re-match remains)."""
    from accord.partnership.models import User

    actor: Any
    if actor_kind == "api_key":
        from accord.api.models import ApiKey, ApiKeyActor

        key = ApiKey.objects.select_related("agency").filter(pk=actor_id).first()
        actor = ApiKeyActor(key) if key is not None else None
    else:
        actor = User.objects.filter(pk=actor_id).first()
    with transaction.atomic():
        partnership_id = (
            Identity.objects.filter(pk=identity_id).values_list("partnership_id", flat=True).first()
        )
        if partnership_id is not None:
            index.lock_writers(partnership_id)  # before the row lock
        identity = Identity.objects.select_for_update().filter(pk=identity_id).first()
        if identity is None or actor is None:
            return None
        return match_identity(identity, actor=actor)


def decide_pair(
    arriving: uuid.UUID,
    other: uuid.UUID,
    result: Score,
    *,
    model: Model,
    limits: IndexSettings,
    actor: Any,
    may_link: bool = True,
    ambiguous: bool = False,
) -> str:
    """Act on one scored pair: "linked", "review", "judged" (a person already decided
    this pair), "same" (already one person), "different" (judged different people
    across the two persons) or "below" (under the review threshold).

    A link merges the arriving identity's person into the other's, automatically
    and undoably, only under the safeguards in this module's docstring. `ambiguous`:
    the pair is ambiguous (`safeguards.ambiguous`), which only the caller, seeing the
    identities' other pairs, can tell.
    """
    if result.match_probability < limits.review_at:
        return "below"
    around = _Around.read({arriving, other})
    action, because = _decide(
        around,
        arriving,
        other,
        result,
        model=model,
        limits=limits,
        actor=actor,
        may_link=may_link,
        ambiguous=ambiguous,
    )
    if action == "review":
        _queue(
            [(arriving, other, result, because)],
            model,
            partnership_id=limits.partnership_id,
            around=around,
        )
    return action


def _decide(
    around: _Around,
    arriving: uuid.UUID,
    other: uuid.UUID,
    result: Score,
    *,
    model: Model,
    limits: IndexSettings,
    actor: Any,
    may_link: bool,
    ambiguous: bool = False,
) -> tuple[str, str]:
    """`decide_pair`'s decision on what `around` holds, and for a review why the pair
    was not joined (a `NotLinkedBecause` value); a review is left to the caller to queue
    (`_queue`), so that one statement writes every review of an arrival."""
    from accord.people.index.merge import household_refusal, persons_merge

    if result.match_probability < limits.review_at:
        return "below", ""
    mine, theirs = around.person_of[arriving], around.person_of[other]
    if mine == theirs:
        return "same", ""
    if around.judged_different(mine, theirs):
        return "different", ""
    # A failed safeguard is named before "the arrival linked elsewhere", so that the
    # reviewer of a second person above the threshold is told of the safeguard.
    one, two = around.features_of[arriving], around.features_of[other]
    if result.match_probability < limits.link_at:
        because = NotLinkedBecause.BELOW
    elif not linkable(one, two):
        because = NotLinkedBecause.IDENTIFIERS if contradicted(one, two) else NotLinkedBecause.PAIR
    elif not around.households_agree(mine, theirs):
        because = NotLinkedBecause.HOUSEHOLD
    elif ambiguous:
        because = NotLinkedBecause.AMBIGUOUS
    elif not may_link:
        because = NotLinkedBecause.ANOTHER_LINK
    else:
        try:
            persons_merge(
                actor=actor,
                survivor_id=theirs,
                merged_id=mine,
                reason=(
                    f"Matched automatically (model {model.version}, "
                    f"probability {result.match_probability:.6f})."
                ),
                automatic=True,
                pair=(arriving, other),
            )
        except ValidationError as error:
            # The merge refused and wrote nothing: a person decides instead. Either the
            # persons are not as `around` read them (only for a caller that read before
            # taking the index lock), or the merge has its own reason (both on one MARAC
            # agenda, say).
            household = household_refusal(error)
            because = NotLinkedBecause.HOUSEHOLD if household else NotLinkedBecause.MERGE_REFUSED
        else:
            around.joined(mine, theirs)
            return "linked", ""
    return ("review", because) if around.reviewable(arriving, other) else ("judged", "")


def _queue(
    pairs: list[tuple[uuid.UUID, uuid.UUID, Score, str]],
    model: Model,
    *,
    partnership_id: uuid.UUID,
    around: _Around,
) -> None:
    """Put the pairs (each with why it was not linked) in the review queue in one statement:
    a new item each, or the pair's open (or escalated) item rescored. A lapsed item is
    rescored and opened again (one statement more, only then). Callers pass only
    reviewable pairs."""
    if not pairs:
        return
    items = []
    now = timezone.now()
    for one, other, result, because in pairs:
        a, b = pair(one, other)
        items.append(
            ReviewItem(
                identity_a_id=a,
                identity_b_id=b,
                partnership_id=partnership_id,
                match_probability=result.match_probability,
                match_weight=result.match_weight,
                contributions=[c.as_dict() for c in result.contributions],
                model_version=model.version,
                not_linked_because=because,
                names_and_dates_differ=names_and_dates_differ(
                    around.features_of[one], around.features_of[other]
                ),
                queued_at=now,
            )
        )
    ReviewItem.objects.bulk_create(
        items,
        update_conflicts=True,
        unique_fields=["identity_a", "identity_b"],
        update_fields=[
            "match_probability",
            "match_weight",
            "contributions",
            "model_version",
            "not_linked_because",
            "names_and_dates_differ",
            "queued_at",
        ],
    )
    lapsed = [
        key
        for key in (pair(one, other) for one, other, _, _ in pairs)
        if around.statuses.get(key) == ReviewStatus.LAPSED
    ]
    if lapsed:
        reopened = Q()
        for a, b in lapsed:
            reopened |= Q(identity_a_id=a, identity_b_id=b)
        ReviewItem.objects.filter(reopened, status=ReviewStatus.LAPSED).update(
            status=ReviewStatus.OPEN
        )
