"""Fuzz the input-reading and label-loading code for a fixed budget.

    python benchmarks/fuzz.py --target input  --seconds 180
    python benchmarks/fuzz.py --target labels --seconds 180
    python benchmarks/fuzz.py --target labels-full --seconds 120   # through datasets (slow per run)
    python benchmarks/fuzz.py --target model-file --seconds 120

With atheris installed (``pip install atheris``; a development tool, not
needed by the tests) the run is coverage-guided, starting from the seeds and
their labels; without it, Hypothesis generates a fixed number of examples
(``--examples``). Either way an input is a finding when the code under test
raises anything but noiseclf's own errors (InputError, LabelsError,
ModelError): the input is saved to ``--findings`` (default
``fuzz-findings/``) and the run stops with exit code 1. A finding, once fixed,
is kept as a regression test in tests/test_trust_*.py. The runs so far (figures
in the README) found none; the bugs found while building these checks (Arrow
quietly turning "6" into 6, deeply nested JSON, a non-.npy member in
arrays.npz, a text that is a number) are covered by tests/test_trust_labels.py
and tests/test_trust_model_files.py.

Targets:
  input        read_stdin (decode_scrape and the records/feeds check) + split_lines + Model.clean on the bytes
  labels       a labels file for seeds/000 through the strict parser and the record checks
  labels-full  the same through load_labels (Hugging Face datasets first, then the strict parser)
  model-file   the bytes as a model file (load_model)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NAME = "000_4242c970553a3e99"


def make_target(name: str, workdir: Path):
    from noiseclf import InputError, LabelsError, ModelError, load_model
    from noiseclf import labels as labels_mod
    from noiseclf.text import decode_scrape, read_stdin, split_lines

    expected = (InputError, LabelsError, ModelError)
    if name == "input":
        model = load_model()

        def target(data: bytes) -> None:
            try:
                decoded = read_stdin(io.BytesIO(data))  # what a scrape file goes through
            except InputError:
                return
            lines = split_lines(decoded.text)
            out = model.clean(decoded.text, keep=("article", "nav"))
            kept = [x for x in out.split("\n") if x]
            it = iter(lines)
            assert all(any(k == x for x in it) for k in kept), "clean output is not a subsequence of the input"

        return target, expected

    shutil.copy(ROOT / "seeds" / f"{NAME}.txt", workdir / f"{NAME}.txt")
    labels_path = workdir / f"{NAME}.jsonl"
    scrape = workdir / f"{NAME}.txt"
    scrape_lines = split_lines(decode_scrape(scrape.read_bytes()).text)

    if name == "labels":
        def target(data: bytes) -> None:
            labels_path.write_bytes(data)
            labels_mod._check_file(labels_path, labels_mod._read_records_strictly(labels_path), scrape_lines, scrape)

        return target, expected

    if name == "labels-full":
        def target(data: bytes) -> None:
            labels_path.write_bytes(data)
            labels_mod.load_labels([labels_path])

        return target, expected

    if name == "model-file":
        model_path = workdir / "fuzz.noiseclf"

        def target(data: bytes) -> None:
            model_path.write_bytes(data)
            load_model(model_path)

        return target, expected
    raise SystemExit(f"unknown target {name}")


def initial_corpus(name: str) -> list[bytes]:
    if name == "input":
        return [p.read_bytes()[:4000] for p in sorted((ROOT / "seeds").glob("*.txt"))]
    if name.startswith("labels"):
        data = (ROOT / "labels" / f"{NAME}.jsonl").read_bytes()
        return [data, data.replace(b"\n", b"\r\n"), data[: len(data) // 2]]
    # model-file: a small valid model, so that mutations reach the checks behind the zip layer
    from noiseclf.labels import load_labels
    from noiseclf.modelfile import save_model
    from noiseclf.settings import Settings
    from noiseclf.train import fit

    with tempfile.TemporaryDirectory() as d:
        m = fit(load_labels([ROOT / "labels"]), Settings(word_bits=4, char_bits=4))
        p = save_model(m, Path(d) / "m.noiseclf")
        return [p.read_bytes()]


def save_finding(findings: Path, data: bytes, exc: BaseException) -> Path:
    findings.mkdir(parents=True, exist_ok=True)
    path = findings / f"crash-{hashlib.sha1(data).hexdigest()[:12]}"
    path.write_bytes(data)
    (path.with_suffix(".txt")).write_text(f"{type(exc).__name__}: {exc}\n")
    return path


def run_atheris(name: str, seconds: int, findings: Path, workdir: Path) -> int:
    import atheris

    with atheris.instrument_imports():
        import noiseclf.labels  # noqa: F401
        import noiseclf.text  # noqa: F401
        import noiseclf.compat  # noqa: F401
    target, expected = make_target(name, workdir)
    corpus = workdir / "corpus"
    corpus.mkdir()
    for i, data in enumerate(initial_corpus(name)):
        (corpus / f"seed{i}").write_bytes(data)
    runs = [0]

    def one(data: bytes) -> None:
        runs[0] += 1
        try:
            target(data)
        except expected:
            pass
        except BaseException as exc:
            path = save_finding(findings, data, exc)
            print(f"\nFINDING after {runs[0]} runs: {type(exc).__name__}: {exc} (saved to {path})", flush=True)
            raise

    start = time.time()
    args = [sys.argv[0], f"-max_total_time={seconds}", "-max_len=20000", "-print_final_stats=1",
            "-rss_limit_mb=4096", str(corpus)]
    atheris.Setup(args, one)
    try:
        atheris.Fuzz()
    finally:
        print(f"{name}: {runs[0]} runs in {time.time() - start:.0f} s", flush=True)
    return 0


def run_hypothesis(name: str, examples: int, findings: Path, workdir: Path) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    target, expected = make_target(name, workdir)
    corpus = initial_corpus(name)

    def mutated(draw_seed):
        base, cut, insert, pos = draw_seed
        pos = pos % (len(base) + 1)
        return base[:pos] + insert + base[pos + cut:]

    strategy = st.one_of(
        st.binary(max_size=3000),
        st.tuples(st.sampled_from(corpus), st.integers(0, 50), st.binary(max_size=40), st.integers(0, 10**6)).map(mutated),
    )
    count = [0]

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def fuzz(data):
        count[0] += 1
        try:
            target(data)
        except expected:
            pass
        except BaseException as exc:
            save_finding(findings, data, exc)
            raise

    start = time.time()
    try:
        fuzz()
    except Exception as exc:  # the shrunk finding is saved above
        print(f"FINDING: {type(exc).__name__}: {exc}")
        return 1
    finally:
        print(f"{name}: {count[0]} examples in {time.time() - start:.0f} s")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", default="input", choices=["input", "labels", "labels-full", "model-file"])
    ap.add_argument("--seconds", type=int, default=180, help="atheris: time budget")
    ap.add_argument("--examples", type=int, default=20000, help="without atheris: number of Hypothesis examples")
    ap.add_argument("--findings", type=Path, default=Path("fuzz-findings"))
    ap.add_argument("--hypothesis", action="store_true", help="use Hypothesis even when atheris is installed")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="noiseclf-fuzz-") as tmp:
        try:
            if args.hypothesis:
                raise ImportError
            import atheris  # noqa: F401
        except ImportError:
            return run_hypothesis(args.target, args.examples, args.findings, Path(tmp))
        return run_atheris(args.target, args.seconds, args.findings, Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
