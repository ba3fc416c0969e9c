"""The Spark integration in local mode: a DataFrame's text column cleaned on executors."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("pyspark needs Java", allow_module_level=True)

from noiseclf import load_model  # noqa: E402
from noiseclf.integrations.spark import DROPPED_FIELD, KEPT_FIELD, clean_dataframe, clean_udf, ship_model  # noqa: E402
from noiseclf.modelfile import default_model_path  # noqa: E402

from conftest import SEED_003, SEEDS  # noqa: E402
from test_plain import markdown_of  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]").appName("noiseclf-test")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def rows():
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return [(i, texts[i % len(texts)] if i != 3 else None, f"site{i}") for i in range(7)]


def test_clean_dataframe(spark, tmp_path):
    df = spark.createDataFrame(rows(), "id long, text string, site string").repartition(2)
    custom = tmp_path / "custom.noiseclf"  # shipped to the executors with addFile
    shutil.copy(default_model_path(), custom)
    out = clean_dataframe(df, "text", output_col="clean", model=ship_model(spark, custom))
    assert out.columns == ["id", "text", "site", "clean", KEPT_FIELD, DROPPED_FIELD]
    got = {r["id"]: r for r in out.collect()}
    model = load_model()
    for i, text, site in rows():
        r = got[i]
        assert r["text"] == text and r["site"] == site
        if text is None:
            assert r["clean"] is None and r[KEPT_FIELD] == 0
            continue
        assert r["clean"] == model.clean(text)
        verdicts = model.classify_text(text)
        assert r[KEPT_FIELD] == sum(v.label == "article" for v in verdicts)
        assert r[DROPPED_FIELD] == sum(v.label not in (None, "article") for v in verdicts)


def test_clean_in_place_and_udf(spark):
    df = spark.createDataFrame(rows()[:3], "id long, text string, site string")
    model = load_model()
    got = clean_dataframe(df, keep=["article", "nav"], counts=False).orderBy("id").collect()
    assert [r["text"] for r in got] == [model.clean(t, keep=("article", "nav")) for _, t, _ in rows()[:3]]
    assert got[0].asDict().keys() == {"id", "text", "site"}
    udf_out = df.select("id", clean_udf()("text").alias("c")).orderBy("id").collect()
    assert [r["c"] for r in udf_out] == [model.clean(t) for _, t, _ in rows()[:3]]
    md = markdown_of(SEED_003.read_text(encoding="utf-8"))  # plain=: Markdown's kept lines as plain text
    mdf = spark.createDataFrame([(1, md)], "id long, text string")
    (row,) = clean_dataframe(mdf, plain=True, counts=False).collect()
    (urow,) = mdf.select(clean_udf(plain=True)("text").alias("c")).collect()
    assert row["text"] == urow["c"] == model.clean(md, plain=True) != model.clean(md)


def test_records_and_feeds_in_the_column_are_left_as_they_are(spark):
    seed = SEED_003.read_text(encoding="utf-8")
    records = '{"id": 1, "text": "One"}\n{"id": 2, "text": "Two"}\n'
    feed = '<?xml version="1.0"?><rss version="2.0"><channel><title>News</title></channel></rss>'
    df = spark.createDataFrame([(1, seed), (2, records), (3, feed)], "id long, text string")
    model = load_model()
    got = {r["id"]: r for r in clean_dataframe(df, output_col="clean").collect()}
    assert got[1]["clean"] == model.clean(seed) and got[1][KEPT_FIELD] > 0
    for i, text in ((2, records), (3, feed)):  # cleaned, they would come out as JSON or XML "article"
        assert got[i]["clean"] == text and got[i][KEPT_FIELD] is None and got[i][DROPPED_FIELD] is None
    udf_out = {r["id"]: r["c"] for r in df.select("id", clean_udf()("text").alias("c")).collect()}
    assert udf_out == {1: model.clean(seed), 2: records, 3: feed}


def test_bad_column(spark):
    df = spark.createDataFrame([(1, "x")], "id long, body string")
    with pytest.raises(ValueError, match="no column 'text'.*columns: id, body"):
        clean_dataframe(df)
    with pytest.raises(ValueError, match="not a string"):
        clean_dataframe(df, "id")
