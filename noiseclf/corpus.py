"""Clean a corpus: JSON Lines or Parquet records in, the same records out.

Every record keeps all its fields; the text field is replaced by its cleaned
text and two fields are added: ``noiseclf_kept_lines`` and
``noiseclf_dropped_lines`` (non-blank lines kept and dropped).

Records are streamed batch by batch (at most ``batch_size`` records or
:data:`BATCH_CHARS` characters of text), each batch cleaned with one call into
the model (the compiled kernel scores all its lines at once) and written out
at once, so memory stays flat however large the corpus is. JSON Lines are read
as raw lines in chunks of :data:`READ_CHUNK` bytes (``.gz``, ``.bz2``, ``.xz``
with the standard library, ``.zst`` with ``zstandard``) and parsed with the
standard ``json`` module (so a date stays the string it was; Arrow's type
inference would have turned it into a timestamp); Parquet is read with
pyarrow, a record batch at a time, and keeps its Arrow schema. (Hugging Face
``datasets`` read both before: 1.56 s of CPU against 0.05 s to read the 23 MB
WCXB JSON Lines benchmark corpus, a third of the time of cleaning it.) With
``num_proc > 1`` batches are cleaned by worker processes (each loads the model
once) beside the main process, which reads, writes in order and cleans too;
a bounded number of batches is in flight.

The output is written to a temporary file beside it and renamed into place
when complete: an interrupted run leaves no partial output.
"""

from __future__ import annotations

import json
import os
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from .errors import InputError, OutputError
from .model import Model, check_keep, check_min_probability

KEPT_FIELD = "noiseclf_kept_lines"
DROPPED_FIELD = "noiseclf_dropped_lines"
# Records a batch (at most): one job for a process, and the pages that share site
# memory. 64, not 256: the 1,358-record benchmark corpus was 6 jobs, too few to
# share between two processes (--num-proc 2: 1.37 x one process with 256, 1.67 x
# with 64, 1.59 x with 32; one process 3.10 s against 3.16 s).
BATCH_SIZE = 64
BATCH_CHARS = 16_000_000  # ... and about this many characters of records
READ_CHUNK = 8 << 20  # bytes of JSON Lines read at a time
_JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")
_COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst")


@dataclass
class CorpusStats:
    records: int = 0
    kept_lines: int = 0
    dropped_lines: int = 0
    output: Path | None = None


def corpus_format(path: Path) -> str:
    """``"jsonl"`` or ``"parquet"`` from a file name (compressed JSON Lines allowed)."""
    name = path.name.lower()
    for comp in _COMPRESSIONS:
        if name.endswith(comp):
            name = name[: -len(comp)]
            break
    if name.endswith(_JSON_SUFFIXES):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    raise InputError(
        f"{path}: unknown corpus format; name the file *.jsonl (JSON Lines, optionally .gz) or *.parquet"
    )


def _input_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise InputError(f"{path}: the folder holds no corpus files; pass a .jsonl or .parquet file or a folder of them")
        kinds = {corpus_format(p) for p in files}
        if len(kinds) > 1:
            raise InputError(f"{path}: the folder mixes JSON Lines and Parquet files; clean them separately")
        return files
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    corpus_format(path)
    try:
        with open(path, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}); make the file readable") from None
    return [path]


def first_values(source: str | Path, field: str, records: int = 64) -> list:
    """``field`` of the first records of a corpus's first file (for the CLI's notes on what it
    holds: HTML, Markdown); nothing when it cannot be read (the run reports that, with the record)."""
    import json

    try:
        files = _input_files(Path(source))
        if corpus_format(files[0]) == "parquet":
            for _path, table in _parquet_tables(files[:1], records, field):
                return table.column(field).to_pylist()
            return []
        values = []
        for _path, _n, lines in _jsonl_lines(files[:1], records):
            for line in lines:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict):
                    values.append(rec.get(field))
            return values
    except Exception:  # noqa: BLE001 - a bad corpus is the run's to report
        pass
    return []


# -- cleaning a batch of texts (runs in the main process or in workers) --------

def clean_texts(model: Model, texts: Sequence[str | None], keep: Iterable[str],
                urls: Sequence[str | None] | None = None,
                min_probability: float | None = None,
                page_relative: bool = True, plain: bool = False) -> tuple[list, list[int], list[int]]:
    """Cleaned texts and the numbers of kept and dropped non-blank lines of each.

    ``None`` stays ``None`` (0 kept, 0 dropped). ``urls`` give each record's
    site (its host), so that pages of one site in a batch share site memory.
    ``min_probability``, ``page_relative``, ``plain``: as :class:`noiseclf.Cleaner` has them.
    """
    from .clean import Cleaner, Scrape
    from .html import texts_as_text

    texts = texts_as_text(texts)  # records holding HTML become text first (noiseclf.html)
    urls = urls if urls is not None else [None] * len(texts)
    results = Cleaner(model, keep, drift=False, min_probability=min_probability,
                      page_relative=page_relative, plain=plain).clean_batch(
        [Scrape(t, url=u if isinstance(u, str) else None) for t, u in zip(texts, urls)])
    return [r.text for r in results], [r.kept for r in results], [r.dropped for r in results]


_WORKER: dict = {}


def _worker_init(model_path: str | None, cache_lines: int) -> None:
    from .features.featurizer import prefer_kernel
    from .modelfile import load_model

    prefer_kernel()  # a corpus is a bulk job: the compiled kernel from the first batch
    _WORKER["model"] = load_model(model_path).set_cache(cache_lines)


def _jsonl_batch(model: Model, lines: list[str], first_line: int, field: str, choice, source: str,
                 url_field: str = "url"):
    """Clean a batch of raw JSON Lines; returns output lines (or an error message).

    ``choice``: (labels to keep, min_probability, page_relative, plain), as :func:`clean_corpus` was given them."""
    records, texts, urls = [], [], []
    for n, line in enumerate(lines, first_line):
        if not line.strip():
            records.append(None)
            texts.append(None)
            urls.append(None)
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            return f"{source}:{n}: not a JSON record ({exc.msg} at column {exc.colno}); fix or remove the line"
        if not isinstance(rec, dict):
            return f"{source}:{n}: a JSON Lines record must be an object, got {type(rec).__name__}; fix the line"
        if field not in rec:
            fields = ", ".join(list(rec)[:8]) or "none"
            return (f"{source}:{n}: the record has no field {field!r} (its fields: {fields}); "
                    "pass the right one with --text-field")
        text = rec[field]
        if text is not None and not isinstance(text, str):
            return f"{source}:{n}: field {field!r} holds {type(text).__name__}, not text; pass a text field with --text-field"
        records.append(rec)
        texts.append(text)
        urls.append(rec.get(url_field))
    cleaned, kept, dropped = clean_texts(model, texts, choice[0], urls, *choice[1:])
    out = []
    for rec, c, k, d in zip(records, cleaned, kept, dropped):
        if rec is None:
            continue
        rec[field] = c
        rec[KEPT_FIELD] = k
        rec[DROPPED_FIELD] = d
        out.append(json.dumps(rec, ensure_ascii=False))
    return out, sum(kept), sum(dropped)


def _texts_batch(model: Model, texts: list, choice, urls=None):
    return clean_texts(model, texts, choice[0], urls, *choice[1:])


def _run_jsonl_in_worker(lines, first_line, field, choice, source, url_field):
    return _jsonl_batch(_WORKER["model"], lines, first_line, field, choice, source, url_field)


def _run_texts_in_worker(texts, choice, urls):
    return _texts_batch(_WORKER["model"], texts, choice, urls)


class _Runner:
    """Runs batch jobs and hands back their results in order.

    With ``num_proc > 1``: ``num_proc - 1`` worker processes and this one. A
    batch goes to the workers while fewer than two per worker are in flight,
    else this process cleans it itself (it reads and writes too, which costs
    little). This process's model is loaded already, so it cleans from the
    first batch while the workers start (each spends about a second importing
    and loading the model and the compiled kernel).
    """

    def __init__(self, model: Model, num_proc: int, model_path: Path | None):
        self.model = model
        self.pool = None
        self.pending: deque = deque()  # (from a worker?, AsyncResult or result), in input order
        self.window = 2 * max(num_proc - 1, 1)
        if num_proc > 1:
            import multiprocessing as mp
            import threading

            if sys.platform == "linux" and threading.active_count() == 1 and str(model_path) == str(getattr(model, "path", None)):
                # Forked workers start with this process's model and compiled kernel:
                # no second of start-up each. (Reading is plain Python: no reader
                # threads to fork; the workers get Python lists, never Arrow.)
                _WORKER["model"] = model
                self.pool = mp.get_context("fork").Pool(num_proc - 1)
            else:
                ctx = mp.get_context("spawn")
                self.pool = ctx.Pool(num_proc - 1, initializer=_worker_init,
                                     initargs=(None if model_path is None else str(model_path), model.cache_lines))

    def _take(self):
        remote, item = self.pending.popleft()
        return item.get() if remote else item

    def submit(self, local: Callable, remote: Callable, args: tuple) -> Iterator:
        """Run or queue a job; yields the results that are ready, in order."""
        if self.pool is None:
            yield local(self.model, *args)
            return
        in_flight = sum(1 for r, _ in self.pending if r)
        if in_flight < self.window:
            self.pending.append((True, self.pool.apply_async(remote, args)))
        else:
            self.pending.append((False, local(self.model, *args)))
        while self.pending and (not self.pending[0][0] or self.pending[0][1].ready()):
            yield self._take()
        while len(self.pending) > 2 * self.window:  # bound the batches held in memory
            yield self._take()

    def drain(self) -> Iterator:
        while self.pending:
            yield self._take()

    def close(self, ok: bool) -> None:
        if self.pool is not None:
            if ok:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
            _WORKER.pop("model", None)


# -- reading -----------------------------------------------------------------

def _open_text(path: Path):
    """A JSON Lines file as text (decompressed by its suffix), lines split on "\\n" only."""
    name = path.name.lower()
    if name.endswith(".gz"):
        import gzip

        raw = gzip.open(path, "rb")
    elif name.endswith(".bz2"):
        import bz2

        raw = bz2.open(path, "rb")
    elif name.endswith(".xz"):
        import lzma

        raw = lzma.open(path, "rb")
    elif name.endswith(".zst"):
        try:
            import zstandard
        except ImportError:
            raise InputError(f"{path}: reading .zst needs the zstandard package (pip install zstandard), "
                             "or decompress the file first") from None
        raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    else:
        raw = open(path, "rb")
    import io

    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="\n")


def _jsonl_lines(files: list[Path], batch_size: int) -> Iterator[tuple[Path, int, list[str]]]:
    """(file, number of the batch's first line, raw lines): at most ``batch_size`` lines or
    about :data:`BATCH_CHARS` characters a batch, read :data:`READ_CHUNK` bytes at a time."""
    for path in files:
        try:
            with _open_text(path) as fh:
                n = 1
                batch: list[str] = []
                chars = 0
                while True:
                    chunk = fh.readlines(READ_CHUNK)
                    if not chunk:
                        break
                    for line in chunk:
                        batch.append(line)
                        chars += len(line)
                        if len(batch) >= batch_size or chars >= BATCH_CHARS:
                            yield path, n, batch
                            n += len(batch)
                            batch, chars = [], 0
                if batch:
                    yield path, n, batch
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start} of a chunk); "
                             "re-save it as UTF-8") from None
        except (OSError, EOFError, ValueError) as exc:
            if isinstance(exc, (OutputError, InputError)):
                raise
            raise InputError(f"{path}: cannot be read as JSON Lines ({exc}); check the file") from None


def _parquet_tables(files: list[Path], batch_size: int, field: str):
    """(file, Arrow table of at most ``batch_size`` records) for every batch of every file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for path in files:
        try:
            pf = pq.ParquetFile(path)
            schema = pf.schema_arrow
        except Exception as exc:  # pyarrow raises several types for a bad file
            raise InputError(f"{path}: not a readable Parquet file ({exc}); check the file") from None
        if field not in schema.names:
            raise InputError(f"{path}: the records have no field {field!r} (fields: {', '.join(schema.names)}); "
                             "pass the right one with --text-field")
        typ = schema.field(field).type
        if str(typ) not in ("string", "large_string", "string_view", "null"):
            raise InputError(f"{path}: field {field!r} holds {typ}, not text; pass a text field with --text-field")
        try:
            for batch in pf.iter_batches(batch_size=batch_size):
                if batch.num_rows:
                    yield path, pa.Table.from_batches([batch])
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise InputError(f"{path}: cannot be read as Parquet ({exc}); check the file") from None


def parquet_rows(files: Sequence[Path]) -> int | None:
    try:
        import pyarrow.parquet as pq

        return sum(pq.ParquetFile(p).metadata.num_rows for p in files)
    except Exception:
        return None


# -- writing -----------------------------------------------------------------

class _AtomicOutput:
    """A temporary file beside ``path``, renamed over it by :meth:`commit`."""

    def __init__(self, path: Path):
        parent = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            raise OutputError(f"{path}: is a folder; give a file name such as {path}/cleaned.jsonl")
        if not parent.is_dir():
            raise OutputError(f"{path}: folder {parent} does not exist; create it first")
        from .atomic import new_temp_file  # .NAME.PID.RANDOM.tmp; a killed run's is removed next time

        self.path, self.tmp = path, new_temp_file(path)

    def commit(self) -> None:
        with open(self.tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        try:
            self.tmp.unlink()
        except FileNotFoundError:
            pass


def _progress(total: int | None, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=" records", file=sys.stderr, dynamic_ncols=True, desc="noiseclf")


def clean_corpus(
    source: str | Path,
    output: str | Path,
    model: Model,
    text_field: str = "text",
    keep: Iterable[str] = ("article",),
    num_proc: int = 1,
    batch_size: int = BATCH_SIZE,
    progress: bool | None = None,
    model_path: str | Path | None = None,
    url_field: str = "url",
    min_probability: float | None = None,
    page_relative: bool = True,
    plain: bool = False,
) -> CorpusStats:
    """Clean the ``text_field`` of every record of ``source`` into ``output``.

    ``source``: a .jsonl (optionally compressed) or .parquet file, or a folder
    of them. The output format follows ``output``'s name. ``model_path`` is the
    model file workers load when ``num_proc > 1`` (default: the shipped model).
    ``progress``: a progress bar on stderr (default: only when it is a terminal).
    ``url_field``: where a record's URL is, when it has one: its host is the
    record's site for site memory. ``min_probability``: keep a line only when
    the kept labels have at least this probability; ``page_relative``: the model's
    page-relative drop (False: off; both :func:`noiseclf.model.decide`); ``plain``: Markdown
    scrapes as plain text (:mod:`noiseclf.plain`).
    """
    source, output = Path(source), Path(output)
    files = _input_files(source)
    in_fmt = corpus_format(files[0])
    out_fmt = corpus_format(output) if not output.is_dir() else None
    if out_fmt is None:
        raise OutputError(f"{output}: is a folder; give a file name such as {output}/cleaned.{in_fmt}")
    if output.name.lower().endswith(_COMPRESSIONS):
        raise OutputError(f"{output}: compressed output is not supported; name it *.jsonl or *.parquet")
    if any(output.resolve() == f.resolve() for f in files):
        raise OutputError(f"{output}: is also the input; write the cleaned corpus to another file")
    if num_proc < 1:
        raise ValueError("num_proc must be at least 1")
    choice = (sorted(check_keep(keep)), check_min_probability(min_probability), bool(page_relative), bool(plain))
    if model_path is None:
        model_path = getattr(model, "path", None)

    from .features.featurizer import prefer_kernel

    prefer_kernel()  # a corpus is a bulk job: the compiled kernel from the first batch
    stats = CorpusStats(output=output)
    out = _AtomicOutput(output)
    runner = None
    ok = False
    bar = _progress(parquet_rows(files) if in_fmt == "parquet" else None, progress)
    try:
        runner = _Runner(model, num_proc, model_path)
        writer = _Writer(out.tmp, out_fmt)
        if in_fmt == "jsonl":
            _run_jsonl(files, runner, writer, text_field, choice, batch_size, stats, bar, url_field)
        else:
            _run_parquet(files, runner, writer, text_field, choice, batch_size, stats, bar, url_field)
        writer.close()
        ok = True
    finally:
        if bar is not None:
            bar.close()
        if runner is not None:
            runner.close(ok)
        if ok:
            out.commit()
        else:
            out.discard()
    return stats


def _run_jsonl(files, runner, writer, field, choice, batch_size, stats, bar, url_field) -> None:
    def handle(result):
        if isinstance(result, str):
            raise InputError(result)
        lines, k, d = result
        writer.write_json_lines(lines)
        stats.records += len(lines)
        stats.kept_lines += k
        stats.dropped_lines += d
        if bar is not None:
            bar.update(len(lines))

    for path, first, lines in _jsonl_lines(files, batch_size):
        args = (lines, first, field, choice, str(path), url_field)
        for result in runner.submit(_jsonl_batch_local, _run_jsonl_in_worker, args):
            handle(result)
    for result in runner.drain():
        handle(result)


def _jsonl_batch_local(model, lines, first, field, choice, source, url_field):
    return _jsonl_batch(model, lines, first, field, choice, source, url_field)


def _run_parquet(files, runner, writer, field, choice, batch_size, stats, bar, url_field) -> None:
    tables: deque = deque()

    def handle(result):
        table = tables.popleft()
        cleaned, kept, dropped = result
        writer.write_table(_with_cleaned(table, field, cleaned, kept, dropped))
        stats.records += table.num_rows
        stats.kept_lines += sum(kept)
        stats.dropped_lines += sum(dropped)
        if bar is not None:
            bar.update(table.num_rows)

    for _path, table in _parquet_tables(files, batch_size, field):
        tables.append(table)
        texts = table.column(field).to_pylist()
        urls = table.column(url_field).to_pylist() if url_field in table.column_names else None
        for result in runner.submit(_texts_batch, _run_texts_in_worker, (texts, choice, urls)):
            handle(result)
    for result in runner.drain():
        handle(result)


def _with_cleaned(table, field: str, cleaned, kept, dropped):
    import pyarrow as pa

    i = table.schema.get_field_index(field)
    typ = table.schema.field(field).type
    if str(typ) == "null":
        typ = pa.string()
    table = table.set_column(i, pa.field(field, typ), pa.array(cleaned, type=typ))
    for name, values in ((KEPT_FIELD, kept), (DROPPED_FIELD, dropped)):
        col = pa.array(values, type=pa.int64())
        if name in table.schema.names:
            table = table.set_column(table.schema.get_field_index(name), name, col)
        else:
            table = table.append_column(name, col)
    meta = dict(table.schema.metadata or {})
    meta.pop(b"huggingface", None)  # it describes the input's columns, not these
    return table.replace_schema_metadata(meta or None)


class _Writer:
    """Writes cleaned batches to the temporary output, in the output's format."""

    def __init__(self, path: Path, fmt: str):
        self.path, self.fmt = path, fmt
        self.fh = open(path, "w", encoding="utf-8", newline="\n") if fmt == "jsonl" else None
        self.pq = None

    def write_json_lines(self, lines: list[str]) -> None:
        if self.fmt == "jsonl":
            self.fh.write("".join(line + "\n" for line in lines))
        else:
            import pyarrow as pa

            if lines:
                self.write_table(pa.Table.from_pylist([json.loads(x) for x in lines]))

    def write_table(self, table) -> None:
        if self.fmt == "jsonl":
            self.fh.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in table.to_pylist()))
            return
        import pyarrow.parquet as pq

        if self.pq is None:
            self.schema = table.schema
            self.pq = pq.ParquetWriter(self.path, table.schema)
        elif not table.schema.equals(self.schema, check_metadata=False):
            try:
                table = table.cast(self.schema)
            except (ValueError, TypeError, NotImplementedError) as exc:
                raise OutputError(
                    f"{self.path}: records of differing types cannot share one Parquet file ({exc}); "
                    "write JSON Lines instead (--output NAME.jsonl)") from None
        self.pq.write_table(table)

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
        if self.pq is not None:
            self.pq.close()
        elif self.fmt == "parquet":  # nothing written: an empty file is not Parquet
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({}), self.path)
