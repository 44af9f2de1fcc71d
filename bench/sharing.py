"""The access policy at ten million records: policy-filtered reads against the same reads
without the policy.

A fictional partnership of twelve agencies is generated directly in SQL (set-based
`INSERT ... SELECT generate_series`, foreign-key triggers off, secondary indexes dropped
for the load and rebuilt after it, then `VACUUM ANALYZE`): a million persons, about
1.3 million identities and addresses, ten million agency records (about 1% restricted)
and a few million access grants written as the services write them (consent to
agencies and sectors, disclosure decisions, MARAC participation, named users on the
restricted records; some withdrawn, some expired). Pseudo-random choices come from a
hash of the row number, so every run generates the same data. Encrypted columns hold
one ciphertext per column, made once with `accord.core.crypto.encrypt` for that
column's context, so every read decrypts for real.

Two reads, each with and without `policy.visible`, alternating per sample after a
warm-up pass, over many persons and actors of every agency:

- Chronology: `AgencyRecord.objects.filter(person=p).order_by("-occurred_at")[:500]`,
  evaluated in full (model instances, summary and body decrypted), for persons with a
  typical history and for persons with a long one.
- Search: a page of 20 identities by family-name prefix (the `istartswith` lookup of
  `people.selectors.people_search`, its ordering and `select_related`), and by full
  family name and date of birth.

The server's own time for each query (`EXPLAIN ANALYZE`) is measured as well, and one
`EXPLAIN (ANALYZE, BUFFERS)` of each policy query is kept for the report.

`bin/with-postgres` starts a new, empty server every time, so the data is generated on
every run (`ACCORD_BENCH_PERSONS` makes a smaller world, for trying the benchmark out).
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import random
import re
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accord.cases.models import AgencyRecord
from accord.core.crypto import encrypt
from accord.partnership.models import User
from accord.partnership.seed import AgencySpec, UserSpec, build_partnership
from accord.partnership.vocabulary import Role, Sector
from accord.people.models import Identity
from accord.sharing import policy
from accord.sharing.vocabulary import InformationCategory

SECTION = "sharing"
TITLE = "The access policy at ten million records"
TARGET = 1.5

PERSONS = int(os.environ.get("ACCORD_BENCH_PERSONS", "1000000"))
RECORDS_PER_PERSON = 10
LONG_HISTORY_EVERY = 100  # every 100th person has a long history (a fifth of all records)
PAGE = 20
CHRONOLOGY_LIMIT = 500

CHRONOLOGY_SAMPLES = 150  # persons per group, each with an actor of a different agency
SEARCH_SAMPLES = 150
PASSES = 3  # timed passes over the samples, after one untimed warm-up pass
SERVER_SAMPLES = 40  # samples per query also timed on the server (EXPLAIN ANALYZE)
SEED = 20261123

PARTNERSHIP = "Benchwater"
PASSWORD = "benchwater-fictional-password"  # a fictional partnership; nobody signs in
# (key, name, sector): two agencies share a sector, so sector grants reach both.
AGENCY_LIST = [
    ("police", "Benchwater Constabulary", Sector.POLICE),
    ("gp_north", "Northgate Surgery", Sector.PRIMARY_HEALTH),
    ("gp_south", "Southmead Surgery", Sector.PRIMARY_HEALTH),
    ("hospital", "Benchwater General Hospital", Sector.ACUTE_HEALTH),
    ("ambulance", "Benchwater Ambulance Service", Sector.AMBULANCE),
    ("housing", "Benchwater Homes", Sector.HOUSING),
    ("children", "Benchwater Children's Services", Sector.CHILDRENS_SOCIAL_CARE),
    ("adults", "Benchwater Adult Social Care", Sector.ADULT_SOCIAL_CARE),
    ("probation", "Benchwater Probation", Sector.PROBATION),
    ("refuge", "Benchwater Women's Aid", Sector.SPECIALIST_DA),
    ("recovery", "Benchwater Recovery Service", Sector.SUBSTANCE_MISUSE),
    ("mind", "Benchwater Mental Health Trust", Sector.MENTAL_HEALTH),
]
USERS_PER_AGENCY = 3
# Where a person is first known, weighted: agency indexes (0-based), repeated by weight.
FIRST_AGENCY = [0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6, 7, 8, 9, 9, 9, 10, 11]
# Sectors a consent may name besides agencies.
CONSENT_SECTORS = [Sector.SPECIALIST_DA, Sector.PRIMARY_HEALTH, Sector.MENTAL_HEALTH]
# Record categories, repeated by weight; consent and disclosure use the plain list.
RECORD_CATEGORIES = [
    "risk",
    "risk",
    "risk",
    "health",
    "health",
    "mental_health",
    "substance_use",
    "criminal_justice",
    "criminal_justice",
    "housing",
    "children",
    "children",
    "safety_plan",
    "contact_details",
    "other",
]
CATEGORIES = list(InformationCategory.values)
KINDS = [
    "incident",
    "attendance",
    "concern",
    "visit",
    "missed_appointment",
    "contact",
    "custody",
    "note",
]
# Fictional names from syllables: 20 x 6 x 12 = 1,440 family names, 18 x 10 given names.
FAMILY_1 = [
    "ash", "bram", "carr", "dal", "el", "fen", "gar", "hal", "ing", "kel",
    "lind", "mar", "nor", "orm", "pen", "quen", "ros", "stan", "thorn", "wel",
]  # fmt: skip
FAMILY_2 = ["", "a", "e", "o", "er", "in"]
FAMILY_3 = [
    "ton", "field", "wood", "by", "ford", "well", "ham", "ley", "worth", "croft", "more", "stead",
]  # fmt: skip
GIVEN_1 = [
    "al", "be", "ca", "da", "eli", "fa", "gi", "ha", "iso", "ja", "ki", "lu", "ma", "ni",
    "ro", "sa", "te", "vi",
]  # fmt: skip
GIVEN_2 = ["na", "ra", "lia", "bel", "ron", "den", "ssa", "lo", "mie", "nor"]
PREFIX_LENGTH = 6

SUMMARY = "Fictional benchmark record: contact made, safety plan reviewed."
BODY = (
    "Fictional text for the benchmark. The practitioner talked through the safety plan "
    "and agreed a date to meet again. No real person or event."
)
ADDRESS_LINES = "1 Fictional Row\nBenchwater"


def _sql_list(values: list[str]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def _pick(values: list[str], u: str) -> str:
    """SQL choosing one of `values` by the uniform number `u`."""
    return f"({_sql_list(values)})[1 + floor({u} * {len(values)})::int]"


def _u(n: str, salt: int) -> str:
    """SQL for a uniform number in [0, 1) that depends only on `n` and `salt`."""
    return f"pg_temp.u(({n})::bigint, {salt})"


# --- the generated world ----------------------------------------------------------------

HELPERS = f"""
CREATE FUNCTION pg_temp.u(n bigint, salt int) RETURNS float8 LANGUAGE sql IMMUTABLE AS
$$ SELECT (hashint8(n * 1000003 + salt) & 2147483647)::float8 / 2147483648.0 $$;
CREATE FUNCTION pg_temp.a1(n bigint) RETURNS int LANGUAGE sql IMMUTABLE AS
$$ SELECT (ARRAY{FIRST_AGENCY})[1 + floor(pg_temp.u(n, 1) * {len(FIRST_AGENCY)})::int] $$;
CREATE FUNCTION pg_temp.two(n bigint) RETURNS boolean LANGUAGE sql IMMUTABLE AS
$$ SELECT pg_temp.u(n, 3) < 0.3 $$;
CREATE FUNCTION pg_temp.a2(n bigint) RETURNS int LANGUAGE sql IMMUTABLE AS
$$ SELECT mod(pg_temp.a1(n) + 1 + floor(pg_temp.u(n, 2) * 11)::int, 12) $$;
CREATE FUNCTION pg_temp.pid(n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
$$ SELECT md5('person:' || n)::uuid $$;
"""

PERSONS_SQL = f"""
INSERT INTO people_person (id, partnership_id, created_at)
SELECT pg_temp.pid(n), %(partnership)s,
       %(now)s - {_u("n", 4)} * interval '3650 days'
FROM generate_series(1, %(persons)s) n
"""

# Every person is known to one agency; three in ten to a second one too.
IDENTITIES_SQL = f"""
INSERT INTO people_identity (id, given_names, family_name, other_names, date_of_birth,
    gender, phone, email, nhs_number, police_id, local_id, recorded_at, updated_at,
    may_be_shared, agency_id, partnership_id, recorded_by_id, person_id)
SELECT md5('identity:' || n || ':' || k)::uuid,
       initcap({_pick(GIVEN_1, _u("n", 7))} || {_pick(GIVEN_2, _u("n", 8))}),
       initcap({_pick(FAMILY_1, _u("n", 5))} || {_pick(FAMILY_2, _u("n", 6))}
               || {_pick(FAMILY_3, _u("n * 2", 6))}),
       '',
       CASE WHEN k = 2 AND {_u("n", 10)} < 0.1 THEN NULL
            ELSE date '1950-01-01' + floor({_u("n", 9)} * 21000)::int END,
       CASE WHEN {_u("n", 11)} < 0.8 THEN 'female' ELSE 'male' END,
       '', '', '', '', 'B' || n || '-' || k,
       %(now)s - {_u("n * 2 + k", 12)} * interval '1500 days',
       %(now)s - {_u("n * 2 + k", 12)} * interval '1500 days',
       false,
       (%(agencies)s::uuid[])[1 + CASE WHEN k = 1 THEN pg_temp.a1(n) ELSE pg_temp.a2(n) END],
       %(partnership)s, NULL, pg_temp.pid(n)
FROM generate_series(1, %(persons)s) n CROSS JOIN (VALUES (1), (2)) AS v (k)
WHERE k = 1 OR pg_temp.two(n)
"""

# The policy's hint on identities, as `AccessGrant.objects.write` keeps it: true where a
# grant other than a named one covers the agency's contact details about the person.
HINTS_SQL = """
UPDATE people_identity i SET may_be_shared = true
WHERE EXISTS (SELECT 1 FROM sharing_accessgrant g
              WHERE g.person_id = i.person_id AND g.holder_agency_id = i.agency_id
                AND g.category = 'contact_details' AND g.basis <> 'named')
"""

# One address per identity, 1% of them confidential (no searchable postcode).
ADDRESSES_SQL = f"""
INSERT INTO people_address (id, lines, postcode, postcode_sealed, confidential, is_current,
    recorded_at, agency_id, partnership_id, recorded_by_id, identity_id, person_id)
SELECT md5('address:' || n || ':' || k)::uuid, %(lines)s,
       CASE WHEN c THEN '' ELSE 'ZX' || (1 + floor({_u("n", 13)} * 40)::int) || ' '
            || floor({_u("n", 14)} * 10)::int || chr(65 + floor({_u("n", 15)} * 26)::int)
            || chr(65 + floor({_u("n", 16)} * 26)::int) END,
       %(sealed)s, c, true, %(now)s - {_u("n * 2 + k", 12)} * interval '1500 days',
       (%(agencies)s::uuid[])[1 + CASE WHEN k = 1 THEN pg_temp.a1(n) ELSE pg_temp.a2(n) END],
       %(partnership)s, NULL, md5('identity:' || n || ':' || k)::uuid, pg_temp.pid(n)
FROM generate_series(1, %(persons)s) n CROSS JOIN (VALUES (1), (2)) AS v (k)
CROSS JOIN LATERAL (SELECT {_u("n * 2 + k", 17)} < 0.01 AS c) AS confidential
WHERE k = 1 OR pg_temp.two(n)
"""

# Four fifths of the records fall evenly on all persons; one fifth on every 100th person,
# who so has a long history (about 200 records). Most records come from an agency that
# knows the person; 1% are restricted.
RECORDS_SQL = f"""
INSERT INTO cases_agencyrecord (id, kind, category, occurred_at, summary, body, recorded_at,
    version, restricted, agency_id, author_id, partnership_id, person_id)
SELECT md5('record:' || i)::uuid,
       {_pick(KINDS, _u("i", 20))},
       {_pick(RECORD_CATEGORIES, _u("i", 21))},
       t, %(summary)s, %(body)s, t + {_u("i", 22)} * interval '3 days', 1,
       {_u("i", 23)} < 0.01,
       (%(agencies)s::uuid[])[1 + a],
       (%(users)s::uuid[])[1 + a * {USERS_PER_AGENCY}
                           + floor({_u("i", 24)} * {USERS_PER_AGENCY})::int],
       %(partnership)s, pg_temp.pid(p)
FROM generate_series(1, %(records)s) i
CROSS JOIN LATERAL (SELECT
    CASE WHEN {_u("i", 25)} < 0.2
         THEN {LONG_HISTORY_EVERY} * (1 + floor({_u("i", 26)}
                                                * (%(persons)s / {LONG_HISTORY_EVERY}))::bigint)
         ELSE 1 + floor({_u("i", 26)} * %(persons)s)::bigint END AS p,
    %(now)s - {_u("i", 27)} * interval '3650 days' AS t) AS who
CROSS JOIN LATERAL (SELECT
    CASE WHEN {_u("i", 28)} < 0.7 THEN pg_temp.a1(p)
         WHEN {_u("i", 28)} < 0.85 AND pg_temp.two(p) THEN pg_temp.a2(p)
         ELSE floor({_u("i", 29)} * 12)::int END AS a) AS holder
"""

_GRANT_COLUMNS = """(recipient_sector, category, item_id, basis, lawful_basis, purposes,
    source_type, source_id, valid_from, valid_until, ended_at, holder_agency_id,
    partnership_id, person_id, recipient_agency_id, recipient_user_id)"""

# Consent, as `consent_record` writes it: one grant per recipient (2-4 agencies, and a
# sector for three consents in ten) and category (2-4). One person in five gave consent
# to the agency that first knew her; some of those with a second agency gave it there too.
# One consent in ten is withdrawn (ended), some expire, some have expired.
CONSENT_SQL = f"""
WITH consent AS MATERIALIZED (
    SELECT n, c, CASE WHEN c = 1 THEN pg_temp.a1(n) ELSE pg_temp.a2(n) END AS holder,
           2 + floor({_u("n * 2 + c", 30)} * 3)::int AS agencies,
           2 + floor({_u("n * 2 + c", 31)} * 3)::int AS categories,
           floor({_u("n * 2 + c", 32)} * 8)::int AS skip,
           floor({_u("n * 2 + c", 33)} * {len(CATEGORIES)})::int AS first_category,
           {_u("n * 2 + c", 34)} < 0.3 AS to_sector,
           {_pick([str(s) for s in CONSENT_SECTORS], _u("n * 2 + c", 35))} AS sector,
           %(now)s - {_u("n * 2 + c", 36)} * interval '900 days' AS starts,
           {_u("n * 2 + c", 37)} AS expiry,
           {_u("n * 2 + c", 38)} < 0.1 AS withdrawn
    FROM generate_series(1, %(persons)s) n CROSS JOIN (VALUES (1), (2)) AS v (c)
    WHERE (c = 1 AND {_u("n", 39)} < 0.2) OR (c = 2 AND pg_temp.two(n) AND {_u("n", 40)} < 0.15)
)
INSERT INTO sharing_accessgrant {_GRANT_COLUMNS}
SELECT CASE WHEN r = 0 THEN sector ELSE '' END,
       (%(categories)s::text[])[1 + mod(first_category + q, {len(CATEGORIES)})],
       NULL, 'consent', '', '["safety_planning"]'::jsonb, 'consent',
       md5('consent:' || n || ':' || c)::uuid, starts,
       CASE WHEN expiry < 0.3 THEN starts + expiry * interval '3000 days' END,
       CASE WHEN withdrawn THEN starts + interval '60 days' END,
       (%(agencies)s::uuid[])[1 + holder], %(partnership)s, pg_temp.pid(n),
       CASE WHEN r > 0 THEN (%(agencies)s::uuid[])[1 + mod(holder + skip + r, 12)] END, NULL
FROM consent CROSS JOIN generate_series(0, 4) r CROSS JOIN generate_series(0, 3) q
WHERE (r = 0 AND to_sector OR r BETWEEN 1 AND agencies) AND q < categories
"""

# Disclosure decisions without consent, for 3% of persons: one recipient agency,
# 1-3 categories, most for a limited time; one in twenty revoked.
DISCLOSURE_SQL = f"""
WITH decision AS MATERIALIZED (
    SELECT n, pg_temp.a1(n) AS holder,
           mod(pg_temp.a1(n) + 1 + floor({_u("n", 50)} * 11)::int, 12) AS recipient,
           1 + floor({_u("n", 51)} * 3)::int AS categories,
           floor({_u("n", 52)} * {len(CATEGORIES)})::int AS first_category,
           %(now)s - {_u("n", 53)} * interval '600 days' AS starts,
           {_u("n", 54)} AS expiry, {_u("n", 55)} < 0.05 AS revoked
    FROM generate_series(1, %(persons)s) n WHERE {_u("n", 56)} < 0.03
)
INSERT INTO sharing_accessgrant {_GRANT_COLUMNS}
SELECT '', (%(categories)s::text[])[1 + mod(first_category + q, {len(CATEGORIES)})],
       NULL, 'disclosure', 'safeguarding-individuals', '["safety_planning"]'::jsonb,
       'disclosure_decision', md5('decision:' || n)::uuid, starts,
       CASE WHEN expiry < 0.8 THEN starts + expiry * interval '900 days' END,
       CASE WHEN revoked THEN starts + interval '30 days' END,
       (%(agencies)s::uuid[])[1 + holder], %(partnership)s, pg_temp.pid(n),
       (%(agencies)s::uuid[])[1 + recipient], NULL
FROM decision CROSS JOIN generate_series(0, 2) q WHERE q < categories
"""

# MARAC participation, for 1% of persons: each agency that knows her shares risk and
# safety-plan information with every other agency, for six months from the meeting.
MARAC_SQL = f"""
WITH meeting AS MATERIALIZED (
    SELECT n, %(now)s - {_u("n", 60)} * interval '720 days' AS held
    FROM generate_series(1, %(persons)s) n WHERE {_u("n", 61)} < 0.01
)
INSERT INTO sharing_accessgrant {_GRANT_COLUMNS}
SELECT '', category, NULL, 'marac', '', '["marac"]'::jsonb, 'marac_case',
       md5('marac:' || n)::uuid, held, held + interval '180 days', NULL,
       (%(agencies)s::uuid[])[1 + holder], %(partnership)s, pg_temp.pid(n),
       (%(agencies)s::uuid[])[1 + mod(holder + r, 12)], NULL
FROM meeting
CROSS JOIN LATERAL (VALUES (pg_temp.a1(n)), (CASE WHEN pg_temp.two(n) THEN pg_temp.a2(n) END))
    AS h (holder)
CROSS JOIN generate_series(1, 11) r
CROSS JOIN (VALUES ('risk'), ('safety_plan')) AS c (category)
WHERE holder IS NOT NULL
"""

# Grants on single records: the named users of every restricted record (its author, and
# for half of them a colleague), and disclosure decisions about single records (0.3%).
ITEMS_SQL = f"""
INSERT INTO sharing_accessgrant {_GRANT_COLUMNS}
SELECT '', r.category, r.id,
       CASE WHEN r.restricted THEN 'named' ELSE 'disclosure' END,
       CASE WHEN r.restricted THEN '' ELSE 'safeguarding-individuals' END, '[]'::jsonb,
       CASE WHEN r.restricted THEN 'record' ELSE 'disclosure_decision' END,
       r.id, r.recorded_at, NULL, NULL, r.agency_id, r.partnership_id, r.person_id,
       CASE WHEN r.restricted THEN NULL
            ELSE (%(agencies)s::uuid[])[1 + (uuid_hash(r.id) & 1023) %% 12] END,
       CASE WHEN NOT r.restricted THEN NULL
            WHEN k = 1 THEN r.author_id
            ELSE (%(users)s::uuid[])[1 + array_position(%(agencies)s::uuid[], r.agency_id)
                                       * {USERS_PER_AGENCY} - 1 - (uuid_hash(r.id) & 1)] END
FROM cases_agencyrecord r CROSS JOIN (VALUES (1), (2)) AS v (k)
WHERE (r.restricted AND (k = 1 OR (uuid_hash(r.id) & 2) = 0))
   OR (NOT r.restricted AND k = 1 AND (uuid_hash(r.id) >> 8 & 1023) < 3)
"""

TABLES = [
    "people_person",
    "people_identity",
    "people_address",
    "cases_agencyrecord",
    "sharing_accessgrant",
]


@dataclass
class World:
    """What was generated, and how long it took."""

    partnership_id: Any
    actors: list[User]
    stages: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, str] = field(default_factory=dict)
    grants_by_basis: dict[str, int] = field(default_factory=dict)
    live_grants: int = 0
    seconds: float = 0.0


def _agency_specs() -> list[AgencySpec]:
    specs = []
    for key, name, sector in AGENCY_LIST:
        users = tuple(
            UserSpec(f"benchwater_{key}_{n}", f"{name} Worker {n}", Role.PRACTITIONER)
            for n in range(1, USERS_PER_AGENCY + 1)
        )
        specs.append(AgencySpec(key, name, sector, users))
    return specs


def _execute(cursor: Any, sql: str, params: dict[str, Any] | None = None) -> int:
    cursor.execute(sql, params)
    return int(cursor.rowcount)


def generate() -> World:
    """Create the partnership through the seed, then everything else in set-based SQL."""
    began = time.perf_counter()
    partnership, agencies, users = build_partnership(
        PARTNERSHIP, _agency_specs(), password=PASSWORD
    )
    agency_ids = [agencies[key].id for key, _, _ in AGENCY_LIST]
    user_ids = [
        users[f"benchwater_{key}_{n}"].id
        for key, _, _ in AGENCY_LIST
        for n in range(1, USERS_PER_AGENCY + 1)
    ]
    actors = list(User.objects.select_related("agency").filter(id__in=user_ids).order_by("id"))
    world = World(partnership.id, actors)
    params = {
        "partnership": partnership.id,
        "agencies": agency_ids,
        "users": user_ids,
        "persons": PERSONS,
        "records": PERSONS * RECORDS_PER_PERSON,
        "now": timezone.now(),
        "categories": CATEGORIES,
        "summary": encrypt(SUMMARY, context="cases_agencyrecord.summary"),
        "body": encrypt(BODY, context="cases_agencyrecord.body"),
        "lines": encrypt(ADDRESS_LINES, context="people_address.lines"),
        "sealed": encrypt("", context="people_address.postcode_sealed"),
    }
    with connection.cursor() as cursor:
        for setting in (
            "session_replication_role = replica",  # no foreign-key triggers for the load
            "maintenance_work_mem = '1GB'",
            "work_mem = '256MB'",
            "max_parallel_maintenance_workers = 0",
            "max_parallel_workers_per_gather = 0",
        ):
            cursor.execute(f"SET {setting}")
        cursor.execute("ALTER SYSTEM SET max_wal_size = '8GB'")
        cursor.execute("SELECT pg_reload_conf()")
        cursor.execute(HELPERS)
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) AND "
            "indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
            [TABLES],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')

        def stage(name: str, sql: str) -> None:
            t = time.perf_counter()
            count = _execute(cursor, sql, params)
            world.stages[name] = time.perf_counter() - t
            print(f"  {name}: {count} rows in {world.stages[name]:.1f} s", flush=True)

        stage("persons", PERSONS_SQL)
        stage("identities", IDENTITIES_SQL)
        stage("addresses", ADDRESSES_SQL)
        stage("records", RECORDS_SQL)
        stage("consent grants", CONSENT_SQL)
        stage("disclosure grants", DISCLOSURE_SQL)
        stage("MARAC grants", MARAC_SQL)
        stage("named and single-record grants", ITEMS_SQL)
        stage("identity hints", HINTS_SQL)

        t = time.perf_counter()
        for _, definition in indexes:
            cursor.execute(definition)
        world.stages["secondary indexes"] = time.perf_counter() - t
        print(f"  {len(indexes)} secondary indexes in {world.stages['secondary indexes']:.1f} s")
        t = time.perf_counter()
        for table in TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        world.stages["vacuum analyze"] = time.perf_counter() - t
        print(f"  VACUUM ANALYZE in {world.stages['vacuum analyze']:.1f} s", flush=True)
        cursor.execute("SET session_replication_role = DEFAULT")
        for setting in ("maintenance_work_mem", "work_mem", "max_parallel_maintenance_workers"):
            cursor.execute(f"RESET {setting}")
        cursor.execute("RESET max_parallel_workers_per_gather")

        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            world.rows[table] = int(cursor.fetchone()[0])
            cursor.execute(
                "SELECT pg_size_pretty(pg_table_size(%s)), pg_size_pretty(pg_indexes_size(%s))",
                [table, table],
            )
            heap, index = cursor.fetchone()
            world.sizes[table] = f"{heap} table, {index} indexes"
        cursor.execute("SELECT basis, count(*) FROM sharing_accessgrant GROUP BY basis")
        world.grants_by_basis = {str(b): int(c) for b, c in cursor.fetchall()}
        cursor.execute(
            "SELECT count(*) FROM sharing_accessgrant WHERE ended_at IS NULL AND valid_from <= "
            "now() AND (valid_until IS NULL OR valid_until > now())"
        )
        world.live_grants = int(cursor.fetchone()[0])
    world.seconds = time.perf_counter() - began
    return world


# --- the reads under test ---------------------------------------------------------------


def person_id(n: int) -> uuid.UUID:
    """The id the generator gave person number n."""
    return uuid.UUID(hashlib.md5(f"person:{n}".encode()).hexdigest())


def chronology(person: uuid.UUID, actor: User | None) -> QuerySet[AgencyRecord]:
    records = AgencyRecord.objects.filter(person_id=person)
    if actor is not None:
        records = policy.visible(actor, records)
    return records.order_by("-occurred_at")[:CHRONOLOGY_LIMIT]


def search(name: str, born: datetime.date | None, actor: User | None) -> QuerySet[Identity]:
    """A page of `people_search`: its family-name lookup, ordering and `select_related`."""
    identities = Identity.objects.all()
    if actor is not None:
        identities = policy.visible(actor, identities)
    identities = identities.filter(family_name__istartswith=name)
    if born is not None:
        identities = identities.filter(date_of_birth=born)
    return identities.select_related("agency").order_by("family_name", "given_names", "id")[:PAGE]


def _read_records(queryset: QuerySet[AgencyRecord]) -> int:
    rows = list(queryset)  # summary and body are decrypted as each row is read
    return sum(1 for r in rows if r.summary and r.body)


def _read_identities(queryset: QuerySet[Identity]) -> int:
    return sum(1 for i in queryset if i.agency.name)


@dataclass(frozen=True)
class Latency:
    count: int
    median_us: float
    p95_us: float

    @classmethod
    def of(cls, samples_us: list[float]) -> Latency:
        p95 = statistics.quantiles(samples_us, n=20, method="inclusive")[18]
        return cls(len(samples_us), statistics.median(samples_us), p95)


@dataclass(frozen=True)
class Pair:
    """One read without and with the policy, over the same samples."""

    name: str
    samples: int
    plain: Latency
    policy: Latency
    plain_rows: float  # median rows returned
    policy_rows: float
    server_plain: Latency  # EXPLAIN ANALYZE: planning and execution on the server
    server_policy: Latency
    build_plain: float = 0.0  # median microseconds to build the queryset and compile its SQL
    build_policy: float = 0.0
    matched: float = 0.0  # search: median identities matching the name (and date of birth)

    @property
    def ratio(self) -> float:
        return self.policy.median_us / self.plain.median_us

    @property
    def server_ratio(self) -> float:
        return self.server_policy.median_us / self.server_plain.median_us


Query = Callable[[Any, User | None], QuerySet[Any]]


def _server_us(queryset: QuerySet[Any]) -> float:
    plan = json.loads(queryset.explain(format="json", analyze=True))[0]
    return float(plan["Planning Time"] + plan["Execution Time"]) * 1000


def _measure(
    name: str,
    samples: list[tuple[Any, User]],
    query: Query,
    read: Callable[[QuerySet[Any]], int],
) -> Pair:
    clock = time.perf_counter_ns
    times: dict[bool, list[float]] = {False: [], True: []}
    rows: dict[bool, list[int]] = {False: [], True: []}
    for key, actor in samples:  # warm-up
        read(query(key, None))
        read(query(key, actor))
    for round_ in range(PASSES):
        for j, (key, actor) in enumerate(samples):
            order = (False, True) if (j + round_) % 2 == 0 else (True, False)
            for with_policy in order:
                began = clock()
                count = read(query(key, actor if with_policy else None))
                times[with_policy].append((clock() - began) / 1000)
                if round_ == 0:
                    rows[with_policy].append(count)
    server: dict[bool, list[float]] = {False: [], True: []}
    build: dict[bool, list[float]] = {False: [], True: []}
    for j, (key, actor) in enumerate(samples[:SERVER_SAMPLES]):
        for with_policy in (False, True) if j % 2 == 0 else (True, False):
            server[with_policy].append(_server_us(query(key, actor if with_policy else None)))
            began = clock()
            query(key, actor if with_policy else None).query.sql_with_params()
            build[with_policy].append((clock() - began) / 1000)
    return Pair(
        name,
        len(samples),
        Latency.of(times[False]),
        Latency.of(times[True]),
        statistics.median(rows[False]),
        statistics.median(rows[True]),
        Latency.of(server[False]),
        Latency.of(server[True]),
        statistics.median(build[False]),
        statistics.median(build[True]),
    )


_NODE = re.compile(
    r"^(\s*)(->\s*)?([A-Z][A-Za-z ]+?(?: using \S+ on \S+| on \S+)?(?: \S+)?)"
    r"\s+\(cost=[^)]*\)\s*(\(actual[^)]*\))?"
)
_DETAIL = re.compile(
    r"^\s*(Index Cond|Filter|Buffers|Rows Removed by Filter|Sort Method|SubPlan \d+|"
    r"Heap Fetches|Recheck Cond|Hash Cond|One-Time Filter|Join Filter):?"
)


def _short_plan(text: str, width: int = 150) -> str:
    """The plan's nodes and the conditions that matter: costs dropped, subplans that never
    ran left out, long lines cut."""
    out: list[str] = []
    skip_deeper_than: int | None = None
    for line in text.splitlines():
        depth = len(line) - len(line.lstrip())
        if skip_deeper_than is not None:
            if depth > skip_deeper_than:
                continue
            skip_deeper_than = None
        node = _NODE.match(line)
        if node:
            indent, arrow, what, actual = node.groups()
            if not actual:  # never executed: for the other branch of a CASE or OR
                skip_deeper_than = depth
                if out and out[-1].strip().startswith("SubPlan"):
                    out.pop()
                continue
            out.append(f"{indent}{arrow or ''}{what} {actual}".rstrip())
        elif (_DETAIL.match(line) or line.startswith(("Planning", "Execution"))) and (
            "Sort Method" not in line
        ):
            out.append(line.rstrip())
    return "\n".join(s if len(s) <= width else s[: width - 3] + "..." for s in out)


def _plan(queryset: QuerySet[Any]) -> str:
    return _short_plan(queryset.explain(analyze=True, buffers=True))


@dataclass
class Result:
    world: World
    pairs: list[Pair]
    plans: dict[str, str]
    seconds: float

    @property
    def met(self) -> bool:
        return all(p.ratio <= TARGET for p in self.pairs)


def _knowing(person: uuid.UUID, actors: list[User], rng: random.Random) -> User:
    """A user of an agency that knows the person: it holds an identity for her or was
    granted something about her. Only such users can open her page (`person_get_for`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT agency_id FROM people_identity WHERE person_id = %s UNION "
            "SELECT recipient_agency_id FROM sharing_accessgrant WHERE person_id = %s "
            "AND recipient_agency_id IS NOT NULL AND ended_at IS NULL",
            [person, person],
        )
        agencies = sorted(str(row[0]) for row in cursor.fetchall())
    chosen = rng.choice(agencies)
    return rng.choice([a for a in actors if str(a.agency_id) == chosen])


def _samples(rng: random.Random, world: World) -> dict[str, list[tuple[Any, User]]]:
    actors = sorted(world.actors, key=lambda a: a.username)
    typical = [n for n in rng.sample(range(1, PERSONS + 1), CHRONOLOGY_SAMPLES * 2)]
    typical = [n for n in typical if n % LONG_HISTORY_EVERY][:CHRONOLOGY_SAMPLES]
    long = [
        n * LONG_HISTORY_EVERY
        for n in rng.sample(range(1, PERSONS // LONG_HISTORY_EVERY + 1), CHRONOLOGY_SAMPLES)
    ]
    names: list[tuple[str, datetime.date | None]] = []
    for n in rng.sample(range(1, PERSONS + 1), SEARCH_SAMPLES):
        key = uuid.UUID(hashlib.md5(f"identity:{n}:1".encode()).hexdigest())
        identity = Identity.objects.get(id=key)
        names.append((identity.family_name, identity.date_of_birth))
    searchers = [actors[j % len(actors)] for j in range(SEARCH_SAMPLES)]
    rng.shuffle(searchers)
    return {
        "chronology, typical history": [
            (person_id(n), _knowing(person_id(n), actors, rng)) for n in typical
        ],
        "chronology, long history": [
            (person_id(n), _knowing(person_id(n), actors, rng)) for n in long
        ],
        "search, family-name prefix": [
            ((family[:PREFIX_LENGTH], None), searchers[j]) for j, (family, _) in enumerate(names)
        ],
        "search, family name and date of birth": [
            ((family, born), searchers[j]) for j, (family, born) in enumerate(names)
        ],
    }


def _matched(key: tuple[str, datetime.date | None]) -> int:
    name, born = key
    identities = Identity.objects.filter(family_name__istartswith=name)
    if born is not None:
        identities = identities.filter(date_of_birth=born)
    return identities.count()


def run() -> Result:
    began = time.perf_counter()
    print(
        f"Generating {PERSONS} persons and {PERSONS * RECORDS_PER_PERSON} records ...", flush=True
    )
    world = generate()
    rng = random.Random(SEED)
    samples = _samples(rng, world)

    def chronology_query(key: Any, actor: User | None) -> QuerySet[Any]:
        return chronology(key, actor)

    def search_query(key: Any, actor: User | None) -> QuerySet[Any]:
        return search(key[0], key[1], actor)

    pairs = []
    plans: dict[str, str] = {}
    for name, group in samples.items():
        is_search = name.startswith("search")
        query = search_query if is_search else chronology_query
        read = _read_identities if is_search else _read_records
        pair = _measure(name, group, query, read)
        if is_search:
            pair = dataclasses.replace(
                pair, matched=statistics.median(_matched(key) for key, _ in group)
            )
        pairs.append(pair)
        print(f"  {name}: {pair.ratio:.2f}x", flush=True)
        key, actor = group[len(group) // 2]
        plans[name] = _plan(query(key, actor))
        plans[name + ", without the policy"] = _plan(query(key, None))
    return Result(world, pairs, plans, time.perf_counter() - began)


# --- the report -------------------------------------------------------------------------


def _ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.2f} ms"


def _rows(value: float) -> str:
    return f"{value:.0f}" if value == int(value) else f"{value:.1f}"


def table(result: Result) -> str:
    """A short plain-text table for the terminal."""
    head = f"{'':40}{'without':>11}{'with':>11}{'ratio':>8}{'server':>8}{'rows':>12}"
    lines = [f"{TITLE} (target <= {TARGET}x)", head]
    for p in result.pairs:
        lines.append(
            f"{p.name:40}{_ms(p.plain.median_us):>11}{_ms(p.policy.median_us):>11}"
            f"{p.ratio:>7.2f}x{p.server_ratio:>7.2f}x"
            f"{_rows(p.plain_rows) + ' / ' + _rows(p.policy_rows):>12}"
        )
    lines.append("met" if result.met else "MISSED for some reads")
    return "\n".join(lines)


_INDEX = re.compile(r"(?:using|Index Scan on|Index Only Scan on|Bitmap Index Scan on) (\w+)")
_NODES = ("Index Only Scan", "Bitmap Heap Scan", "Seq Scan", "Semi Join", "Anti Join", "SubPlan")


def features(plan: str) -> str:
    """The indexes a plan used and the node kinds worth naming."""
    indexes = sorted(set(_INDEX.findall(plan)))
    nodes = [kind for kind in _NODES if kind in plan]
    parts = []
    if indexes:
        parts.append("indexes " + ", ".join(f"`{name}`" for name in indexes))
    if nodes:
        parts.append("nodes " + ", ".join(nodes))
    return "; ".join(parts) or "no index"


def _data_lines(world: World) -> list[str]:
    w = world
    lines = [
        "| table | rows | size |",
        "|---|---:|---|",
        *(f"| `{t}` | {w.rows[t]:,} | {w.sizes[t]} |" for t in TABLES),
        "",
        f"{len(AGENCY_LIST)} agencies ({len({s for _, _, s in AGENCY_LIST})} sectors; two GP "
        f"practices share one), {len(w.actors)} users. Grants by basis: "
        + ", ".join(f"{b} {c:,}" for b, c in sorted(w.grants_by_basis.items()))
        + f"; {w.live_grants:,} of them live (not ended, not expired) when generated. "
        "One person in five gave consent to 2-4 agencies (and, three times in ten, a "
        "sector) for 2-4 categories; one in ten consents is withdrawn and some have "
        "expired. 3% of persons have a disclosure decision, 1% a MARAC case (each agency "
        "that knows her shares risk and safety plan with the eleven others); every "
        "restricted record has one or two named users. Every 100th person has a long "
        "history (about 200 records); the rest have about 8.",
        "",
        f"Generated in **{w.seconds:.0f} s**, one connection, set-based SQL: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in w.stages.items())
        + ". `bin/with-postgres` starts a new, empty server for every run, so there is "
        "no generated database to keep between runs: it is generated every time.",
    ]
    return lines


def markdown(result: Result, *, date: str, machine: dict[str, str]) -> str:
    """The section of RESULTS.md for this benchmark."""
    lines = [
        f"## {TITLE}",
        "",
        f"Measured {date} in {result.seconds:.0f} s (generation included). Written by "
        "`make bench`; do not edit by hand.",
        "",
        "Each read is run with `policy.visible(actor, ...)` and without it, on the same "
        "samples: different persons, each with a user of a different agency as the actor "
        f"(all {len(result.world.actors)} users take turns). One untimed warm-up pass, then "
        f"{PASSES} timed passes, the two variants alternating first and second; the time is "
        "the whole evaluation in Django: SQL, model instances and, for the chronology, "
        "summary and body decrypted. The server column is `EXPLAIN ANALYZE` (planning and "
        f"execution) of the same queries, median of {SERVER_SAMPLES} samples each.",
        "",
        "- Chronology: `AgencyRecord.objects.filter(person=p).order_by('-occurred_at')"
        f"[:{CHRONOLOGY_LIMIT}]`, for persons with a typical and with a long history.",
        f"- Search: a page of {PAGE} identities, `family_name__istartswith` as in "
        "`people.selectors.people_search`, with its ordering (`family_name`, `given_names`, "
        "`id`) and `select_related('agency')`: by the first "
        f"{PREFIX_LENGTH} letters of a family name, and by a full family name and date of "
        "birth.",
        "",
        "### Machine",
        "",
        *(f"- {name}: {value}" for name, value in machine.items()),
        "",
        "### Data",
        "",
        *_data_lines(result.world),
        "",
        "### Result",
        "",
        "| read | samples | rows without / with | median without | median with | "
        "p95 without | p95 with | ratio | on the server, without / with | building the "
        "query, without / with |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in result.pairs:
        lines.append(
            f"| {p.name} | {p.plain.count} | {_rows(p.plain_rows)} / {_rows(p.policy_rows)} | "
            f"{_ms(p.plain.median_us)} | {_ms(p.policy.median_us)} | {_ms(p.plain.p95_us)} | "
            f"{_ms(p.policy.p95_us)} | **{p.ratio:.2f}x** | {_ms(p.server_plain.median_us)} / "
            f"{_ms(p.server_policy.median_us)} ({p.server_ratio:.2f}x) | "
            f"{_ms(p.build_plain)} / {_ms(p.build_policy)} |"
        )
    lines += ["", f"Ratio: median with the policy / median without; target ≤ {TARGET}x.", ""]
    for p in result.pairs:
        if p.ratio <= TARGET:
            lines.append(f"- {p.name}: **target met** ({p.ratio:.2f}x).")
        else:
            lines.append(
                f"- {p.name}: **target missed** by {p.ratio - TARGET:.2f} "
                f"({p.ratio:.2f}x against ≤ {TARGET}x)."
            )
        if p.matched:
            lines[-1] += f" Median identities matching the name: {_rows(p.matched)}."
    lines += ["", *_why(result), "", "### Plans relied on", ""]
    for p in result.pairs:
        plan = result.plans[p.name]
        plain = result.plans[p.name + ", without the policy"]
        lines += [
            f"{p.name}, with the policy: {features(plan)}. Without: {features(plain)}.",
            "",
            "```",
            plan,
            "```",
            "",
        ]
    lines += PLAN_NOTES
    if machine.get("PostgreSQL durability", "").startswith("fsync=off"):
        lines += [
            "",
            "The benchmark server runs without durable commits; these are reads, so that "
            "only makes the generation faster.",
        ]
    return "\n".join(lines) + "\n"


def _why(result: Result) -> list[str]:
    """Where the extra time goes, from this run's numbers."""
    lines = ["Where the extra time goes, per read (median, with the policy minus without):", ""]
    for p in result.pairs:
        extra = p.policy.median_us - p.plain.median_us
        build = p.build_policy - p.build_plain
        server = p.server_policy.median_us - p.server_plain.median_us
        lines.append(
            f"- {p.name}: {_ms(extra)} in all; building `policy.visible(...)` and compiling "
            f"its SQL {_ms(build)}, planning and execution on the server {_ms(server)}; "
            f"{_rows(p.policy_rows)} rows returned instead of {_rows(p.plain_rows)}."
        )
    lines += ["", *WHY]
    return lines


WHY = [
    "The policy's filter adds `partnership_id = ...`, `agency_id = <own> OR EXISTS(shared "
    "grant)` (and, for records, `restricted AND EXISTS(named grant)`; for identities, "
    "`may_be_shared AND EXISTS(...)`), plus one `CASE` annotation (`access_basis`) whose "
    "correlated subquery runs only for other agencies' rows that pass. It is one "
    "hand-built SQL expression (see `accord/sharing/policy.py`): an earlier version "
    "composed it from Django's Exists/Case/Subquery objects, and building and compiling "
    "those cost about 8 ms of Python per call — more than the query — which put a "
    "typical chronology at 6x.",
    "",
    "Both variants run as the application runs them: parameters bound on the server and "
    "each statement prepared once the connection has run it twice "
    "(`DATABASE_PREPARED_STATEMENTS`, on by default), so neither is planned again. The "
    "server column above is `EXPLAIN ANALYZE`, which plans every time: it shows the cost "
    "of planning the policy's larger statement (about 0.4 ms for a chronology), which the "
    "prepared statement no longer pays. Without prepared statements the typical "
    "chronology measured 1.68x here (previous run, same data).",
    "",
    "For the search by prefix, the `EXISTS` would be evaluated for every matching "
    "identity of another agency (a median of about 900) before the top-N sort picks the "
    "page: 2.01x in the previous run. `Identity.may_be_shared` (true once any grant "
    "other than a named one has covered that agency's contact details about her, never "
    "cleared; `people/migrations/0003_identity_may_be_shared.py`) is read from the row "
    "the search fetches anyway, and the probe runs only where it is true, which is where "
    "a grant could make the identity visible (ADR 0012). The grants alone decide; the "
    "property test holds the filter, hint included, to the check.",
    "",
    "The probe is covered: `grant_person_holder_idx` carries `INCLUDE (recipient_agency_id, "
    "recipient_sector, recipient_user_id, basis, item_id, valid_from, valid_until)` "
    "(`sharing/migrations/0003_covering_grant_index.py`), so the `EXISTS` is an `Index "
    "Only Scan` that reads no grant rows from the heap. What remains is mostly Python: "
    "building `policy.visible(...)` and compiling its SQL (about 0.35 ms a read).",
]

PLAN_NOTES = [
    "Plans relied on, in short:",
    "",
    "- Chronology: `Index Scan Backward using record_person_time_idx` on `(person_id, "
    "occurred_at)` gives the order and the `LIMIT` without a sort, with or without the "
    "policy; the policy's conditions are a `Filter` on that scan, and each `EXISTS` is a "
    "`SubPlan` probing `grant_person_holder_idx` with `Index Cond: person_id = "
    "record.person_id AND holder_agency_id = record.agency_id` (partial index, `ended_at "
    "IS NULL`), the recipient, validity and category checked on the few grant rows found. "
    "Own-agency records skip the probe (`agency_id = <own> OR ...` is tested first); the "
    "`access_basis` subplan runs only for other agencies' rows that pass.",
    "- Search: `identity_family_prefix_idx`, `(UPPER(family_name) text_pattern_ops, "
    "date_of_birth)`, added by `people/migrations/0002_search_indexes.py`: `istartswith` "
    "becomes `Index Cond: upper(family_name) ~>=~ 'PREFIX' AND ~<~ 'PREFIY'` (and "
    "`date_of_birth = ...` in the same index), then a top-N sort of the matches for the "
    "page. The collation is not C, so only the pattern operator class can serve the "
    "`LIKE`. The policy's `EXISTS` is again a `SubPlan` on `grant_person_holder_idx`, "
    "evaluated for the matching identities of other agencies.",
    "- The migration drops `identity_family_name_idx` on `(partnership_id, family_name)`. "
    "No `istartswith` can use it, but it has the search's order: with the policy's "
    "`partnership_id = ...`, the planner chose to walk it in order under an `Incremental "
    "Sort` and filter every row, expecting to stop after 20 matches. It could not stop "
    "(filtered rows never end a sort group), so it read all 1.3 million identities: "
    "about 1.1 s for a page, 100x the same search without the policy, in a trial run of "
    "this benchmark before the index was dropped.",
]
