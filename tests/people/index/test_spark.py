"""The same model on Splink's Spark backend: the same pairs, the same probabilities.

`make test` installs a Java runtime, so this runs in the suite; on a machine without
Java it is skipped, saying so.
"""

from __future__ import annotations

import shutil

import pytest

from accord.people.index import synthetic
from accord.people.index.batch import features_frame, predict
from accord.people.index.model import load_model

pytestmark = [
    pytest.mark.filterwarnings("ignore"),
    pytest.mark.skipif(shutil.which("java") is None, reason="no Java runtime on this machine"),
]


def test_the_model_predicts_the_same_on_spark_as_on_duckdb(tmp_path):
    from pyspark.sql import SparkSession
    from splink import Linker, SparkAPI
    from splink.backends.spark import similarity_jar_location

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("accord-index-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.driver.memory", "1g")
        # Splink's string functions (Damerau-Levenshtein) for Spark SQL
        .config("spark.jars", similarity_jar_location())
        .getOrCreate()
    )
    try:
        spark.sparkContext.setCheckpointDir(str(tmp_path / "checkpoints"))
        frame = features_frame(synthetic.generate(200, seed=2, household_heavy=True))
        model = load_model()
        spark_frame = spark.createDataFrame(frame.astype(object).where(frame.notna(), None))
        linker = Linker(SparkAPI(spark_session=spark).register(spark_frame), model.settings)
        on_spark = linker.inference.predict(threshold_match_probability=0.0)
        spark_rows = on_spark.as_pandas_dataframe()
    finally:
        spark.stop()
    duck_rows = predict(frame, model.settings, threshold=0.0).as_pandas_dataframe()
    spark_pairs = {
        (r.unique_id_l, r.unique_id_r): r.match_probability for r in spark_rows.itertuples()
    }
    duck_pairs = {
        (r.unique_id_l, r.unique_id_r): r.match_probability for r in duck_rows.itertuples()
    }
    assert len(duck_pairs) > 100
    assert spark_pairs.keys() == duck_pairs.keys()
    for key, probability in duck_pairs.items():
        assert spark_pairs[key] == pytest.approx(probability, abs=1e-9)
