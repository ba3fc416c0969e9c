from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
LABELS_DIR = ROOT / "labels"
SEED_003 = SEEDS / "003_961445eb337fe995.txt"


@pytest.fixture(scope="session")
def seed_scrapes():
    from noiseclf.labels import load_labels

    return load_labels([LABELS_DIR])


@pytest.fixture(scope="session")
def shipped_model():
    from noiseclf import load_model

    return load_model()


@pytest.fixture(scope="session")
def seed_model_path(tmp_path_factory, seed_scrapes):
    """A small model trained on the seeds, written to disk once per test session."""
    from noiseclf.modelfile import save_model
    from noiseclf.train import train

    model, _ = train(seed_scrapes, cross_validation=False)
    return save_model(model, tmp_path_factory.mktemp("model") / "seeds.noiseclf")


@pytest.fixture
def labelled_copy(tmp_path):
    """A writable copy of one seed and its labels, in one folder."""
    name = "003_961445eb337fe995"
    shutil.copy(SEEDS / f"{name}.txt", tmp_path / f"{name}.txt")
    shutil.copy(LABELS_DIR / f"{name}.jsonl", tmp_path / f"{name}.jsonl")
    return tmp_path, name
