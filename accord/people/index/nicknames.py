"""Common English given-name variants, for matching "Liz" with "Elizabeth".

`NICKNAMES` maps a formal given name to the short forms and spellings agencies record
for it. `canonical(name)` folds any of them to one key. Where a short form belongs
to more than one formal name ("Sam": Samuel, Samantha; "Alex"), the names share one
key, and the date of birth and gender tell them apart.
"""

from __future__ import annotations

NICKNAMES: dict[str, tuple[str, ...]] = {
    "abigail": ("abby", "abbie", "gail"),
    "alexander": ("alex", "alec", "sandy", "xander"),
    "alexandra": ("alex", "lexi", "sandra", "sasha"),
    "alfred": ("alf", "alfie", "fred"),
    "amanda": ("mandy", "manda"),
    "andrew": ("andy", "drew"),
    "anthony": ("tony", "ant"),
    "barbara": ("barb", "babs"),
    "benjamin": ("ben", "benny", "benji"),
    "bernard": ("bernie",),
    "catherine": ("cathy", "cath", "kate", "katie", "kath", "kathryn", "katherine", "kat"),
    "charles": ("charlie", "chas", "chuck"),
    "charlotte": ("lottie", "charlie", "lotte"),
    "christine": ("chris", "chrissie", "tina"),
    "christopher": ("chris", "kit"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davey", "davy"),
    "deborah": ("debbie", "debs", "deb"),
    "dorothy": ("dot", "dottie", "dolly"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "eleanor": ("ellie", "nell", "nora", "elle"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "libby", "lisa", "bess", "elisabeth"),
    "emily": ("em", "emmy", "millie"),
    "frances": ("fran", "frankie"),
    "francis": ("frank", "frankie"),
    "frederick": ("fred", "freddie", "freddy"),
    "gabriel": ("gabe",),
    "gabrielle": ("gabby", "gabi"),
    "gerald": ("gerry", "ged"),
    "gregory": ("greg",),
    "harold": ("harry", "hal"),
    "helen": ("nell", "ellen"),
    "henry": ("harry", "hal", "hank"),
    "isabel": ("izzy", "bella", "isabelle", "isobel", "belle"),
    "jacqueline": ("jackie", "jacqui"),
    "james": ("jim", "jimmy", "jamie", "jem"),
    "jennifer": ("jen", "jenny", "jenni"),
    "jessica": ("jess", "jessie"),
    "john": ("jack", "johnny", "jon"),
    "jonathan": ("jon", "jonny"),
    "joseph": ("joe", "joey"),
    "joshua": ("josh",),
    "katherine": ("kate", "katie", "kath", "kathy", "kat"),
    "kenneth": ("ken", "kenny"),
    "lawrence": ("larry", "laurie", "laurence"),
    "leonard": ("len", "lenny", "leo"),
    "margaret": ("maggie", "meg", "peggy", "madge", "margo", "marge", "greta"),
    "matthew": ("matt", "matty"),
    "michael": ("mike", "mick", "mickey", "mikey"),
    "nathan": ("nate", "nat"),
    "nicholas": ("nick", "nicky", "nic"),
    "nicola": ("nicky", "nikki", "nic"),
    "oliver": ("ollie", "olly"),
    "patricia": ("pat", "patsy", "trish", "tricia"),
    "patrick": ("pat", "paddy"),
    "peter": ("pete",),
    "rebecca": ("becky", "becca", "bex"),
    "richard": ("rich", "rick", "ricky", "dick", "richie"),
    "robert": ("rob", "bob", "bobby", "robbie", "bert"),
    "ronald": ("ron", "ronnie"),
    "samantha": ("sam", "sammy"),
    "samuel": ("sam", "sammy"),
    "sarah": ("sally", "sara", "sadie"),
    "stephen": ("steve", "steven", "stevie"),
    "susan": ("sue", "susie", "suzy"),
    "theodore": ("theo", "ted", "teddy"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "vicki", "tori"),
    "william": ("will", "bill", "billy", "liam", "willie"),
    "zachary": ("zach", "zac", "zack"),
}


def _build_canonical() -> dict[str, str]:
    """Union the names that share a variant; each group's key is its first formal name.

    "Kate" is short for Catherine and Katherine, so all three fall in one group; "Sam"
    joins Samuel and Samantha, whom the gender comparison then tells apart.
    """
    parent: dict[str, str] = {}

    def find(name: str) -> str:
        parent.setdefault(name, name)
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for formal, variants in NICKNAMES.items():
        for variant in variants:
            low, high = sorted((find(formal), find(variant)))
            parent[high] = low
    groups: dict[str, list[str]] = {}
    for name in list(parent):
        groups.setdefault(find(name), []).append(name)
    table: dict[str, str] = {}
    for members in groups.values():
        key = min(name for name in members if name in NICKNAMES)
        table.update(dict.fromkeys(members, key))
    return table


_CANONICAL = _build_canonical()


def canonical(name: str) -> str:
    """The nickname key of a folded given name ("liz" -> "elizabeth")."""
    return _CANONICAL.get(name, name)
