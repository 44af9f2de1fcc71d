"""The person index: which identities, held by different agencies, are one person.

- `features`: what the matcher compares of an identity, and its data-quality problems.
- `model`: the Splink model (comparisons, blocking rules, training) and its artefact.
- `scorer`: the trained model's score for a pair, computed in Python for the online path.
- `candidates`: the candidate index (block keys) and term counts kept in the database.
- `online`: matching an identity on arrival: link, review or a person of its own.
- `batch`: re-matching the whole index with Splink, as a background task.
- `merge`: merging and unmerging persons, exactly.
- `review`: the review queue and its decisions.
- `synthetic`: obviously fictional people with UK-style errors, for training, tests,
  the demo and the benchmark.

docs/matching.md describes the model and how the parts fit.
"""
