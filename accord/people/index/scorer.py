"""The trained model's score for a pair, in Python, for the online path.

This is Splink's prediction, term-frequency adjustments included, written out: for
each comparison the first level whose test holds gives its weight log2(m/u); a
term-frequency level adds log2(u_exact) - log2(max(tf_left, tf_right)); the prior's
weight and the comparisons' weights sum to the match weight, and the probability is
2^w / (1 + 2^w). `tests/people/index/test_scorer.py` holds it to Splink to 1e-6.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from accord.people.index.features import Features
from accord.people.index.model import COMPARISONS, Model

# A term's frequency: its share of the non-missing values of its column, or None
# when unknown (then no adjustment is made, as in Splink).
TermFrequency = Callable[[str, str], float | None]


@dataclass(frozen=True)
class Contribution:
    comparison: str
    title: str
    level: int
    label: str
    weight: float

    def as_dict(self) -> dict[str, object]:
        return {
            "comparison": self.comparison,
            "title": self.title,
            "level": self.level,
            "label": self.label,
            "weight": round(self.weight, 4),
        }


@dataclass(frozen=True)
class Score:
    match_weight: float
    match_probability: float
    contributions: tuple[Contribution, ...]
    # The position of the level each comparison fell in, in COMPARISONS order.
    positions: tuple[int, ...]


def probability(match_weight: float) -> float:
    if match_weight >= 0:
        return 1.0 / (1.0 + math.pow(2.0, -match_weight))
    power = math.pow(2.0, match_weight)
    return power / (1.0 + power)


def score(model: Model, left: Features, right: Features, tf: TermFrequency) -> Score:
    """The model's score for a pair of feature records."""
    total = model.prior_weight
    contributions = []
    positions = []
    for comparison, trained in zip(COMPARISONS, model.levels, strict=True):
        levels = comparison.levels
        position = next(i for i, level in enumerate(levels) if level.test(left, right))
        level, params = levels[position], trained[position]
        positions.append(position)
        weight = params.weight
        if params.tf_column is not None and params.log2_u_exact is not None:
            column = params.tf_column
            frequencies = [
                tf(column, value) for value in (left[column], right[column]) if value is not None
            ]
            known = [f for f in frequencies if f is not None]
            if known:
                weight += params.log2_u_exact - math.log2(max(known))
        total += weight
        # Splink numbers levels from the last (0 = "all other"), the null level -1.
        vector = -1 if level.null else len(levels) - 1 - position
        contributions.append(
            Contribution(comparison.name, comparison.title, vector, params.label, weight)
        )
    return Score(total, probability(total), tuple(contributions), tuple(positions))
