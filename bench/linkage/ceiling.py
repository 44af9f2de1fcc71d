"""The most any matcher keeping the household safeguard could reach on a dataset.

The safeguard's invariant (`accord.people.index.safeguards.conflicting`): no person
holds two identities that disagree on given name and date of birth together with no
NHS number or police identifier in common. A true pair that looks like that can never
be linked by any scorer or clustering that keeps the invariant, so the share of true
pairs that do bounds the recall of every such matcher, and so its F1 (reached at a
precision of 1). The bound may be loose: the vague-pair rules hold more pairs back, and
a cluster must be free of conflicts between every two of its records, not only those
of a true pair.

Measured twice: as the index decides, and as it would were an identifier one typo apart
(Damerau-Levenshtein at most 1) to count as one in common, the loosening ADR 0014 weighed
and rejected; were even that bound below a target, no form of the rule reaches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.linkage.data import Dataset, as_records

# The matching features' keyed hash of the first line of an address needs a key; the
# rule compares no address, so any key gives the same count.
_SECRET = b"linkage-benchmark-ceiling"


@dataclass(frozen=True)
class Ceiling:
    true_pairs: int
    forbidden: int  # true pairs the safeguard forbids in one person
    forbidden_near: int  # the same, were an identifier a typo apart to count as shared

    @staticmethod
    def _f1(recall: float) -> float:
        return 2 * recall / (1 + recall) if recall else 0.0

    def recall(self, *, near: bool = False) -> float:
        forbidden = self.forbidden_near if near else self.forbidden
        return (self.true_pairs - forbidden) / self.true_pairs if self.true_pairs else 0.0

    def f1(self, *, near: bool = False) -> float:
        """The F1 at a precision of 1 and the highest recall the rule allows."""
        return self._f1(self.recall(near=near))


def safeguard_ceiling(dataset: Dataset) -> Ceiling:
    """Count the true pairs of `dataset` that the safeguard never lets into one person."""
    from bench.linkage.matchers import _django

    _django()
    from accord.people.index.features import derive
    from accord.people.index.model import dl1
    from accord.people.index.safeguards import IDENTIFIERS, conflicting

    wanted = {record_id for pair in dataset.true_pairs for record_id in pair}
    features: dict[str, Any] = {
        record["record_id"]: derive(record, premise_secret=_SECRET)[0]
        for record in as_records(dataset.frame)
        if record["record_id"] in wanted
    }
    near = [dl1(column) for column in IDENTIFIERS]
    forbidden = forbidden_near = 0
    for a, b in dataset.true_pairs:
        left, right = features[a], features[b]
        if conflicting(left, right):
            forbidden += 1
            if not any(test(left, right) for test in near):
                forbidden_near += 1
    return Ceiling(len(dataset.true_pairs), forbidden, forbidden_near)
