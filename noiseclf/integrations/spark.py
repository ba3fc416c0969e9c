"""Clean a Spark DataFrame's text column with noiseclf, on every executor.

    from pyspark.sql import SparkSession
    from noiseclf.integrations.spark import clean_dataframe, ship_model

    spark = SparkSession.builder.getOrCreate()
    df = spark.read.parquet("s3://bucket/pages/")           # a column "text"
    model = ship_model(spark, "my.noiseclf")                  # optional: your own model
    clean_dataframe(df, "text", model=model).write.parquet("s3://bucket/clean/")

Rows go through ``mapInPandas`` in Arrow batches; each executor's Python
worker loads the model once (a module-level cache keyed by the model file) and
reuses it for every batch and task. The model is the shipped one unless
``model`` names a file: a path that exists on the executors (a shared file
system), or a file distributed with :func:`ship_model` (``SparkContext.addFile``,
found on the executors through ``SparkFiles``).

noiseclf must be importable on the executors: ``pip install noiseclf`` in
their environment, or ``spark-submit --py-files noiseclf.zip`` (see README).

A row whose text is not a page's but records or a feed (:func:`noiseclf.text.not_a_page`)
is left as it is, with null counts, and named once per kind in a warning in the executor's
log: cleaned, it would come out as lines of JSON or XML kept as "article".
"""

from __future__ import annotations

import logging
import os
from typing import Iterable, Iterator

KEPT_FIELD = "noiseclf_kept_lines"
DROPPED_FIELD = "noiseclf_dropped_lines"

_MODELS: dict = {}  # on each executor's Python worker: model file -> loaded Model
_WARNED: set = set()  # on each executor's Python worker: kinds of odd input already named


def _clean(m, texts: list, keep, urls=None, plain: bool = False) -> tuple[list, list, list]:
    """:func:`noiseclf.corpus.clean_texts`, but records and feeds are left as they are (null counts)."""
    from ..corpus import clean_texts
    from ..text import not_a_page

    odd = [not_a_page(t) if isinstance(t, str) else None for t in texts]
    for kind in odd:
        if kind is not None and kind not in _WARNED:
            _WARNED.add(kind)
            logging.getLogger(__name__).warning("noiseclf: a row's text is %s, not a page's text; such rows are "
                                                "left as they are, with null counts (said once a worker)", kind)
    cleaned, kept, dropped = clean_texts(m, [None if o else t for t, o in zip(texts, odd)], keep, urls, plain=plain)
    for i, o in enumerate(odd):
        if o is not None:
            cleaned[i], kept[i], dropped[i] = texts[i], None, None
    return cleaned, kept, dropped


def _resolve(model: str | None) -> str | None:
    if model is None or os.path.isfile(model):
        return model
    from pyspark import SparkFiles

    shipped = SparkFiles.get(os.path.basename(model))
    return shipped if os.path.isfile(shipped) else model  # (load_model then names the missing file)


def executor_model(model: str | None = None):
    """The model for this process, loaded on first use and then kept."""
    key = model or ""
    if key not in _MODELS:
        from ..modelfile import load_model

        _MODELS[key] = load_model(_resolve(model))
    return _MODELS[key]


def ship_model(spark, path: str | os.PathLike) -> str:
    """Send a model file to every executor (``addFile``); pass the result as ``model=``."""
    from ..modelfile import read_meta

    path = os.path.abspath(os.fspath(path))
    read_meta(path)  # refuse a missing or broken file here, on the driver, with a clear message
    spark.sparkContext.addFile(path)
    return os.path.basename(path)


def clean_dataframe(df, text_col: str = "text", output_col: str | None = None, model: str | None = None,
                    keep: Iterable[str] = ("article",), counts: bool = True, url_col: str | None = "url",
                    plain: bool = False):
    """``df`` with ``output_col`` (default: ``text_col`` itself) holding the cleaned
    text and, with ``counts``, the numbers of kept and dropped non-blank lines.
    Where ``url_col`` is a column, each row's site is its URL's host (site memory
    among the rows of a batch). ``plain``: Markdown texts' kept lines as plain text
    (:mod:`noiseclf.plain`)."""
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    from ..model import check_keep

    keep = sorted(check_keep(keep))
    if url_col is not None and url_col not in df.columns:
        url_col = None
    if text_col not in df.columns:
        raise ValueError(f"the DataFrame has no column {text_col!r} (columns: {', '.join(df.columns)}); "
                         "pass the text column as text_col")
    if not isinstance(df.schema[text_col].dataType, StringType):
        raise ValueError(f"column {text_col!r} is {df.schema[text_col].dataType.simpleString()}, not a string")
    output_col = output_col or text_col
    fields = [f for f in df.schema.fields]
    names = [f.name for f in fields]
    if output_col not in names:
        fields.append(StructField(output_col, StringType(), True))
    if counts:
        for name in (KEPT_FIELD, DROPPED_FIELD):
            if name not in names:
                fields.append(StructField(name, LongType(), True))
    schema = StructType(fields)
    order = [f.name for f in fields]

    def clean_batches(batches: Iterator) -> Iterator:
        import pandas as pd

        m = executor_model(model)
        for pdf in batches:
            texts = [t if isinstance(t, str) else None for t in pdf[text_col].tolist()]
            urls = pdf[url_col].tolist() if url_col is not None else None
            cleaned, kept, dropped = _clean(m, texts, keep, urls, plain=plain)
            pdf[output_col] = cleaned
            if counts:
                pdf[KEPT_FIELD] = pd.array(kept, dtype="Int64")  # nullable: a row left as it is has none
                pdf[DROPPED_FIELD] = pd.array(dropped, dtype="Int64")
            yield pdf[order]

    return df.mapInPandas(clean_batches, schema)


def clean_udf(model: str | None = None, keep: Iterable[str] = ("article",), plain: bool = False):
    """A pandas UDF ``text -> cleaned text`` for ``select``/``withColumn`` (``plain``: as in
    :func:`clean_dataframe`)."""
    from pyspark.sql.functions import pandas_udf

    from ..model import check_keep

    keep = sorted(check_keep(keep))

    @pandas_udf("string")
    def noiseclf_clean(texts):
        import pandas as pd

        values = [t if isinstance(t, str) else None for t in texts.tolist()]
        return pd.Series(_clean(executor_model(model), values, keep, plain=plain)[0], dtype=object)

    return noiseclf_clean
