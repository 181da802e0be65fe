"""Workloads end to end through ``loadgen.start_test`` (AccuracyOnly, plus a short perf run)."""

import json

import pytest

ov = pytest.importorskip("openvino")

from conftest import save_colour_model  # noqa: E402

import loadgen  # noqa: E402
from loadgen import TestMode, TestScenario, TestSettings  # noqa: E402
from suts import open_sut  # noqa: E402
from suts.ov_config import pin_precision  # noqa: E402
from suts.workloads import open_workload  # noqa: E402

pytestmark = pytest.mark.openvino


def accuracy_run(workload, sut_spec, out, scenario=TestScenario.Offline):
    qsl = workload.qsl()
    sut = open_sut(sut_spec, qsl)
    settings = TestSettings(scenario=scenario, mode=TestMode.AccuracyOnly)
    settings.single_stream_expected_latency_ns = 100_000
    try:
        result = loadgen.start_test(sut, qsl, settings, out_dir=out)
    finally:
        sut.close()
    entries = json.loads((out / "mlperf_log_accuracy.json").read_text(encoding="utf-8"))
    assert result.accuracy_entries == len(entries) == qsl.total_sample_count
    return result, workload.score((e["qsl_idx"], bytes.fromhex(e["data"])) for e in entries)


@pytest.mark.parametrize(
    ("scenario", "options"),
    [(TestScenario.Offline, "batch=32"), (TestScenario.SingleStream, "hint=latency&api=sync")],
)
def test_digits_accuracy_through_loadgen(tmp_path, scenario, options):
    pytest.importorskip("sklearn")
    spec = pin_precision(f"openvino:@CPU?{options}")
    result, report = accuracy_run(open_workload("digits"), spec, tmp_path, scenario)
    assert not result.errors
    assert report.sample_count == 450
    assert report.accuracy >= 0.95
    assert report.passed is True


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_imagenet_tiny_dataset_through_loadgen(tmp_path, tiny_imagenet, layout):
    model = save_colour_model(tmp_path / "colour" / "model.xml", layout=layout)
    workload = open_workload(f"imagenet:{tiny_imagenet}?reference=0.8&model={model}")
    result, report = accuracy_run(workload, "openvino:@CPU?precision=f32", tmp_path / "logs")
    assert not result.errors
    assert (report.correct, report.sample_count) == (5, 6)  # one image is mislabelled
    assert report.target_accuracy == pytest.approx(0.792)
    assert report.passed is True
    strict = open_workload(f"imagenet:{tiny_imagenet}?reference=0.9&model={model}")
    assert strict.score([]).target_accuracy == pytest.approx(0.891)


def test_resnet50_synthetic_through_loadgen(tmp_path):
    workload = open_workload("resnet50-synthetic?count=3&performance=3")
    result, report = accuracy_run(workload, "openvino:@CPU?precision=f32", tmp_path)
    assert not result.errors
    assert report.accuracy is None and report.sample_count == 3


def test_digits_offline_performance_run(tmp_path):
    pytest.importorskip("sklearn")
    workload = open_workload("digits")
    qsl = workload.qsl()
    sut = open_sut("openvino:@CPU?batch=16", qsl)
    settings = TestSettings(scenario=TestScenario.Offline, mode=TestMode.PerformanceOnly)
    settings.min_duration_ms = 300
    settings.min_query_count = 1
    settings.offline_expected_qps = 20_000
    result = loadgen.start_test(sut, qsl, settings, out_dir=tmp_path)
    sut.close()
    perf = result.performance
    assert perf is not None and not result.errors
    assert perf.sample_count >= 450  # every issued sample completed (too fast for min duration)
    assert "Samples per second" in (tmp_path / "mlperf_log_summary.txt").read_text()
