"""The person index's review queue, and the other reads and writes its pages need.

Who reviews: an agency's single point of contact (SPOC) and the MARAC coordinator
(`PERSON_INDEX_REVIEW`), for the pairs in which their own agency holds an identity.
A pair marked "not sure" is escalated: it stays in the queue of both agencies'
reviewers, marked, until one of them decides it.

What a reviewer sees of each side is the access policy's answer, exactly as on the
person page: the identity's details only where the policy lets the reviewer see that
identity, its current addresses as the policy allows (a confidential address only to
those named for it, "address withheld" to whoever would otherwise see it), and
otherwise "held by <agency>". Reads of another agency's identity or address are
audited with their basis, and a side or address withheld as a refusal, in the same
statement as the page's other reads; if the audit write fails, the page fails.

What the matcher found by comparing the two records is content of both: "date of birth:
exact match" tells whoever sees one record the other's date of birth. So where the
reviewer may not see one side, the pair's comparisons, why it was not joined, and
whether it waits apart as how a household looks are not shown either: only the agency,
the match probability and the status (`ReviewView.comparisons_withheld`,
`QueueEntry.withheld`, `_both_seen`). The comparisons are withheld too where the
reviewer sees both identities but not a current address of one (it is compared). A
merge a "same person" verdict asks for and that is refused is explained only to a
reviewer who may see both identities (`MERGE_REFUSED_WITHHELD`).

Decisions are remembered per pair (`PairJudgement`): "same person" merges the two
persons (through `merge.persons_merge`, undoable), "different people" is never linked
automatically again and refuses a merge that would join them. The reviewer's reason is
kept encrypted; the audit log records only that a reason was given.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import dateformat, timezone

from accord.audit.models import AuditAction
from accord.audit.services import audit_record
from accord.core.errors import NotFound, require
from accord.core.ids import NO_ID, uuid_or_none
from accord.partnership.models import Agency
from accord.partnership.permissions import Action
from accord.people.index.candidates import lock_writers
from accord.people.index.features import describe
from accord.people.index.merge import persons_merge
from accord.people.index.scorer import Score
from accord.people.models import (
    Address,
    Identity,
    IndexSettings,
    MatchFeatures,
    MatchRun,
    Merge,
    PairJudgement,
    Person,
    ReviewItem,
    ReviewStatus,
)
from accord.sharing import policy
from accord.sharing.flags import FLAG_REASON
from accord.sharing.reads import PersonReading, Read, record_reads_by_person
from accord.sharing.vocabulary import Basis

PER_PAGE = 50
WAITING = (ReviewStatus.OPEN, ReviewStatus.NOT_SURE)
# The queue's views: what is waiting (escalated included), the open pairs whose given
# name and date of birth both differ (how a household looks; their score counts what a
# household shares, so they would crowd the top of the queue), the escalated, decided.
QUEUE_STATUSES: dict[str, Q] = {
    "waiting": Q(status=ReviewStatus.OPEN, names_and_dates_differ=False)
    | Q(status=ReviewStatus.NOT_SURE),
    "differ": Q(status=ReviewStatus.OPEN, names_and_dates_differ=True),
    "escalated": Q(status=ReviewStatus.NOT_SURE),
    "decided": Q(
        status__in=(
            ReviewStatus.SAME,
            ReviewStatus.DIFFERENT,
            ReviewStatus.WITHDRAWN,
            ReviewStatus.LAPSED,
        )
    ),
}
VERDICTS = ("same", "different", "not_sure")

Errors = dict[str, list[str]]


def _both_seen(actor: Any) -> Q:
    """The items both of whose identities the policy lets the actor see (one correlated
    check per identity, as the policy's list filter runs it)."""

    def seen(column: str) -> Exists:
        return Exists(policy.visible(actor, Identity.objects.filter(pk=OuterRef(column))))

    return Q(seen("identity_a_id")) & Q(seen("identity_b_id"))


def _in_view(actor: Any, status: str) -> Q:
    """The items of one of the queue's views, for this actor: an open pair whose given
    name and date of birth differ waits apart only where the actor sees both records,
    since which view holds it would otherwise tell what the hidden one records."""
    household = Q(status=ReviewStatus.OPEN, names_and_dates_differ=True)
    if status == "waiting":
        return QUEUE_STATUSES[status] | (household & ~_both_seen(actor))
    if status == "differ":
        return household & _both_seen(actor)
    return QUEUE_STATUSES[status]


def _items_for(actor: Any) -> QuerySet[ReviewItem]:
    """The review items of the actor's partnership in which its agency holds a side."""
    return ReviewItem.objects.filter(partnership_id=actor.partnership_id).filter(
        Q(identity_a__agency_id=actor.agency_id) | Q(identity_b__agency_id=actor.agency_id)
    )


# --- The queue --------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSide:
    """One side of a pair in the queue: its agency, and its name where the policy allows."""

    agency: Agency
    own: bool
    name: str | None


@dataclass(frozen=True)
class QueueEntry:
    item: ReviewItem
    a: QueueSide
    b: QueueSide

    @property
    def escalated(self) -> bool:
        return self.item.status == ReviewStatus.NOT_SURE

    @property
    def withheld(self) -> bool:
        """The actor may not see one side: nothing its comparison found is shown."""
        return self.a.name is None or self.b.name is None

    @property
    def sides(self) -> tuple[QueueSide, QueueSide]:
        return (self.a, self.b)


@dataclass(frozen=True)
class Queue:
    status: str
    entries: list[QueueEntry]
    page: Page[Any]


def review_queue(*, actor: Any, status: str = "waiting", page: Any = 1) -> Queue:
    """The pairs touching the actor's agency, most likely matches first, a page at a time.

    `status` is one of QUEUE_STATUSES ("waiting", the default, includes the escalated
    but not the open pairs whose given name and date of birth differ: "differ").
    Names are shown only where the policy lets the actor see the identity; each other
    agency's identity named is an audited read (as in a search). A pair with a side the
    actor may not see is never in "differ" (`_in_view`).
    """
    require(actor, Action.PERSON_INDEX_REVIEW)
    if status not in QUEUE_STATUSES:
        raise ValidationError({"status": ["Choose waiting, differ, escalated or decided."]})
    items = (
        _items_for(actor)
        .filter(_in_view(actor, status))
        .select_related("identity_a__agency", "identity_b__agency")
        .order_by("-match_probability", "created_at", "id")
    )
    found = Paginator(items, PER_PAGE).get_page(page)
    page_items: list[ReviewItem] = list(found.object_list)
    identities = [i for item in page_items for i in (item.identity_a, item.identity_b)]
    shown = policy.visible(actor, Identity.objects.filter(id__in={i.id for i in identities}))
    seen = {i.id: i.access_basis for i in shown.only("id").order_by()}  # type: ignore[attr-defined]
    reads: dict[uuid.UUID | None, list[Read]] = {}
    for identity in {i.id: i for i in identities}.values():
        if identity.id in seen:
            reads.setdefault(identity.person_id, []).append(
                Read("identity", identity.id, identity.agency_id, True, seen[identity.id])
            )
    with transaction.atomic():
        record_reads_by_person(actor=actor, reads=reads)

    def side(identity: Identity) -> QueueSide:
        name = (identity.full_name or "Name not recorded") if identity.id in seen else None
        return QueueSide(identity.agency, identity.agency_id == actor.agency_id, name)

    entries = [QueueEntry(i, side(i.identity_a), side(i.identity_b)) for i in page_items]
    return Queue(status, entries, found)


def review_count_waiting(*, actor: Any) -> int:
    """How many pairs touching the actor's agency wait for a decision (not counting
    those whose given name and date of birth differ, where the actor sees both)."""
    return _items_for(actor).filter(_in_view(actor, "waiting")).count()


# --- One pair, side by side -------------------------------------------------------------


@dataclass(frozen=True)
class Detail:
    label: str
    value: str


@dataclass(frozen=True)
class AddressShown:
    """A current address as the policy allows: its text, or withheld."""

    lines: str
    postcode: str
    withheld: bool
    confidential: bool


@dataclass(frozen=True)
class Side:
    """One identity of the pair, as far as the actor may see it."""

    identity_id: uuid.UUID
    agency: Agency
    own: bool
    visible: bool
    basis: str = ""
    # The person it belongs to, for a link: only where the identity is visible.
    person_id: uuid.UUID | None = None
    details: tuple[Detail, ...] = ()
    addresses: tuple[AddressShown, ...] = ()
    # Addresses held that the actor may not see at all (flag only).
    addresses_not_shared: bool = False
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Contribution:
    """What one comparison added to (or took from) the match weight."""

    title: str
    label: str
    weight: float


@dataclass(frozen=True)
class ReviewView:
    item: ReviewItem
    a: Side
    b: Side
    contributions: tuple[Contribution, ...]
    # The model's starting weight: how likely any two identities are the same person.
    prior_weight: float
    # The reason given for the last decision or escalation, shown only to its agency:
    # staff may write there what their own agency knows.
    reason: str = ""
    # The reason given for escalating it ("not sure"), shown only to that agency, kept
    # when another reviewer then decides.
    escalation_reason: str = ""
    # The score shown: the item's own, or, for a waiting pair whose records (or the
    # model) changed since it was queued, the pair scored again now.
    match_weight: float = 0.0
    match_probability: float = 0.0
    # When scored again: the probability the item holds (queued or last rescored with).
    queued_probability: float | None = None
    # The actor may not see one side, or a current address of one that the matcher
    # compares: the comparisons (and anything resting on them) are not shown, since they
    # tell what that side records.
    comparisons_withheld: bool = False

    @property
    def escalated(self) -> bool:
        return self.item.status == ReviewStatus.NOT_SURE

    @property
    def waiting(self) -> bool:
        return self.item.status in WAITING

    @property
    def sides(self) -> tuple[Side, Side]:
        return (self.a, self.b)


def _date(value: Any) -> str:
    return dateformat.format(value, "j F Y") if value else "Not recorded"


def _details(identity: Identity) -> tuple[Detail, ...]:
    def shown(value: str) -> str:
        return value or "Not recorded"

    return (
        Detail("Name", shown(identity.full_name)),
        Detail("Other names", shown(identity.other_names)),
        Detail("Date of birth", _date(identity.date_of_birth)),
        Detail("Gender", str(identity.get_gender_display())),
        Detail("Phone", shown(identity.phone)),
        Detail("Email", shown(identity.email)),
        Detail("NHS number", shown(identity.nhs_number)),
        Detail("Police reference", shown(identity.police_id)),
    )


def _flag(identity: Identity) -> Read:
    """The refusal audited when only the identity's agency is shown ("flag, not content")."""
    return Read("agency", identity.agency_id, identity.agency_id, False, reason=FLAG_REASON)


def _side(actor: Any, identity: Identity) -> Side:
    """The identity as the policy lets the actor see it, its reads and refusals audited
    exactly as the person page audits them (one reading of its person)."""
    own = identity.agency_id == actor.agency_id
    with PersonReading(actor=actor, person_id=identity.person_id) as reading:
        access = policy.check(actor, identity, grants=reading.grants)
        if not access.visible:
            # Flag, not content: the actor learns only that the agency holds an identity.
            reading.add([_flag(identity)])
            return Side(identity.id, identity.agency, own, False)
        reading.add([Read("identity", identity.id, identity.agency_id, True, access.basis)])
        addresses = Address.objects.filter(identity=identity, is_current=True).order_by(
            "-recorded_at"
        )
        shown: list[AddressShown] = []
        flagged = False
        for address in addresses:
            seen = policy.check(actor, address, grants=reading.grants)
            if seen.visible:
                postcode = address.postcode or address.postcode_sealed
                shown.append(AddressShown(address.lines, postcode, False, address.confidential))
                reading.add([Read("address", address.id, address.agency_id, True, seen.basis)])
            elif seen.withheld:
                shown.append(AddressShown("", "", True, True))
                reading.add([Read("address", address.id, address.agency_id, False)])
            else:
                flagged = True
        if flagged:
            reading.add([_flag(identity)])
    features = MatchFeatures.objects.filter(identity=identity).only("problems").first()
    problems = tuple(p.message for p in describe(features.problems)) if features else ()
    return Side(
        identity.id,
        identity.agency,
        own,
        True,
        access.basis,
        identity.person_id,
        _details(identity),
        tuple(shown),
        flagged,
        problems,
    )


def _item_get_for(actor: Any, item_id: Any) -> ReviewItem:
    item = (
        _items_for(actor)
        .filter(pk=uuid_or_none(item_id) or NO_ID)
        .select_related(
            "identity_a__agency", "identity_b__agency", "decided_by", "escalated_by__agency"
        )
        .first()
    )
    if item is None:
        raise NotFound
    return item


def review_item_for(*, actor: Any, item_id: uuid.UUID | str) -> ReviewView:
    """One pair, both sides side by side as the policy allows, with what each comparison
    of the model contributed. NotFound unless the actor's agency holds one side."""
    require(actor, Action.PERSON_INDEX_REVIEW)
    item = _item_get_for(actor, item_id)
    weight, chance, queued = item.match_weight, item.match_probability, None
    a, b = _side(actor, item.identity_a), _side(actor, item.identity_b)
    # An address the reviewer may not see is compared too (a confidential one never is).
    withheld = not (a.visible and b.visible) or a.addresses_not_shared or b.addresses_not_shared
    # Where the reviewer sees both records, the comparisons as queued, or as they are
    # now where a record (or the model) changed since. Where one is hidden, none: each
    # comparison tells what the hidden record holds ("exact match" gives its value).
    contributions: tuple[Contribution, ...] = ()
    if not withheld:
        contributions = tuple(
            Contribution(
                str(c.get("title") or c.get("comparison", "")),
                str(c.get("label", "")),
                float(c.get("weight", 0.0)),
            )
            for c in item.contributions
        )
    now = _scored_now(item) if item.status in WAITING and not withheld else None
    if now is not None:
        weight, chance, queued = now.match_weight, now.match_probability, item.match_probability
        contributions = tuple(Contribution(c.title, c.label, c.weight) for c in now.contributions)
    prior = weight - sum(c.weight for c in contributions) if contributions else 0.0

    def own(user: Any, text: str) -> str:
        return text if user is not None and user.agency_id == actor.agency_id else ""

    reason = own(item.decided_by, item.reason)
    escalation_reason = own(item.escalated_by, item.escalation_reason)
    return ReviewView(
        item,
        a,
        b,
        contributions,
        prior,
        reason,
        escalation_reason,
        weight,
        chance,
        queued,
        comparisons_withheld=withheld,
    )


def _scored_now(item: ReviewItem) -> Score | None:
    """The pair scored again with both records' features as they are now and the
    current model, when a comparison now falls in another level than when the item was
    queued (a record changed) or the model changed; else None. Term frequencies drift
    as other identities arrive, so a weight alone changing does not count. None too
    where either identity has no features yet."""
    from accord.people.index import candidates as index
    from accord.people.index.model import load_model
    from accord.people.index.scorer import score

    values = dict(
        MatchFeatures.objects.filter(
            identity_id__in=[item.identity_a_id, item.identity_b_id]
        ).values_list("identity_id", "values")
    )
    left, right = values.get(item.identity_a_id), values.get(item.identity_b_id)
    if not left or not right:
        return None
    model = load_model()
    tf = index.frequencies(item.partnership_id, [left, right], model)
    now = score(model, left, right, lambda column, value: tf.get((column, value)))
    queued_levels = [(c.get("comparison"), c.get("level")) for c in item.contributions]
    levels_now = [(c.comparison, c.level) for c in now.contributions]
    if model.version == item.model_version and queued_levels == levels_now:
        return None
    return now


# --- Deciding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Decided:
    item: ReviewItem
    # The merge a "same person" verdict made; None when they were one person already.
    merge: Merge | None = None


def _judge(actor: Any, item: ReviewItem, verdict: str, reason: str) -> PairJudgement:
    judgement, _ = PairJudgement.objects.update_or_create(
        identity_a_id=item.identity_a_id,
        identity_b_id=item.identity_b_id,
        defaults={
            "partnership_id": item.partnership_id,
            "verdict": verdict,
            "decided_by": actor,
            "decided_at": timezone.now(),
            "reason": reason,
        },
    )
    return judgement


MERGE_REFUSED_WITHHELD = (
    "These two cannot be joined as their records stand. Why is not shown to you: it rests "
    "on what the other agency holds about its person. Leave the pair to that agency's "
    "reviewers, or mark it not sure."
)


def _sees_both(actor: Any, a: Identity, b: Identity) -> bool:
    both = Identity.objects.filter(pk__in=[a.id, b.id])
    return policy.visible(actor, both).count() == len({a.id, b.id})


def review_decide(*, actor: Any, item_id: uuid.UUID | str, verdict: str, reason: str) -> Decided:
    """Decide a pair: "same" (merge their persons), "different" (remembered: never linked
    automatically again), or "not_sure" (escalated to both agencies' reviewers).

    Only a waiting pair can be decided, by a reviewer whose agency holds one side, with a
    reason. Everything is written in one transaction with its audit rows, or nothing.
    """
    require(actor, Action.PERSON_INDEX_REVIEW)
    reason = (reason or "").strip()
    errors: Errors = {}
    if verdict not in VERDICTS:
        errors["verdict"] = ["Choose same person, different people or not sure."]
    if not reason:
        errors["reason"] = ["Say why you decided this."]
    with transaction.atomic():
        # Before the item's row lock: a "same person" decision merges, and whatever
        # merges takes the index lock before any row lock (`candidates.lock_writers`).
        lock_writers(actor.partnership_id)
        item = (
            _items_for(actor)
            .select_for_update(of=("self",))
            .filter(pk=uuid_or_none(item_id) or NO_ID)
            .first()
        )
        if item is None:
            raise NotFound
        if errors:
            raise ValidationError(errors)
        if item.status == ReviewStatus.LAPSED:
            raise ValidationError(
                {
                    "verdict": [
                        "The matcher no longer puts this pair up for review, so it is not "
                        "waiting for a decision. If the matcher puts it up again, it comes "
                        "back to the queue."
                    ]
                }
            )
        if item.status not in WAITING:
            raise ValidationError({"verdict": ["This pair has been decided already."]})
        if item.status == ReviewStatus.NOT_SURE and verdict == "not_sure":
            raise ValidationError(
                {"verdict": ["This pair is escalated already: decide same or different."]}
            )
        a = Identity.objects.get(pk=item.identity_a_id)
        b = Identity.objects.get(pk=item.identity_b_id)
        merge = None
        changed = ["status", "decided_by", "decided_at", "reason"]
        if verdict == "same":
            _judge(actor, item, PairJudgement.Verdict.SAME, reason)
            changed.append("pair_judgement")
            if a.person_id != b.person_id:
                # The survivor is the person the reviewer's own agency knows: her page and
                # reference stay as the reviewer's agency has them.
                mine = a if a.agency_id == actor.agency_id else b
                other = b if mine is a else a
                try:
                    merge = persons_merge(
                        actor=actor,
                        survivor_id=mine.person_id,
                        merged_id=other.person_id,
                        reason=reason,
                        review=item,
                    )
                except ValidationError:
                    # Why (a MARAC agenda, an earlier judgement) is about the other
                    # person: said only to a reviewer who may see both records.
                    if not _sees_both(actor, a, b):
                        raise ValidationError({"verdict": [MERGE_REFUSED_WITHHELD]}) from None
                    raise
                changed.append("merge")
            item.status = ReviewStatus.SAME
        elif verdict == "different":
            if a.person_id == b.person_id:
                raise ValidationError(
                    {
                        "verdict": [
                            "These two are one person already: undo the merge that joined "
                            "them on the person's page."
                        ]
                    }
                )
            _judge(actor, item, PairJudgement.Verdict.DIFFERENT, reason)
            changed.append("pair_judgement")
            item.status = ReviewStatus.DIFFERENT
        else:
            item.status = ReviewStatus.NOT_SURE
        now = timezone.now()
        if verdict == "not_sure":
            item.escalated_by, item.escalated_at, item.escalation_reason = actor, now, reason
            changed += ["escalated_by", "escalated_at", "escalation_reason"]
        item.decided_by = actor
        item.decided_at = now
        item.reason = reason
        item.save(
            update_fields=[
                "status",
                "decided_by",
                "decided_at",
                "reason",
                "escalated_by",
                "escalated_at",
                "escalation_reason",
            ]
        )
        words = {
            "same": "review decided: same person; reason given",
            "different": "review decided: different people; reason given",
            "not_sure": "review escalated: not sure; reason given",
        }[verdict]
        for person_id in dict.fromkeys([a.person_id, b.person_id]):
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type="review_item",
                object_id=item.id,
                person_id=person_id,
                reason=words,
                changed_fields=changed,
            )
    return Decided(item, merge)


# --- Merges of a person -----------------------------------------------------------------


def merges_for(*, actor: Any, person: Person) -> list[Merge]:
    """The merges into this person (the actor has already been let see her), newest first."""
    require(actor, Action.PERSON_INDEX_REVIEW)
    return list(
        Merge.objects.filter(partnership_id=actor.partnership_id, survivor_id=person.id)
        .select_related("merged_by", "undone_by")
        .order_by("-merged_at")
    )


def merge_get_for(*, actor: Any, person: Person, merge_id: uuid.UUID | str) -> Merge:
    """One merge into this person that still stands; NotFound otherwise."""
    require(actor, Action.PERSON_INDEX_REVIEW)
    merge = Merge.objects.filter(
        pk=uuid_or_none(merge_id) or NO_ID,
        partnership_id=actor.partnership_id,
        survivor_id=person.id,
        undone_at__isnull=True,
    ).first()
    if merge is None:
        raise NotFound
    return merge


def detachable_get_for(*, actor: Any, person: Person, identity_id: uuid.UUID | str) -> Identity:
    """One identity of this person that the actor may see, to take out of it
    (`merge.identity_detach`): read and audited as on the person page. NotFound for one
    the actor may not see (audited as a refusal), of another person, or missing."""
    require(actor, Action.PERSON_INDEX_REVIEW)
    identity = (
        Identity.objects.filter(
            pk=uuid_or_none(identity_id) or NO_ID,
            person_id=person.id,
            partnership_id=actor.partnership_id,
        )
        .select_related("agency")
        .first()
    )
    if identity is None:
        raise NotFound
    with PersonReading(actor=actor, person_id=person.id) as reading:
        access = policy.check(actor, identity, grants=reading.grants)
        reading.add(
            [Read("identity", identity.id, identity.agency_id, access.visible, access.basis)]
        )
    if not access.visible:
        raise NotFound
    return identity


# --- Data quality -----------------------------------------------------------------------


@dataclass(frozen=True)
class QualityEntry:
    """One of the agency's records to check. Its name and person only for a reader who
    may view people; anyone else (an agency admin) gets what finds the record at source:
    the agency's own reference, or when and by whom it was recorded in Accord."""

    identity_id: uuid.UUID
    problems: list[Any]
    reference: str
    recorded_at: Any
    recorded_by: str
    name: str | None = None
    person_id: uuid.UUID | None = None


def data_quality_for(*, actor: Any, page: Any = 1) -> tuple[list[QualityEntry], Page[Any]]:
    """The actor's own agency's identities with data-quality problems, a page at a time;
    read as any read of one's own records (audited where the partnership says). By name
    to a reader who may view people; to an agency admin, who may not, by reference."""
    require(actor, Action.DATA_QUALITY_VIEW)
    named = actor.may(Action.PERSON_VIEW)
    order = ("family_name", "given_names", "id") if named else ("local_id", "recorded_at", "id")
    identities = (
        Identity.objects.filter(
            partnership_id=actor.partnership_id,
            agency_id=actor.agency_id,
            match_features__has_problems=True,
        )
        .select_related("match_features", "recorded_by")
        .order_by(*order)
    )
    found = Paginator(identities, PER_PAGE).get_page(page)
    rows = [
        QualityEntry(
            identity_id=i.id,
            problems=describe(i.match_features.problems),
            reference=i.local_id,
            recorded_at=i.recorded_at,
            recorded_by=i.recorded_by.display_name if i.recorded_by else "",
            name=i.full_name if named else None,
            person_id=i.person_id if named else None,
        )
        for i in found.object_list
    ]
    reads: dict[uuid.UUID | None, list[Read]] = {}
    for identity in found.object_list:
        reads.setdefault(identity.person_id, []).append(
            Read("identity", identity.id, identity.agency_id, True, Basis.OWNER)
        )
    with transaction.atomic():
        record_reads_by_person(actor=actor, reads=reads)
    return rows, found


# --- Thresholds and batch runs ----------------------------------------------------------


def index_settings_for(*, actor: Any) -> IndexSettings:
    """The partnership's thresholds (the defaults until someone saves them)."""
    require(actor, Action.PERSON_INDEX_MANAGE)
    found = IndexSettings.objects.filter(partnership_id=actor.partnership_id).first()
    return found or IndexSettings(partnership_id=actor.partnership_id)


def index_settings_update(*, actor: Any, link_at: float, review_at: float) -> IndexSettings:
    """Set the match probabilities at which an identity is linked automatically and at
    which a pair goes to review: 0 < review_at < link_at < 1. They apply to identities
    matched from now on; a batch re-match applies them to the whole index."""
    require(actor, Action.PERSON_INDEX_MANAGE)
    errors: Errors = {}
    if link_at is None or not 0 < link_at < 1:
        errors["link_at"] = ["Give the link threshold as a percentage above 0 and below 100."]
    if review_at is None or not 0 < review_at < 1:
        errors["review_at"] = ["Give the review threshold as a percentage above 0 and below 100."]
    elif "link_at" not in errors and review_at >= link_at:
        errors["review_at"] = ["The review threshold must be below the link threshold."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        found, _ = IndexSettings.objects.select_for_update().get_or_create(
            partnership_id=actor.partnership_id
        )
        changed = [
            name
            for name, value in (("link_at", link_at), ("review_at", review_at))
            if getattr(found, name) != value
        ]
        found.link_at, found.review_at = link_at, review_at
        found.updated_by, found.updated_at = actor, timezone.now()
        found.save()
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            object_type="index_settings",
            object_id=actor.partnership_id,
            changed_fields=changed,
        )
    return found


def match_runs_for(*, actor: Any, limit: int = 10) -> list[MatchRun]:
    """The partnership's latest batch re-matches, newest first."""
    require(actor, Action.PERSON_INDEX_MANAGE)
    return list(
        MatchRun.objects.filter(partnership_id=actor.partnership_id)
        .select_related("requested_by")
        .order_by("-requested_at")[:limit]
    )


def match_run_get_for(*, actor: Any, run_id: uuid.UUID | str) -> MatchRun:
    require(actor, Action.PERSON_INDEX_MANAGE)
    run = (
        MatchRun.objects.filter(
            pk=uuid_or_none(run_id) or NO_ID, partnership_id=actor.partnership_id
        )
        .select_related("requested_by")
        .first()
    )
    if run is None:
        raise NotFound
    return run
