"""The lawful bases a new partnership starts with, from the domain facts.

Each agency is its own controller and chooses its basis; Accord records the basis
chosen, it does not decide it. A partnership may relabel, add or retire bases and
choose which need a second person's approval.
"""

from __future__ import annotations

from typing import NamedTuple


class DefaultBasis(NamedTuple):
    code: str
    label: str
    explanation: str
    requires_approval: bool = True


DEFAULT_BASES: tuple[DefaultBasis, ...] = (
    DefaultBasis(
        "public-task-safeguarding",
        "UK GDPR 6(1)(e) public task with 9(2)(g) and DPA 2018 Sch 1 para 18 (safeguarding)",
        "A public body sharing for its statutory functions to protect a child or an adult "
        "at risk, without consent because it cannot be given, cannot reasonably be obtained, "
        "or asking would prejudice the protection.",
    ),
    DefaultBasis(
        "public-task-crime",
        "UK GDPR 6(1)(e) public task with 9(2)(g) and DPA 2018 Sch 1 para 10 (unlawful acts)",
        "Sharing necessary to prevent or detect unlawful acts.",
    ),
    DefaultBasis(
        "vital-interests",
        "UK GDPR 6(1)(d) and 9(2)(c) vital interests",
        "To protect someone's life in an emergency, where no other basis fits.",
        requires_approval=False,
    ),
    DefaultBasis(
        "legal-obligation",
        "UK GDPR 6(1)(c) legal obligation",
        "A statute requires this disclosure; name the duty in the reasons.",
    ),
    DefaultBasis(
        "legitimate-interests",
        "UK GDPR 6(1)(f) legitimate interests (voluntary-sector services)",
        "For services that are not public authorities; needs a balancing test.",
    ),
    DefaultBasis(
        "recognised-interest-safeguarding",
        "UK GDPR 6(1)(ea) recognised legitimate interest: safeguarding a vulnerable individual",
        "In force from 5 February 2026; not for public authorities' own tasks.",
    ),
    DefaultBasis(
        "law-enforcement",
        "DPA 2018 Part 3 law enforcement purposes (s31, Schedule 8 for sensitive processing)",
        "A competent authority sharing for the prevention, investigation or detection of offences.",
    ),
)
