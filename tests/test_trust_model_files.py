"""Model files run no code: crafted files are refused with one line and exit code 3."""

from __future__ import annotations

import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from noiseclf import ModelError, load_model
from trust_support import (
    SEED, assert_one_line_error, npz_arrays, npz_bytes, read_model_zip, run_cli,
    train_small_model, write_model_zip,
)


class OpenMarker:
    """Unpickling this creates (truncates) the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


class SystemTouch:
    """Unpickling this runs a shell command that creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


PAYLOADS = [OpenMarker, SystemTouch]


@pytest.fixture(scope="module")
def good_model(tmp_path_factory):
    return train_small_model(tmp_path_factory.mktemp("model") / "good.noiseclf")


@pytest.fixture(scope="module")
def staged_model(tmp_path_factory, good_model):
    """The small model with a page stage (its probabilities averaged with the first stage's)."""
    from noiseclf.modelfile import save_model
    from noiseclf.pagestage import PageStage, feature_dim

    model = load_model(good_model)
    k, d = len(model.labels), feature_dim(len(model.labels))
    model.stage = PageStage(model.labels, np.zeros(d), np.ones(d), np.zeros((k, d)), np.zeros(k), mix=0.5)
    return save_model(model, tmp_path_factory.mktemp("staged") / "staged.noiseclf")


def _armed(cls, marker):
    """Pickle bytes of the payload, after checking they really create the marker when unpickled."""
    data = pickle.dumps(cls(marker), protocol=4)
    pickle.loads(data)  # the payload works: loading it creates the marker ...
    assert marker.exists()
    marker.unlink()  # ... so its absence after noiseclf ran means noiseclf did not load it
    return data


def _refused(model_path, marker, *command, process=False):
    proc = run_cli(*(command or ("clean", SEED)), "--model", model_path, process=process)
    line = assert_one_line_error(proc, 3)
    assert not marker.exists(), "the model file ran code"
    assert proc.stdout == b""
    return line


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("suffix", [".noiseclf", ".pkl", ".joblib", ".npz", ""])
def test_plain_pickle_is_refused_whatever_its_name(tmp_path, payload, suffix):
    marker = tmp_path / "marker"
    evil = tmp_path / f"evil{suffix}"
    evil.write_bytes(_armed(payload, marker))
    line = _refused(evil, marker, process=suffix == ".noiseclf")  # one real process per payload
    assert "pickle" in line and str(evil) in line


def test_joblib_dump_is_refused(tmp_path):
    joblib = pytest.importorskip("joblib")
    marker = tmp_path / "marker"
    _armed(OpenMarker, marker)
    for compress in (0, 3):
        evil = tmp_path / f"evil{compress}.joblib"
        joblib.dump(OpenMarker(marker), evil, compress=compress)
        _refused(evil, marker)


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda c: c.__name__)
def test_pickle_as_arrays_member_with_matching_checksum(tmp_path, good_model, payload):
    marker = tmp_path / "marker"
    meta, _ = read_model_zip(good_model)
    evil = write_model_zip(tmp_path / "evil.noiseclf", meta, _armed(payload, marker))
    line = _refused(evil, marker, process=payload is SystemTouch)
    assert "arrays" in line
    with pytest.raises(ModelError):
        load_model(evil)
    assert not marker.exists()


def test_object_array_inside_npz_with_matching_checksum(tmp_path, good_model):
    """The realistic attack: a .npy holding a pickled object array, checksum recomputed."""
    marker = tmp_path / "marker"
    _armed(OpenMarker, marker)
    meta, blob = read_model_zip(good_model)
    arrays = npz_arrays(blob)
    coef = np.empty(arrays["coef"].shape, dtype=object)
    coef[...] = 0.0
    coef[0, 0] = OpenMarker(marker)
    arrays["coef"] = coef
    evil = write_model_zip(tmp_path / "evil.noiseclf", meta, npz_bytes(arrays, allow_pickle=True))
    line = _refused(evil, marker, process=True)
    assert "coef" in line and "refused" in line


def test_raw_pickle_named_npy_inside_npz(tmp_path, good_model):
    marker = tmp_path / "marker"
    meta, blob = read_model_zip(good_model)
    data = _armed(OpenMarker, marker)
    buf_path = tmp_path / "inner.npz"
    with zipfile.ZipFile(buf_path, "w") as zf:
        with zipfile.ZipFile(__import__("io").BytesIO(blob)) as src:
            for name in src.namelist():
                zf.writestr(name, data if name == "coef.npy" else src.read(name))
    evil = write_model_zip(tmp_path / "evil.noiseclf", meta, buf_path.read_bytes())
    _refused(evil, marker)


def test_pickle_as_meta_json(tmp_path, good_model):
    marker = tmp_path / "marker"
    _, blob = read_model_zip(good_model)
    evil = tmp_path / "evil.noiseclf"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("meta.json", _armed(OpenMarker, marker))
        zf.writestr("arrays.npz", blob)
    _refused(evil, marker)


@pytest.mark.parametrize("command", ["clean", "inspect", "evaluate"])
def test_every_command_refuses_a_pickle(tmp_path, command):
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(_armed(OpenMarker, marker))
    args = {"clean": ("clean", SEED), "inspect": ("inspect", SEED),
            "evaluate": ("evaluate", "--labels", SEED.parents[1] / "labels")}[command]
    _refused(evil, marker, *args)


def test_the_library_refuses_without_unpickling(tmp_path):
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.noiseclf"
    evil.write_bytes(_armed(OpenMarker, marker))
    with pytest.raises(ModelError, match="pickle"):
        load_model(evil)
    assert not marker.exists()


def test_no_pickle_loading_anywhere_in_the_package():
    """The design rule, checked in the source: no unpickling call and allow_pickle only False."""
    import noiseclf

    root = os.path.dirname(noiseclf.__file__)
    for dirpath, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".py"):
                continue
            text = open(os.path.join(dirpath, name), encoding="utf-8").read()
            for banned in ("pickle.load", "joblib.load", "allow_pickle=True", "cloudpickle", "dill."):
                assert banned not in text, f"{name} uses {banned}"


# -- damaged and tampered files --------------------------------------------------

def test_truncated_model(tmp_path, good_model):
    data = good_model.read_bytes()
    for cut in (len(data) // 2, len(data) - 10, 30):
        bad = tmp_path / f"cut{cut}.noiseclf"
        bad.write_bytes(data[:cut])
        assert_one_line_error(run_cli("clean", SEED, "--model", bad), 3)


def test_altered_arrays_fail_the_checksum(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    arrays = npz_arrays(blob)
    arrays["coef"] = arrays["coef"] * 1.5
    bad = write_model_zip(tmp_path / "bad.noiseclf", meta, npz_bytes(arrays), fix_sha=False)
    line = assert_one_line_error(run_cli("clean", SEED, "--model", bad), 3)
    assert "checksum" in line


@pytest.mark.parametrize("meta_text", ["[" * 100000, "null", "[1, 2]", '{"format": "noiseclf-model"}',
                                       '{"format": "something-else", "format_version": 1}'])
def test_hostile_metadata(tmp_path, good_model, meta_text):
    _, blob = read_model_zip(good_model)
    bad = tmp_path / "bad.noiseclf"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("meta.json", meta_text)
        zf.writestr("arrays.npz", blob)
    with pytest.raises(ModelError):
        load_model(bad)


def test_huge_declared_array_is_refused_before_allocating(tmp_path, good_model):
    meta, blob = read_model_zip(good_model)
    arrays = npz_arrays(blob)
    # A .npy header claiming 2**40 floats, with almost no data behind it.
    from numpy.lib import format as npy
    import io

    head = io.BytesIO()
    npy.write_array_header_1_0(head, {"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        for name, arr in arrays.items():
            member = io.BytesIO()
            np.save(member, arr)
            zf.writestr(name + ".npy", head.getvalue() + b"\0" * 64 if name == "idf_word" else member.getvalue())
    bad = write_model_zip(tmp_path / "bad.noiseclf", meta, inner.getvalue())
    with pytest.raises(ModelError, match="idf_word has shape"):
        load_model(bad)


@pytest.mark.parametrize("change", ["nan", "int", "zero_scale", "missing"])
def test_arrays_must_be_finite_floats(tmp_path, good_model, change):
    meta, blob = read_model_zip(good_model)
    arrays = npz_arrays(blob)
    if change == "nan":
        arrays["coef"][0, 0] = np.nan
    elif change == "int":
        arrays["intercept"] = arrays["intercept"].astype(np.int64)
    elif change == "zero_scale":
        arrays["layout_scale"][3] = 0.0
    else:
        del arrays["idf_char"]
    bad = write_model_zip(tmp_path / "bad.noiseclf", meta, npz_bytes(arrays))
    with pytest.raises(ModelError):
        load_model(bad)


@pytest.mark.parametrize("labels", [["article"], ["article", "article"], ["article", "spam"], "article", []])
def test_bad_label_sets(tmp_path, good_model, labels):
    meta, blob = read_model_zip(good_model)
    meta["labels"] = labels
    bad = write_model_zip(tmp_path / "bad.noiseclf", meta, blob)
    with pytest.raises(ModelError, match="label"):
        load_model(bad)


@pytest.mark.parametrize("key,value", [("word_bits", 40), ("word_bits", "18"), ("char_ngrams", [4, 2]),
                                       ("char_max_len", -1), ("word_weight", float("inf")),
                                       ("word_ngrams", [1, 2, 3])])
def test_feature_settings_out_of_range(tmp_path, good_model, key, value):
    meta, blob = read_model_zip(good_model)
    meta["featurizer"][key] = value
    bad = write_model_zip(tmp_path / "bad.noiseclf", meta, blob)
    with pytest.raises(ModelError, match=key):
        load_model(bad)


# A decision setting a file records: the model fixture, where the value sits, what the error names.
_BAD_DECISION_SETTINGS = [("good_model", ("options", "relative_drop"), v, "page-relative drop")
                          for v in ["0.4", -0.1, 1.5, True, [0.4]]]
_BAD_DECISION_SETTINGS += [("staged_model", ("page_stage", "mix"), v, "page-stage mix")
                           for v in [0, -0.5, 1.5, "0.5", True, None]]


@pytest.mark.parametrize("fixture,where,value,named", _BAD_DECISION_SETTINGS)
def test_a_bad_decision_setting_is_refused_on_load(tmp_path, request, fixture, where, value, named):
    meta, blob = read_model_zip(request.getfixturevalue(fixture))
    meta[where[0]][where[1]] = value
    bad = write_model_zip(tmp_path / "bad.noiseclf", meta, blob)
    with pytest.raises(ModelError, match=named):
        load_model(bad)
    assert_one_line_error(run_cli("clean", str(SEED), "--model", str(bad)), 3)


def test_extra_members_are_ignored_not_executed(tmp_path, good_model):
    """Unknown members (say, a .py file) are never opened; the model itself loads."""
    marker = tmp_path / "marker"
    meta, blob = read_model_zip(good_model)
    extra = tmp_path / "extra.noiseclf"
    with zipfile.ZipFile(extra, "w") as zf:
        zf.writestr("meta.json", json.dumps(meta))
        zf.writestr("arrays.npz", blob)
        zf.writestr("__init__.py", f"open({str(marker)!r}, 'w')")
        zf.writestr("payload.pkl", _armed(OpenMarker, marker))
    proc = run_cli("clean", SEED, "--model", extra)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
