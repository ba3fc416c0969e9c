"""Peak memory of ``noiseclf clean --corpus`` does not grow with the corpus.

    python benchmarks/corpus_memory.py [--records 10000 100000] [--format jsonl|parquet] [--num-proc 1]

Writes synthetic corpora of the given sizes (records made from the seeds, each
with an id, a URL and a few varied lines so that no two records are alike) to
a temporary folder, cleans each in a fresh process through
:func:`noiseclf.corpus.clean_corpus`, and prints the peak resident memory
(``ru_maxrss``) of that process, the corpus size on disk and the time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_corpus(path: Path, n: int, fmt: str) -> None:
    seeds = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "seeds").glob("*.txt"))]

    def records():
        for i in range(n):
            text = seeds[i % len(seeds)] + f"\nRecord {i} of the benchmark, line {i * 7 % 1013}.\n"
            yield {"id": i, "url": f"https://example.org/{i}", "lang": "en", "text": text}

    if fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as fh:
            for rec in records():
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        batch = []
        for rec in records():
            batch.append(rec)
            if len(batch) == 5000:
                table = pa.Table.from_pylist(batch)
                writer = writer or pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
                batch = []
        if batch:
            table = pa.Table.from_pylist(batch)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
        writer.close()


def run_one(src: str, out: str, num_proc: int, cache_lines: int | None) -> None:
    """In a fresh process: clean, then print peak RSS (MiB) and seconds as JSON."""
    from noiseclf import load_model
    from noiseclf.corpus import clean_corpus

    start = time.perf_counter()
    model = load_model()
    if cache_lines is not None:
        model.set_cache(cache_lines)
    stats = clean_corpus(src, out, model, num_proc=num_proc, progress=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"records": stats.records, "peak_mib": round(peak, 1), "worker_peak_mib": round(children, 1),
                      "seconds": round(time.perf_counter() - start, 1)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--format", choices=["jsonl", "parquet"], default="jsonl")
    ap.add_argument("--num-proc", type=int, default=1)
    ap.add_argument("--cache-lines", type=int, help="the model's line cache (default: the model's default)")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        run_one(args.one[0], args.one[1], args.num_proc, args.cache_lines)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.records:
            src = Path(tmp) / f"corpus{n}.{args.format}"
            out = Path(tmp) / f"clean{n}.{args.format}"
            make_corpus(src, n, args.format)
            extra = [] if args.cache_lines is None else ["--cache-lines", str(args.cache_lines)]
            proc = subprocess.run([sys.executable, __file__, "--num-proc", str(args.num_proc), *extra,
                                   "--one", str(src), str(out)],
                                  capture_output=True, text=True, env=dict(os.environ, TQDM_DISABLE="1"))
            if proc.returncode:
                sys.exit(proc.stderr)
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"{n:>8} records  {src.stat().st_size / 2**20:8.1f} MiB in  {out.stat().st_size / 2**20:8.1f} MiB out  "
                  f"peak RSS {res['peak_mib']:7.1f} MiB  (workers {res['worker_peak_mib']:.1f} MiB)  "
                  f"{res['seconds']:7.1f} s", flush=True)
            src.unlink()
            out.unlink()


if __name__ == "__main__":
    main()
