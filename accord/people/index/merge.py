"""Merging two persons into one, undoing a merge exactly, and detaching one identity.

Which tables move is read from the models: every foreign key to `Person` (hidden
ones included) except the index's own bookkeeping (`Person.merged_into`,
`Merge.survivor`, `Merge.merged`). A table added later, such as alerts, moves with
the rest without a change here.

The rules, as the data protection officer would check them:

- **A merge** points every row of the merged person at the survivor and records, per
  table, exactly which rows moved (`Merge.moved`: "app_label.Model" for a column
  named `person`, "app_label.Model.column" for any other). The merged person is kept,
  with `merged_into` set, so its id leads to the survivor. A merge is refused when a
  pair of their identities was judged to be different people, when both have a case
  on the same MARAC meeting's agenda (or any other row the survivor already has that
  a unique constraint allows only once), and, unless automatic, without a reason.
- **Undoing a merge** points exactly the recorded rows that still point at the
  survivor back to the merged person. Rows added to the survivor since stay with it,
  with three exceptions, so that nothing about one of them is left on the other's page:
  a row bound to an identity (an address) goes with its identity; a row an agency owns
  (a record, a consent, a disclosure decision by its `agency`, a grant by its
  `holder_agency`) goes to the merged person when all of that agency's identities are
  back on the merged side, because the agency knew her only through identities the
  merge brought in (left behind, its record would also tell the survivor's agencies
  that it holds something about a person it does not know); and a grant goes with the
  consent, decision, record or address that wrote it. Where an agency has identities
  on both sides, its later rows stay with the survivor, since nothing says which of
  the two they were about; the audit event counts the rows that followed. Identities,
  MARAC cases and information requests added since stay with the survivor. An undo is
  refused when an identity the merge joined, or every identity the survivor had of its
  own, was detached since: it could not be exact, and detaching is the way on.
- **Nested merges** are undone last in, first out. A merge can be undone only while
  no later merge involving its survivor stands (a merge into the same survivor, or
  the survivor merged into a third person); the refusal names that merge's date.
  Chains of `merged_into` are kept as they are, so each undo restores one step. To
  take out one identity joined long ago, detach it instead.
- **Detaching** moves one identity, with its addresses, to a new person. The rows its
  agency owns follow it only when that agency has no other identity left in the old
  person; a grant goes with the row that wrote it.
- **The access policy's hint** (`Identity.may_be_shared`, ADR 0012) is only ever set
  here, never cleared: after each move, an identity's hint becomes true where a grant
  now covers its agency's contact details about its person.
- **The review queue**: open (and escalated) review items between identities now in
  one person are withdrawn by a merge, which records them (`Merge.withdrawn`); undoing
  it reopens, as they were, those still withdrawn whose identities are two persons
  again.

Reasons typed by staff are kept (encrypted) on the merge; the audit log gets fixed
words, table names and ids, never a reason's text.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accord.audit.models import AuditAction
from accord.audit.services import AuditEntry, audit_record, audit_record_many
from accord.core.errors import NotFound, require
from accord.core.ids import NO_ID, uuid_or_none
from accord.marac.models import Case as MaracCase
from accord.marac.models import Meeting
from accord.partnership.models import Agency, User
from accord.partnership.permissions import Action
from accord.people.index.candidates import lock_writers
from accord.people.index.features import Features
from accord.people.index.safeguards import conflicting
from accord.people.models import Identity, Merge, PairJudgement, Person, ReviewItem, ReviewStatus
from accord.sharing.models import AccessGrant

Errors = dict[str, list[str]]

# The fields by which an agency owns a row about a person.
OWNER_FIELDS = ("agency", "holder_agency")


@dataclass(frozen=True)
class PersonLink:
    """One foreign key to `Person` that a merge moves."""

    model: type[models.Model]
    field: models.ForeignKey[Any, Any]

    @property
    def key(self) -> str:
        """The key of `Merge.moved` for this column."""
        label = self.model._meta.label
        return label if self.field.name == "person" else f"{label}.{self.field.name}"

    @property
    def rows(self) -> models.QuerySet[Any]:
        return self.model._base_manager.all()

    def pointing_at(self, person_id: uuid.UUID) -> models.QuerySet[Any]:
        return self.rows.filter(**{self.field.attname: person_id})

    def repoint(self, rows: models.QuerySet[Any], person_id: uuid.UUID) -> int:
        return rows.update(**{self.field.attname: person_id})

    @property
    def identity_field(self) -> str | None:
        """The column binding a row to one identity (an address's), if any."""
        for field in self.model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and field.related_model is Identity:
                return field.name
        return None

    @property
    def owner_field(self) -> str | None:
        """The column naming the agency that owns the row, if any."""
        for name in OWNER_FIELDS:
            try:
                field = self.model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if isinstance(field, models.ForeignKey) and field.related_model is Agency:
                return field.attname
        return None


_BOOKKEEPING = {
    ("people.Person", "merged_into"),
    ("people.Merge", "survivor"),
    ("people.Merge", "merged"),
}


def person_links() -> list[PersonLink]:
    """Every foreign key to `Person` that a merge moves, in a fixed order."""
    links = []
    for relation in Person._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete):
            continue
        field = getattr(relation, "field", None)
        if not isinstance(field, models.ForeignKey) or relation.many_to_many:
            continue
        model = relation.related_model
        assert isinstance(model, type)
        if (model._meta.label, field.name) in _BOOKKEEPING:
            continue
        links.append(PersonLink(model=model, field=field))
    return sorted(links, key=lambda link: link.key)


def _link_for_key(key: str) -> PersonLink:
    parts = key.split(".")
    model = apps.get_model(parts[0], parts[1])
    field = model._meta.get_field(parts[2] if len(parts) > 2 else "person")
    assert isinstance(field, models.ForeignKey)
    return PersonLink(model=model, field=field)


def _day(moment: Any) -> str:
    return f"{timezone.localtime(moment):%-d %b %Y}"


def _actor_user(actor: Any) -> User | None:
    return actor if isinstance(actor, User) else None


def _locked_persons(actor: Any, *person_ids: Any) -> dict[uuid.UUID, Person]:
    """The persons, locked in id order (so two merges never wait on each other in a
    circle); NotFound for one outside the actor's partnership, as for one missing."""
    wanted = {uuid_or_none(p) or NO_ID for p in person_ids}
    found = Person.objects.select_for_update().filter(
        pk__in=wanted, partnership_id=actor.partnership_id
    )
    persons = {p.id: p for p in found.order_by("pk")}
    if len(persons) != len(wanted):
        raise NotFound
    return persons


@functools.cache
def _rows_statement(links: tuple[PersonLink, ...], vendor: str) -> str:
    """The statement `_rows_of` runs, built once from the models: for each table, the
    link's key and each row's primary key as text, where the row refers to the person."""
    quote = connection.ops.quote_name
    parts = []
    for link in links:
        pk = link.model._meta.pk
        assert pk is not None and pk.column
        parts.append(
            f"SELECT %s, CAST({quote(pk.column)} AS TEXT) "  # noqa: S608 (names from models)
            f"FROM {quote(link.model._meta.db_table)} WHERE {quote(link.field.column)} = %s"
        )
    return " UNION ALL ".join(parts)


def _rows_of(links: list[PersonLink], person_id: uuid.UUID) -> dict[str, list[str]]:
    """The primary keys (as text, sorted) of every row referring to the person, by
    link key, in one statement: a newly arrived person refers to almost nothing, and
    asking each table in turn was most of an automatic link's time. (The statement
    names only tables and columns read from the models; its values are parameters.)"""
    person = Person._meta.pk.get_db_prep_value(person_id, connection)
    params = [value for link in links for value in (link.key, person)]
    with connection.cursor() as cursor:
        cursor.execute(_rows_statement(tuple(links), connection.vendor), params)
        rows = cursor.fetchall()
    by_key = {link.key: link for link in links}
    found: dict[str, list[str]] = {}
    for key, pk in rows:
        # As text the databases differ (SQLite keeps a UUID without its dashes).
        found.setdefault(key, []).append(str(by_key[key].model._meta.pk.to_python(pk)))
    return {key: sorted(pks) for key, pks in sorted(found.items())}


def _identity_ids_of(*person_ids: uuid.UUID) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Each person's identities, in one statement."""
    return _identities_of(*person_ids)[0]


def _identities_of(
    *person_ids: uuid.UUID, features: bool = False
) -> tuple[dict[uuid.UUID, set[uuid.UUID]], dict[uuid.UUID, Features]]:
    """Each person's identities and, with `features`, each identity's match features
    (where it has them), in one statement."""
    found: dict[uuid.UUID, set[uuid.UUID]] = {person_id: set() for person_id in person_ids}
    values: dict[uuid.UUID, Features] = {}
    columns = ["person_id", "id", *(["match_features__values"] if features else [])]
    for person_id, identity_id, *stored in Identity.objects.filter(
        person_id__in=person_ids
    ).values_list(*columns):
        found[person_id].add(identity_id)
        if stored and stored[0]:  # features not yet derived are no evidence either way
            values[identity_id] = stored[0]
    return found, values


# An automatic merge's own checks, under the persons' locks, for a caller that decided
# on persons read before it took the index lock: the pair that matched has left the two
# persons, or joining them would put two records that conflict into one person
# (`safeguards.conflicting`; its refusal carries HOUSEHOLD_CODE).
HOUSEHOLD_CODE = "household"
PAIR_MOVED = "The records that matched are no longer in these two people."
HOUSEHOLD_CONFLICT = "Joining would put records that conflict into one person."


def _households_conflict(
    survivor_ids: set[uuid.UUID], merged_ids: set[uuid.UUID], features: dict[uuid.UUID, Features]
) -> bool:
    return any(
        conflicting(features[a], features[b])
        for a in survivor_ids
        if a in features
        for b in merged_ids
        if b in features
    )


def household_refusal(error: ValidationError) -> bool:
    """Was this merge refused because the persons' records conflict (`HOUSEHOLD_CODE`)?"""
    refusals = getattr(error, "error_dict", {}).get("merged", [])
    return any(getattr(refusal, "code", None) == HOUSEHOLD_CODE for refusal in refusals)


def _hints_recompute(person_ids: Iterable[uuid.UUID]) -> None:
    """Set `may_be_shared` on the identities of these persons whose agency's contact
    details about their person a grant now covers (ADR 0012), in one statement.
    Never cleared."""
    covered = AccessGrant.objects.covering_contact_details(
        person_id=OuterRef("person_id"), agency_id=OuterRef("agency_id")
    )
    Identity.objects.filter(
        Exists(covered), person_id__in=list(person_ids), may_be_shared=False
    ).update(may_be_shared=True)


# --- Merging ----------------------------------------------------------------------------


def _judged_different(survivor_ids: set[uuid.UUID], merged_ids: set[uuid.UUID]) -> Any:
    return (
        PairJudgement.objects.filter(verdict=PairJudgement.Verdict.DIFFERENT)
        .filter(
            Q(identity_a__in=survivor_ids, identity_b__in=merged_ids)
            | Q(identity_a__in=merged_ids, identity_b__in=survivor_ids)
        )
        .order_by("-decided_at")
        .first()
    )


def _unique_clashes(link: PersonLink, survivor_id: uuid.UUID, merged_id: uuid.UUID) -> Errors:
    """Rows of the merged person that the survivor may hold only once (a case on one
    meeting's agenda), found from the table's unique constraints."""
    meta = link.model._meta
    groups: list[tuple[tuple[str, ...], Q]] = []
    if link.field.unique:
        groups.append(((), Q()))
    for together in meta.unique_together:
        if link.field.name in together:
            groups.append((tuple(f for f in together if f != link.field.name), Q()))
    for constraint in meta.total_unique_constraints + [
        c for c in meta.constraints if isinstance(c, models.UniqueConstraint) and c.condition
    ]:
        if constraint.fields and link.field.name in constraint.fields:
            others = tuple(f for f in constraint.fields if f != link.field.name)
            groups.append((others, constraint.condition or Q()))
    errors: Errors = {}
    for others, condition in groups:
        columns = list(others)  # a foreign key's name reads its id
        merged_rows = link.pointing_at(merged_id).filter(condition)
        theirs = set(merged_rows.values_list(*columns)) if columns else set()
        survivor_rows = link.pointing_at(survivor_id).filter(condition)
        if columns:
            clash = next((v for v in survivor_rows.values_list(*columns) if v in theirs), None)
        else:
            clash = () if merged_rows.exists() and survivor_rows.exists() else None
        if clash is None:
            continue
        if link.model is MaracCase and others == ("meeting",):
            meeting = Meeting.objects.get(pk=clash[0])
            errors["meeting"] = [
                f"Both have a case on the agenda of {meeting.title} on {_day(meeting.held_at)}: "
                "the MARAC coordinator must take one of the cases off first."
            ]
        else:
            errors[others[0] if others else "merged"] = [
                f"Both have a {meta.verbose_name} that only one person may have"
                + (f" with the same {', '.join(others)}." if others else ".")
            ]
    return errors


def persons_merge(
    *,
    actor: Any,
    survivor_id: uuid.UUID | str,
    merged_id: uuid.UUID | str,
    reason: str,
    review: ReviewItem | None = None,
    automatic: bool = False,
    pair: tuple[uuid.UUID, uuid.UUID] | None = None,
) -> Merge:
    """Join two persons of the actor's partnership: every row about the merged person
    moves to the survivor, exactly as recorded in the returned `Merge`, so that
    `merge_undo` can put it back.

    Refused when a pair of their identities was judged to be different people, when
    both are on one MARAC meeting's agenda, and, unless `automatic` (the person index
    linking above its threshold, whose caller checks its own permission), without a
    reason. An automatic merge is also refused where an identity of one conflicts with
    one of the other (the household safeguard, checked again under the persons' locks:
    `household_refusal` tells the refusal apart), and, given the `pair` that led to it
    (an identity of the merged person, one of the survivor), where the two are no
    longer in those persons.

    Takes the partnership's index lock first (`candidates.lock_writers`).
    """
    if not automatic:
        require(actor, Action.PERSON_INDEX_REVIEW)
    reason = reason.strip()
    if not reason and not automatic:
        raise ValidationError({"reason": ["Say why these are the same person."]})
    with transaction.atomic():
        lock_writers(actor.partnership_id)
        persons = _locked_persons(actor, survivor_id, merged_id)
        if len(persons) == 1:
            raise ValidationError({"merged": ["Choose two different people to merge."]})
        survivor = persons[uuid_or_none(survivor_id) or NO_ID]
        merged = persons[uuid_or_none(merged_id) or NO_ID]
        errors: Errors = {}
        if survivor.merged_into_id is not None:
            errors["survivor"] = ["This person was merged into another already."]
        if merged.merged_into_id is not None:
            errors["merged"] = ["This person was merged into another already."]
        if errors:
            raise ValidationError(errors)
        identities, features = _identities_of(survivor.id, merged.id, features=automatic)
        survivor_ids, merged_ids = identities[survivor.id], identities[merged.id]
        if pair is not None and (pair[0] not in merged_ids or pair[1] not in survivor_ids):
            raise ValidationError({"merged": [PAIR_MOVED]})
        judgement = _judged_different(survivor_ids, merged_ids)
        if judgement is not None:
            errors["merged"] = [
                f"These were judged different people on {_day(judgement.decided_at)}."
            ]
        elif automatic and _households_conflict(survivor_ids, merged_ids, features):
            refusal = ValidationError(HOUSEHOLD_CONFLICT, code=HOUSEHOLD_CODE)
            raise ValidationError({"merged": [refusal]})
        if review is not None and (
            review.partnership_id != actor.partnership_id
            or {review.identity_a_id, review.identity_b_id}.isdisjoint(survivor_ids)
            or {review.identity_a_id, review.identity_b_id}.isdisjoint(merged_ids)
        ):
            errors["review"] = ["This review is not about these two people."]
        links = person_links()
        # Only a table holding a row of the merged person can clash (a person just
        # arrived holds an identity and an address, neither of them unique).
        moved = _rows_of(links, merged.id)
        for link in links:
            if link.key in moved:
                errors.update(_unique_clashes(link, survivor.id, merged.id))
        if errors:
            raise ValidationError(errors)

        by_key = {link.key: link for link in links}
        for key, pks in moved.items():
            by_key[key].repoint(by_key[key].rows.filter(pk__in=pks), survivor.id)
        merged.merged_into = survivor
        merged.save(update_fields=["merged_into"])
        _hints_recompute([survivor.id])
        # Pairs now within one person need no review; the one that led here is the
        # review service's to settle.
        settled = (
            ReviewItem.objects.filter(
                identity_a__person=survivor,
                identity_b__person=survivor,
                status__in=[ReviewStatus.OPEN, ReviewStatus.NOT_SURE, ReviewStatus.LAPSED],
            )
            .exclude(pk=review.pk if review is not None else NO_ID)
            .values_list("pk", "status")
        )
        withdrawn = {str(pk): status for pk, status in settled}
        if withdrawn:
            ReviewItem.objects.filter(pk__in=list(withdrawn)).update(status=ReviewStatus.WITHDRAWN)
        merge = Merge.objects.create(
            partnership_id=actor.partnership_id,
            survivor=survivor,
            merged=merged,
            moved=moved,
            withdrawn=withdrawn,
            review=review,
            automatic=automatic,
            merged_by=_actor_user(actor),
            reason=reason,
        )
        tables = [link.model._meta.label_lower for link in links if link.key in moved]
        _audit_both(
            actor,
            merge,
            survivor=(survivor.id, "merged: another person joined this one", tables),
            merged=(merged.id, "merged into another person", ["merged_into", *tables]),
        )
    return merge


def _audit_both(
    actor: Any,
    merge: Merge,
    *,
    survivor: tuple[uuid.UUID, str, list[str]],
    merged: tuple[uuid.UUID, str, list[str]],
) -> None:
    audit_record_many(
        actor=actor,
        entries=[
            AuditEntry(
                action=AuditAction.UPDATE,
                object_type="merge",
                object_id=merge.id,
                person_id=person_id,
                reason=reason,
                changed_fields=tuple(changed),
            )
            for person_id, reason, changed in (survivor, merged)
        ],
    )


# --- Following: what goes with identities that moved -----------------------------------


def _follow(
    links: list[PersonLink], *, source_id: uuid.UUID, target_id: uuid.UUID, agencies: set[Any]
) -> dict[str, int]:
    """Move from `source_id` to `target_id` the rows that belong with what is now on the
    target: rows bound to an identity now there, rows owned by one of `agencies`, and
    grants written by a row now there. Identities themselves do not move here."""
    counts: dict[str, int] = {}
    grant_link = None
    for link in links:
        if link.model is Identity:
            continue
        if link.model is AccessGrant:
            grant_link = link
            continue
        source = link.pointing_at(source_id)
        bound, owner = link.identity_field, link.owner_field
        if bound is not None:
            rows = source.filter(**{f"{bound}__person_id": target_id})
        elif owner is not None and agencies:
            rows = source.filter(**{f"{owner}__in": agencies})
        else:
            continue
        count = link.repoint(rows, target_id)
        if count:
            counts[link.model._meta.label_lower] = count
    if grant_link is not None:
        # A grant follows the row that wrote it (its `source_id`); one whose source is
        # on neither person follows its holder agency.
        there, here = Q(pk__in=[]), Q(pk__in=[])
        for link in links:
            if link.model is not AccessGrant and isinstance(link.model._meta.pk, models.UUIDField):
                there |= Q(source_id__in=link.pointing_at(target_id).values("pk"))
                here |= Q(source_id__in=link.pointing_at(source_id).values("pk"))
        which = there
        if agencies:
            which |= Q(holder_agency_id__in=agencies) & ~here
        count = grant_link.repoint(grant_link.pointing_at(source_id).filter(which), target_id)
        if count:
            counts[grant_link.model._meta.label_lower] = count
    return counts


def _agencies_only_on(target_id: uuid.UUID, source_id: uuid.UUID) -> set[uuid.UUID]:
    """The agencies with identities in the target person and none in the source."""
    on_target = set(
        Identity.objects.filter(person_id=target_id).values_list("agency_id", flat=True)
    )
    on_source = set(
        Identity.objects.filter(person_id=source_id).values_list("agency_id", flat=True)
    )
    return on_target - on_source


# --- Undoing a merge --------------------------------------------------------------------


def merge_undo(*, actor: Any, merge_id: uuid.UUID | str, reason: str) -> None:
    """Separate two merged persons again: the rows recorded in the merge go back to the
    merged person, and rows added since follow the module's rules (see its docstring).

    Refused while a later merge involving the survivor stands (undo that first), and
    when an identity the merge joined has since been detached.
    """
    require(actor, Action.PERSON_INDEX_REVIEW)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why these are not the same person."]})
    with transaction.atomic():
        lock_writers(actor.partnership_id)
        merge = (
            Merge.objects.select_for_update()
            .filter(pk=uuid_or_none(merge_id) or NO_ID, partnership_id=actor.partnership_id)
            .first()
        )
        if merge is None:
            raise NotFound
        persons = _locked_persons(actor, merge.survivor_id, merge.merged_id)
        survivor, merged = persons[merge.survivor_id], persons[merge.merged_id]
        _check_undoable(merge, survivor, merged)

        links = person_links()
        for key, pks in merge.moved.items():
            link = _link_for_key(key)
            link.repoint(link.pointing_at(survivor.id).filter(pk__in=pks), merged.id)
        followed = _follow(
            links,
            source_id=survivor.id,
            target_id=merged.id,
            agencies=_agencies_only_on(merged.id, survivor.id),
        )
        merged.merged_into = None
        merged.save(update_fields=["merged_into"])
        _hints_recompute([survivor.id, merged.id])
        reopened = _reviews_reopen(merge)
        merge.undone_by = _actor_user(actor)
        merge.undone_at = timezone.now()
        merge.undo_reason = reason
        merge.save(update_fields=["undone_by", "undone_at", "undo_reason"])
        later = sum(followed.values())
        tables = sorted(
            {_link_for_key(k).model._meta.label_lower for k in merge.moved} | set(followed)
        )
        note = f"; {later} rows added since followed their agency" if later else ""
        if reopened:
            note += f"; {reopened} review item{'s' if reopened != 1 else ''} reopened"
        _audit_both(
            actor,
            merge,
            survivor=(survivor.id, f"merge undone: a person separated from this one{note}", tables),
            merged=(merged.id, f"merge undone: separated again{note}", ["merged_into", *tables]),
        )


def _reviews_reopen(merge: Merge) -> int:
    """Reopen, as they were (open, escalated or lapsed), the review items the merge withdrew
    that are still withdrawn and are again about two persons; how many."""
    pending = ReviewItem.objects.filter(
        pk__in=list(merge.withdrawn), status=ReviewStatus.WITHDRAWN
    ).values_list("pk", "identity_a__person_id", "identity_b__person_id")
    back: dict[str, list[Any]] = {}
    for pk, one, other in pending:
        if one != other:
            back.setdefault(merge.withdrawn[str(pk)], []).append(pk)
    for status, pks in back.items():
        ReviewItem.objects.filter(pk__in=pks).update(status=status)
    return sum(len(pks) for pks in back.values())


def _check_undoable(merge: Merge, survivor: Person, merged: Person) -> None:
    if merge.undone_at is not None:
        raise ValidationError({"merge": ["This merge was undone already."]})
    later = (
        Merge.objects.filter(undone_at__isnull=True, merged_at__gt=merge.merged_at)
        .filter(Q(survivor_id=survivor.id) | Q(merged_id=survivor.id))
        .order_by("-merged_at")
        .first()
    )
    if later is not None:
        raise ValidationError(
            {
                "merge": [
                    f"A later merge of this person, on {_day(later.merged_at)}, still stands: "
                    "undo that merge first."
                ]
            }
        )
    if merged.merged_into_id != survivor.id or survivor.merged_into_id is not None:
        raise ValidationError({"merge": ["These two people are no longer merged this way."]})
    moved_identities = set(merge.moved.get(Identity._meta.label, []))
    now_on_survivor = {str(i) for i in _identity_ids_of(survivor.id)[survivor.id]}
    if not moved_identities <= now_on_survivor:
        raise ValidationError(
            {
                "merge": [
                    "An identity this merge joined was detached since, so the merge cannot "
                    "be undone exactly: detach the other identities instead."
                ]
            }
        )
    if now_on_survivor <= moved_identities:
        raise ValidationError(
            {
                "merge": [
                    "The surviving person's own identities were detached since, so nothing "
                    "would be left of it: detach the other identities instead."
                ]
            }
        )


# --- Detaching one identity -------------------------------------------------------------


def identity_detach(
    *,
    actor: Any,
    identity_id: uuid.UUID | str,
    reason: str,
    from_person_id: uuid.UUID | None = None,
) -> Person:
    """Take one identity, with its addresses, out of its person into a new person (to
    undo a wrong link of a single identity).

    The rows its agency owns (records, consents, decisions, grants it holds) go with it
    only when that agency has no other identity left in the old person; a grant goes
    with the row that wrote it. Refused for a person's only identity, and, where
    `from_person_id` is given (the person the caller checked it in), when the identity
    is no longer in that person.
    """
    require(actor, Action.PERSON_INDEX_REVIEW)
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why this identity is not this person."]})
    with transaction.atomic():
        lock_writers(actor.partnership_id)
        identity = (
            Identity.objects.filter(
                pk=uuid_or_none(identity_id) or NO_ID, partnership_id=actor.partnership_id
            )
            .only("id", "person_id", "agency_id")
            .first()
        )
        if identity is None:
            raise NotFound
        old = _locked_persons(actor, identity.person_id)[identity.person_id]
        identity = Identity.objects.select_for_update().get(pk=identity.pk)
        moved = from_person_id is not None and identity.person_id != from_person_id
        if moved or identity.person_id != old.id or old.merged_into_id is not None:
            raise ValidationError({"identity": ["This identity moved meanwhile: try again."]})
        others = Identity.objects.filter(person_id=old.id).exclude(pk=identity.pk)
        if not others.exists():
            raise ValidationError(
                {"identity": ["This is the person's only identity: there is nothing to detach."]}
            )
        new = Person.objects.create(partnership_id=old.partnership_id)
        Identity.objects.filter(pk=identity.pk).update(person_id=new.id)
        agency_left = others.filter(agency_id=identity.agency_id).exists()
        followed = _follow(
            person_links(),
            source_id=old.id,
            target_id=new.id,
            agencies=set() if agency_left else {identity.agency_id},
        )
        _hints_recompute([new.id, old.id])
        tables = sorted({Identity._meta.label_lower} | set(followed))
        for person_id, words in (
            (old.id, "identity detached"),
            (new.id, "detached into a new person"),
        ):
            audit_record(
                actor=actor,
                action=AuditAction.UPDATE,
                object_type="identity",
                object_id=identity.id,
                person_id=person_id,
                reason=words,
                changed_fields=["person", *tables],
            )
    return new
