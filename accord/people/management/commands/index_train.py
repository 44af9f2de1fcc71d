"""Train the person-index model and store it as a versioned artefact.

    manage.py index_train --model-version person-v4 --partnership "Example Partnership"
    manage.py index_train --model-version person-v3 --synthetic 100000

With a partnership, the model is trained on the features of that partnership's
identities (read here, never written to the artefact); with --synthetic, on the
fictional people of accord.people.index.synthetic. The artefact records how many
records there were and how complete each field was, never a value.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.people.index.features import FEATURE_COLUMNS
from accord.people.index.model import artefact_path, train


class Command(BaseCommand):
    help = "Train the person-index model and store it as a versioned artefact."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model-version", required=True, help="e.g. person-v4")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--partnership", help="train on this partnership's identities")
        source.add_argument("--synthetic", type=int, help="train on this many fictional persons")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--overwrite", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        import pandas as pd

        path = artefact_path(options["model_version"])
        if path.exists() and not options["overwrite"]:
            raise CommandError(f"{path.name} exists; choose a new version or --overwrite.")
        if options["synthetic"]:
            from accord.people.index import synthetic
            from accord.people.index.batch import features_frame

            records = synthetic.generate(options["synthetic"], seed=options["seed"])
            frame = features_frame(records)
            description = (
                f"Fictional people from accord.people.index.synthetic: "
                f"{options['synthetic']} persons, seed {options['seed']}."
            )
        else:
            from accord.partnership.models import Partnership
            from accord.people.models import MatchFeatures

            try:
                partnership = Partnership.objects.get(name=options["partnership"])
            except Partnership.DoesNotExist:
                name = options["partnership"]
                raise CommandError(f"No partnership is called {name!r}.") from None
            rows = []
            for identity_id, values in MatchFeatures.objects.filter(
                partnership=partnership
            ).values_list("identity_id", "values"):
                rows.append({"unique_id": str(identity_id), **values})
            if len(rows) < 1000:
                raise CommandError(f"Only {len(rows)} identities: too few to train on.")
            frame = pd.DataFrame(rows, columns=["unique_id", *FEATURE_COLUMNS])
            description = f"The identities of one partnership ({len(rows)} records)."
        artefact = train(
            frame, version=options["model_version"], description=description, seed=options["seed"]
        )
        path.write_text(json.dumps(artefact, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        self.stdout.write(f"Wrote {path.name}: {len(frame)} records.")
