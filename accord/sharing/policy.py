"""The access policy: may this actor see this item, which fields, and on what basis.

Every selector, page, API endpoint, export and PDF asks here; nothing else decides.
The answer is built in DESIGN.md's order:

1. nothing crosses the partnership boundary;
2. a *named-only* item — a restricted record, a confidential address — is visible
   only through a `named` grant to the actor or the actor's agency, whatever else holds;
   a restricted record does not exist for anyone else (no flag, no count); a
   confidential address is shown as "address withheld" to whoever would otherwise
   see the agency's addresses;
3. the owner agency sees its own items;
4. a live grant written by consent, a disclosure decision or MARAC participation,
   for this person, this holder agency and this item's category (or this very item);
5. otherwise the actor learns only that the agency holds something ("flag, not content").

There are two entry points, kept honest by a property test that compares them on
random worlds: `check` decides one item in Python from the grant rows, and
`visible` filters a queryset in the database with `EXISTS` on the indexed grants.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from django.db.models import BooleanField, CharField, Expression, Model, QuerySet
from django.utils import timezone

from accord.cases.models import AgencyRecord
from accord.people.models import Address, Identity
from accord.sharing.models import AccessGrant
from accord.sharing.vocabulary import Basis, InformationCategory

M = TypeVar("M", bound=Model)


class Actor(Protocol):
    """A signed-in user or an agency system's API key."""

    id: uuid.UUID
    agency_id: uuid.UUID
    agency: Any

    @property
    def partnership_id(self) -> uuid.UUID: ...


@dataclass(frozen=True)
class ItemKind:
    """How the policy reads one kind of item."""

    object_type: str
    fields: frozenset[str]
    category_field: str | None = None
    fixed_category: str = ""
    named_only_field: str | None = None
    # A column that is false only where no grant can make the item visible to another
    # agency: the filter probes the grants only where it is true (`Identity.may_be_shared`).
    hint_field: str | None = None


KINDS: dict[type[Model], ItemKind] = {
    AgencyRecord: ItemKind(
        object_type="record",
        fields=frozenset(
            {
                "id",
                "person",
                "agency",
                "author",
                "kind",
                "category",
                "occurred_at",
                "recorded_at",
                "summary",
                "body",
                "version",
            }
        ),
        category_field="category",
        named_only_field="restricted",
    ),
    Identity: ItemKind(
        object_type="identity",
        fields=frozenset(
            {
                "id",
                "agency",
                "given_names",
                "family_name",
                "other_names",
                "date_of_birth",
                "gender",
                "phone",
                "email",
                "nhs_number",
                "police_id",
                "local_id",
            }
        ),
        fixed_category=InformationCategory.CONTACT_DETAILS,
        hint_field="may_be_shared",
    ),
    Address: ItemKind(
        object_type="address",
        fields=frozenset({"id", "agency", "lines", "postcode", "confidential", "is_current"}),
        fixed_category=InformationCategory.ADDRESS,
        named_only_field="confidential",
    ),
}

FLAG_FIELDS = frozenset({"agency"})
WITHHELD_FIELDS = frozenset({"agency", "withheld"})


@dataclass(frozen=True)
class Access:
    """The policy's answer for one item.

    `exists` is False when the item must not be acknowledged at all (a restricted
    record for anyone not named, anything in another partnership). `fields` lists
    exactly what may be shown: every field, the flag (`agency`), or for a
    confidential address the agency and the words "address withheld".
    """

    exists: bool
    visible: bool
    basis: str = ""
    grant_id: int | None = None
    fields: frozenset[str] = frozenset()

    @property
    def withheld(self) -> bool:
        return "withheld" in self.fields


NOTHING = Access(exists=False, visible=False)


def _kind(model: type[Model]) -> ItemKind:
    try:
        return KINDS[model]
    except KeyError:
        raise TypeError(f"The access policy does not know {model.__name__}.") from None


def _category(item: Any, kind: ItemKind) -> str:
    return getattr(item, kind.category_field) if kind.category_field else kind.fixed_category


def _named_only(item: Any, kind: ItemKind) -> bool:
    return bool(getattr(item, kind.named_only_field)) if kind.named_only_field else False


def _sector(actor: Actor) -> str:
    return str(actor.agency.sector)


# --- One item, decided in Python from the grant rows -------------------------------


def _is_live(grant: AccessGrant, now: datetime) -> bool:
    if grant.ended_at is not None or grant.valid_from > now:
        return False
    return grant.valid_until is None or grant.valid_until > now


def _is_to(grant: AccessGrant, actor: Actor, sector: str) -> bool:
    return (
        grant.recipient_agency_id == actor.agency_id
        or grant.recipient_user_id == actor.id
        or (bool(grant.recipient_sector) and grant.recipient_sector == sector)
    )


def grants_for(actor: Actor, *, person_id: uuid.UUID, now: datetime | None = None) -> list[Any]:
    """The live grants to this actor about one person, oldest first."""
    now = now or timezone.now()
    sector = _sector(actor)
    rows = AccessGrant.objects.filter(person_id=person_id, ended_at__isnull=True).order_by("id")
    return [g for g in rows if _is_live(g, now) and _is_to(g, actor, sector)]


def check(
    actor: Actor, item: Any, *, now: datetime | None = None, grants: list[Any] | None = None
) -> Access:
    """May `actor` see `item`? Pass `grants` (from `grants_for`) to decide many items of
    one person without reading the grants again."""
    kind = _kind(type(item))
    if item.partnership_id != actor.partnership_id:
        return NOTHING
    if grants is None:
        grants = grants_for(actor, person_id=item.person_id, now=now)
    own = [g for g in grants if g.holder_agency_id == item.agency_id]

    if _named_only(item, kind):
        for grant in own:
            if grant.basis == Basis.NAMED and grant.item_id == item.id:
                return Access(True, True, Basis.NAMED, grant.id, kind.fields)
        if kind.object_type == "record":
            return NOTHING
        # A confidential address: withheld from those who would otherwise see it.
        if item.agency_id == actor.agency_id or _shared(own, item, kind) is not None:
            return Access(True, False, fields=WITHHELD_FIELDS)
        return Access(True, False, fields=FLAG_FIELDS)

    if item.agency_id == actor.agency_id:
        return Access(True, True, Basis.OWNER, None, kind.fields)
    grant = _shared(own, item, kind)
    if grant is not None:
        return Access(True, True, grant.basis, grant.id, kind.fields)
    return Access(True, False, fields=FLAG_FIELDS)


def _shared(grants: Iterable[Any], item: Any, kind: ItemKind) -> Any | None:
    category = _category(item, kind)
    for grant in grants:
        if grant.basis == Basis.NAMED:
            continue
        if grant.item_id == item.id or (grant.item_id is None and grant.category == category):
            return grant
    return None


# --- Many items, filtered in the database -------------------------------------------
#
# The filter is one SQL expression, built by hand rather than from ORM expressions: it
# is asked on every page, and composing it from Exists/Case/Subquery objects cost more
# to compile in Python (about 8 ms) than the query costs to run. It reads the same
# grant rows, in the same order of rules, as `check`; the property test holds them
# to the same answers. It is written against the item table's current alias, so it
# stays right when the queryset is used as a subquery.

_GRANT_TABLE = AccessGrant._meta.db_table
_NAMED = str(Basis.NAMED)
_OWNER = str(Basis.OWNER)


class _PolicyExpression(Expression):
    """`allowed` (a condition) or `basis` (the basis text) for one actor, at one moment."""

    def __init__(self, kind: ItemKind, actor: Actor, now: datetime, part: str) -> None:
        output: Any = BooleanField() if part in ("allowed", "hidden") else CharField()
        super().__init__(output_field=output)
        self.kind, self.actor, self.now, self.part = kind, actor, now, part

    @property
    def conditional(self) -> bool:
        return self.part in ("allowed", "hidden")

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        t = compiler.quote_name_unless_alias(compiler.query.base_table)
        kind, actor = self.kind, self.actor
        uuid_prep = AccessGrant._meta.get_field("item_id").get_db_prep_value
        time_prep = AccessGrant._meta.get_field("valid_from").get_db_prep_value
        now = time_prep(self.now, connection)
        own = uuid_prep(actor.agency_id, connection)
        grants = (
            f"FROM {_GRANT_TABLE} g WHERE g.person_id = {t}.person_id "
            f"AND g.holder_agency_id = {t}.agency_id AND g.ended_at IS NULL "
            "AND g.valid_from <= %s AND (g.valid_until IS NULL OR g.valid_until > %s) "
            "AND (g.recipient_agency_id = %s OR g.recipient_user_id = %s "
            "OR g.recipient_sector = %s)"
        )
        grant_params = [now, now, own, uuid_prep(actor.id, connection), _sector(actor)]
        if kind.category_field:
            category, category_params = f"{t}.{kind.category_field}", []
        else:
            category, category_params = "%s", [kind.fixed_category]
        shared = (
            f"{grants} AND g.basis <> %s AND (g.item_id = {t}.id "
            f"OR (g.item_id IS NULL AND g.category = {category}))"
        )
        shared_params = [*grant_params, _NAMED, *category_params]
        named = f"{grants} AND g.basis = %s AND g.item_id = {t}.id"
        named_params = [*grant_params, _NAMED]
        if self.part == "basis":
            lookup = f"(SELECT g.basis {shared} ORDER BY g.id LIMIT 1)"
            if kind.named_only_field:
                return (
                    f"CASE WHEN {t}.{kind.named_only_field} THEN %s "
                    f"WHEN {t}.agency_id = %s THEN %s ELSE {lookup} END",
                    [_NAMED, own, _OWNER, *shared_params],
                )
            return (
                f"CASE WHEN {t}.agency_id = %s THEN %s ELSE {lookup} END",
                [own, _OWNER, *shared_params],
            )
        probe = f"EXISTS (SELECT 1 {shared})"
        if kind.hint_field:
            probe = f"({t}.{kind.hint_field} AND {probe})"
        open_sql = f"({t}.agency_id = %s OR {probe})"
        open_params = [own, *shared_params]
        if kind.named_only_field:
            flag = f"{t}.{kind.named_only_field}"
            sql = f"(({flag} AND EXISTS (SELECT 1 {named})) OR (NOT {flag} AND {open_sql}))"
            params = [*named_params, *open_params]
        else:
            sql, params = open_sql, open_params
        if self.part == "hidden":
            return f"NOT {sql}", params
        return sql, params


def visible(actor: Actor, queryset: QuerySet[M], *, now: datetime | None = None) -> QuerySet[M]:
    """The items of `queryset` the actor may see, annotated with `access_basis`."""
    kind = _kind(queryset.model)
    now = now or timezone.now()
    return queryset.filter(  # type: ignore[return-value]
        _PolicyExpression(kind, actor, now, "allowed"), partnership_id=actor.partnership_id
    ).annotate(access_basis=_PolicyExpression(kind, actor, now, "basis"))


def held_elsewhere(
    actor: Actor, queryset: QuerySet[M], *, now: datetime | None = None
) -> QuerySet[M]:
    """Items that exist for the actor but that it may not see: the source of the flags.

    Restricted records are left out: for anyone not named they do not exist.
    """
    kind = _kind(queryset.model)
    hidden = queryset.filter(partnership_id=actor.partnership_id).filter(
        _PolicyExpression(kind, actor, now or timezone.now(), "hidden")
    )
    if kind.object_type == "record":
        hidden = hidden.exclude(restricted=True)
    return hidden


def fields_of(item: Any, access: Access) -> dict[str, Any]:
    """The item as a dict holding only the fields `access` allows."""
    return {name: getattr(item, name) for name in sorted(access.fields) if name != "withheld"}


def basis_label(basis: str) -> str:
    return str(Basis(basis).label) if basis in Basis.values else basis


__all__ = [
    "FLAG_FIELDS",
    "KINDS",
    "NOTHING",
    "WITHHELD_FIELDS",
    "Access",
    "check",
    "fields_of",
    "grants_for",
    "held_elsewhere",
    "visible",
]
