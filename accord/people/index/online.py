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

Identities created at the same moment in two transactions do not see each other;
the batch re-match (`batch`) finds such pairs.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from accord.people.index import candidates as index
from accord.people.index.features import Features, derive
from accord.people.index.model import Model, load_model
from accord.people.index.safeguards import conflicting, linkable
from accord.people.index.scorer import Score, score
from accord.people.models import (
    Address,
    Identity,
    IndexSettings,
    MatchFeatures,
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
    return features, problems


def pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """A pair of identities in stored order (lower id first)."""
    return (a, b) if str(a) < str(b) else (b, a)


@dataclass
class Outcome:
    action: str  # "linked", "review" or "new"
    person_id: uuid.UUID
    reviews: list[ReviewItem] = field(default_factory=list)
    best: Score | None = None


def _score_all(
    model: Model, features: Features, found: list[index.Candidate], partnership_id: uuid.UUID
) -> list[tuple[Score, index.Candidate]]:
    tf = index.frequencies(partnership_id, [features, *(c.features for c in found)], model)
    return [
        (score(model, features, c.features, lambda col, val: tf.get((col, val))), c) for c in found
    ]


def _judged_different(mine: set[uuid.UUID], theirs: set[uuid.UUID]) -> bool:
    across = Q(identity_a__in=mine, identity_b__in=theirs) | Q(
        identity_a__in=theirs, identity_b__in=mine
    )
    return PairJudgement.objects.filter(across, verdict=PairJudgement.Verdict.DIFFERENT).exists()


def _households_agree(side_a: list[Features], side_b: list[Features]) -> bool:
    """No identity of one person disagrees with one of the other on given name and
    date of birth (the safeguard that keeps a family from chaining into one)."""
    return not any(conflicting(left, right) for left in side_a for right in side_b)


def match_identity(identity: Identity, *, actor: Any, model: Model | None = None) -> Outcome:
    """Match a new or changed identity against the index and act on the result."""
    model = model or load_model()
    features, _ = refresh(identity)
    found = [
        c
        for c in index.candidates(identity.partnership_id, features, exclude=identity.id)
        if c.person_id != identity.person_id
    ]
    outcome = Outcome("new", identity.person_id)
    if not found:
        return outcome
    limits = thresholds(identity.partnership_id)
    best_by_person: dict[uuid.UUID, tuple[Score, index.Candidate]] = {}
    for result, candidate in _score_all(model, features, found, identity.partnership_id):
        held = best_by_person.get(candidate.person_id)
        if held is None or result.match_weight > held[0].match_weight:
            best_by_person[candidate.person_id] = (result, candidate)
    ranked = sorted(best_by_person.values(), key=lambda item: -item[0].match_weight)
    outcome.best = ranked[0][0]
    for result, candidate in ranked[:REVIEW_PERSONS_AT_MOST]:
        action = decide_pair(
            identity.id,
            candidate.identity_id,
            result,
            model=model,
            limits=limits,
            actor=actor,
            may_link=outcome.action != "linked",
        )
        if action == "linked":
            outcome.action = "linked"
            outcome.person_id = Identity.objects.get(pk=identity.id).person_id
        elif action == "review" and outcome.action == "new":
            outcome.action = "review"
    if outcome.action != "new":
        outcome.reviews = list(
            ReviewItem.objects.filter(
                Q(identity_a=identity.id) | Q(identity_b=identity.id), status=ReviewStatus.OPEN
            )
        )
    return outcome


def decide_pair(
    arriving: uuid.UUID,
    other: uuid.UUID,
    result: Score,
    *,
    model: Model,
    limits: IndexSettings,
    actor: Any,
    may_link: bool = True,
) -> str:
    """Act on one scored pair: "linked", "review", "judged" (a person already decided
    this pair), "same" (already one person), "different" (judged different people
    across the two persons) or "below" (under the review threshold).

    A link merges the arriving identity's person into the other's, automatically
    and undoably, only under the safeguards in this module's docstring.
    """
    from accord.people.index.merge import persons_merge

    if result.match_probability < limits.review_at:
        return "below"
    people = dict(Identity.objects.filter(id__in=[arriving, other]).values_list("id", "person_id"))
    mine, theirs = people[arriving], people[other]
    if mine == theirs:
        return "same"
    # Both persons' identities with their features, in one statement.
    members = Identity.objects.filter(person_id__in=[mine, theirs]).values_list(
        "id", "person_id", "match_features__values"
    )
    features_of: dict[uuid.UUID, Features] = {}
    sides: dict[uuid.UUID, set[uuid.UUID]] = {mine: set(), theirs: set()}
    for identity_id, person_id, values in members:
        sides[person_id].add(identity_id)
        if values is not None:
            features_of[identity_id] = values
    if _judged_different(sides[mine], sides[theirs]):
        return "different"
    if (
        may_link
        and result.match_probability >= limits.link_at
        and linkable(features_of[arriving], features_of[other])
        and _households_agree(
            [features_of[i] for i in sides[mine] if i in features_of],
            [features_of[i] for i in sides[theirs] if i in features_of],
        )
    ):
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
            )
        except ValidationError:
            # The merge refused (both on one MARAC agenda, say) and wrote nothing:
            # a person decides instead.
            pass
        else:
            return "linked"
    item = _review(arriving, other, result, model, partnership_id=limits.partnership_id)
    return "review" if item is not None else "judged"


def _review(
    one: uuid.UUID, other: uuid.UUID, result: Score, model: Model, *, partnership_id: uuid.UUID
) -> ReviewItem | None:
    """Put the pair in the review queue, unless it is already there or judged."""
    a, b = pair(one, other)
    if PairJudgement.objects.filter(identity_a=a, identity_b=b).exists():
        return None
    item, created = ReviewItem.objects.get_or_create(
        identity_a_id=a,
        identity_b_id=b,
        defaults=dict(
            partnership_id=partnership_id,
            match_probability=result.match_probability,
            match_weight=result.match_weight,
            contributions=[c.as_dict() for c in result.contributions],
            model_version=model.version,
        ),
    )
    if not created and item.status not in (ReviewStatus.OPEN, ReviewStatus.NOT_SURE):
        return None
    if not created:
        item.match_probability, item.match_weight = result.match_probability, result.match_weight
        item.contributions = [c.as_dict() for c in result.contributions]
        item.model_version = model.version
        item.save(
            update_fields=["match_probability", "match_weight", "contributions", "model_version"]
        )
    return item
