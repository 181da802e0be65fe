"""Workload registry, sample libraries, scoring and dataset errors (no inference here)."""

import json
import math

import numpy as np
import pytest

from suts.errors import DatasetError, ModelError, SutSpecError
from suts.workloads import AccuracyReport, decode_class, known_workloads, open_workload
from suts.workloads.base import ArrayQsl, top1_report


def test_registry():
    assert known_workloads() == ["digits", "imagenet", "resnet50-synthetic"]
    with pytest.raises(SutSpecError, match=r"unknown workload 'mnist'.*known: digits"):
        open_workload("mnist")
    with pytest.raises(SutSpecError, match=r"unknown option.*colour"):
        open_workload("digits?colour=red")
    with pytest.raises(SutSpecError, match="split='train'"):
        open_workload("digits?split=train")
    with pytest.raises(SutSpecError, match="takes no ':target'"):
        open_workload("digits:/data")


def test_report_closed_division_rule():
    r = AccuracyReport("w", "top1", 0.7570, 757, 1000, reference_accuracy=0.76456)
    assert r.target_accuracy == pytest.approx(0.7569144)
    assert r.passed is True and "PASS" in r.summary()
    r = AccuracyReport("w", "top1", 0.7560, 756, 1000, reference_accuracy=0.76456)
    assert r.passed is False and "FAIL" in r.summary()
    assert AccuracyReport("w", "top1", 0.5, 1, 2).passed is None
    assert "performance-only" in AccuracyReport("w", "none", None, 0, 3).summary()


def test_decode_class():
    assert decode_class(np.int32(7).tobytes()) == 7
    assert decode_class(np.array([0.1, 0.7, 0.2], "<f4").tobytes()) == 1
    with pytest.raises(ValueError, match="5 bytes"):
        decode_class(b"12345")


def test_top1_report_counts_each_sample_once():
    labels = [0, 1, 2]
    enc = [np.int32(c).tobytes() for c in (0, 1, 0)]
    r = top1_report("t", [(0, enc[0]), (1, enc[1]), (2, enc[2]), (0, enc[0])], labels, 1.0)
    assert (r.correct, r.sample_count) == (2, 3) and r.accuracy == pytest.approx(2 / 3)
    shifted = top1_report("t", [(0, np.int32(1).tobytes())], labels, None, label_offset=-1)
    assert shifted.correct == 1
    assert math.isnan(top1_report("t", [], labels, None).accuracy)


def test_array_qsl_load_gather_unload():
    qsl = ArrayQsl("Q", 5, 2, (2,), lambda i: np.full(2, i, np.float32))
    assert qsl.performance_sample_count == 2
    qsl.load_samples([1, 3])
    assert qsl.loaded_count == 2
    out = np.zeros((3, 2), np.float32)
    qsl.gather([3, 1, 4], out)  # 4 was not loaded: loaded on demand
    assert out[:, 0].tolist() == [3, 1, 4]
    qsl.unload_samples([1, 3, 4])
    assert qsl.loaded_count == 0
    with pytest.raises(DatasetError, match=r"index 9 is outside 0\.\.4"):
        qsl.load_samples([9])
    bad = ArrayQsl("Bad", 1, 1, (3,), lambda i: np.zeros(2, np.float32))
    with pytest.raises(DatasetError, match=r"Bad: sample 0 has shape \(2,\), expected \(3,\)"):
        bad.load_samples([0])


def test_digits_workload(model_cache):
    pytest.importorskip("sklearn")
    pytest.importorskip("openvino")
    w = open_workload("digits")
    qsl = w.qsl()
    assert (qsl.total_sample_count, qsl.performance_sample_count, qsl.sample_shape) == (
        450,
        450,
        (64,),
    )
    assert qsl.workload is w
    qsl.load_samples([0])
    assert (
        qsl.sample(0).dtype == np.float32
        and 0.0 <= qsl.sample(0).min() <= qsl.sample(0).max() <= 1.0
    )
    path = w.default_model()
    assert path.is_relative_to(model_cache) and path.with_suffix(".bin").is_file()
    meta = json.loads((path.parent / "meta.json").read_text())
    assert meta["reference_accuracy"] == pytest.approx(0.9778, abs=0.01)
    assert w.default_model() == path  # cached: the second call does not train
    assert not [p for p in path.parent.parent.iterdir() if p.name.startswith(".")]  # no temp dirs
    assert open_workload("digits?split=all").qsl().total_sample_count == 1797


def test_incomplete_cache_entry_is_rebuilt(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("openvino")
    entry = tmp_path / "models" / "digits-mlp-v1"
    entry.mkdir(parents=True)
    (entry / "model.xml").write_text("half written")
    w = open_workload(f"digits?cache_dir={tmp_path}")
    path = w.default_model()
    assert path.stat().st_size > 100 and (entry / "meta.json").is_file()


# -- imagenet ----------------------------------------------------------------------------------


def test_imagenet_workload(tiny_imagenet):
    w = open_workload(f"imagenet:{tiny_imagenet}?reference=0.8&count=4&label_offset=-1")
    assert len(w.entries) == 4 and w.label_offset == -1
    qsl = w.qsl()
    assert (qsl.total_sample_count, qsl.sample_shape, qsl.layout) == (4, (3, 224, 224), "NCHW")
    qsl.load_samples([0, 2])  # 300x400 PNG and a 180x250 one (up-sampled)
    red = qsl.sample(0)
    assert red.shape == (3, 224, 224)
    assert red[0].mean() > 50 and red[1].mean() < -50  # 200 - 123.68, 40 - 116.78
    assert open_workload(f"imagenet:{tiny_imagenet}?layout=nhwc").qsl().sample_shape == (
        224,
        224,
        3,
    )
    tv = open_workload(f"imagenet:{tiny_imagenet}?preset=torchvision")
    assert tv.preprocessing.std_rgb == (58.395, 57.12, 57.375)
    with pytest.raises(ModelError, match="no built-in model"):
        w.default_model()


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ("?preset=caffe", "preset='caffe'"),
        ("?mean=1,2", "mean='1,2' must be three numbers"),
        ("?reference=76", "reference=76.0 must be in (0, 1]"),
        ("?layout=CHW", "layout='CHW'"),
        ("?count=-3", "count=-3"),
        ("?shuffle=1", "unknown option(s) shuffle"),
    ],
)
def test_imagenet_bad_options(tiny_imagenet, options, fragment):
    with pytest.raises(SutSpecError) as err:
        open_workload(f"imagenet:{tiny_imagenet}{options}")
    assert fragment in str(err.value)


def test_imagenet_missing_files(tmp_path, tiny_imagenet):
    with pytest.raises(SutSpecError, match="give the data directory"):
        open_workload("imagenet")
    with pytest.raises(DatasetError, match=r"ImageNet directory .*nowhere does not exist"):
        open_workload(f"imagenet:{tmp_path}/nowhere")
    with pytest.raises(DatasetError, match=r"label file .*val_map\.txt does not exist"):
        open_workload(f"imagenet:{tmp_path}")
    (tmp_path / "val_map.txt").write_text("a.jpg 1\nb.jpg 2\n")
    with pytest.raises(
        DatasetError, match=r"2 image\(s\) listed in .*val_map\.txt do not exist: .*a\.jpg"
    ):
        open_workload(f"imagenet:{tmp_path}")
    (tmp_path / "val_map.txt").write_text("a.jpg one\n")
    with pytest.raises(DatasetError, match=r"val_map\.txt line 1: expected '<image> <label>'"):
        open_workload(f"imagenet:{tmp_path}")
    other = tmp_path / "labels.txt"
    other.write_text("red_a.png 0\n")
    w = open_workload(f"imagenet:{tiny_imagenet}?val_map={other}")
    assert len(w.entries) == 1


def test_imagenet_corrupt_image_names_the_file(tmp_path):
    pytest.importorskip("PIL")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (tmp_path / "val_map.txt").write_text("broken.jpg 3\n")
    qsl = open_workload(f"imagenet:{tmp_path}").qsl()
    with pytest.raises(DatasetError, match=r"cannot decode image .*broken\.jpg"):
        qsl.load_samples([0])


# -- resnet50-synthetic ------------------------------------------------------------------------


def test_synthetic_workload_spec():
    w = open_workload("resnet50-synthetic?count=8&performance=4&layout=nhwc&seed=3")
    qsl = w.qsl()
    assert (qsl.total_sample_count, qsl.performance_sample_count) == (8, 4)
    assert qsl.sample_shape == (224, 224, 3)
    np.testing.assert_array_equal(w.load(5), w.load(5))
    assert not np.array_equal(w.load(5), w.load(6))
    assert w.score([(0, b"x"), (1, b"y")]).accuracy is None
    with pytest.raises(SutSpecError, match="batch=0"):
        open_workload("resnet50-synthetic?batch=0")
