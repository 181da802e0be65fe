"""The OpenVINO SUT driven directly (no LoadGen): accuracy, batching, threads, errors."""

import subprocess
import sys
import threading

import numpy as np
import pytest

ov = pytest.importorskip("openvino")
pytest.importorskip("sklearn")

from conftest import Collector, run_offline, save_colour_model  # noqa: E402

from loadgen.interfaces import QuerySample, SystemUnderTest  # noqa: E402
from suts import open_sut  # noqa: E402
from suts.errors import DeviceUnavailableError, ModelError, SutSpecError  # noqa: E402
from suts.null import SyntheticQsl  # noqa: E402
from suts.ov_models import build_mlp, build_tiny_cnn, save_model_atomic  # noqa: E402
from suts.workloads import open_workload  # noqa: E402

pytestmark = pytest.mark.openvino


@pytest.fixture(scope="module")
def digits():
    return open_workload("digits")


def test_import_suts_stays_light():
    code = (
        "import sys, suts, suts.workloads, suts.ov_config, suts.ov_devices;"
        "suts.workloads.known_workloads();"
        "print(sorted(m for m in ('openvino', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "options",
    [
        "precision=f32",
        "precision=f32&batch=1&nireq=3",
        "precision=f32&hint=latency&batch=64",
        "precision=f32&api=sync&batch=7",
        "precision=f32&response=raw",
    ],
)
def test_digits_accuracy_f32(digits, options):
    qsl = digits.qsl()
    sut = open_sut(f"openvino:@CPU?{options}", qsl)
    assert isinstance(sut, SystemUnderTest)
    report = digits.score(run_offline(sut, qsl))
    sut.close()
    assert report.sample_count == 450
    assert report.accuracy >= 0.95
    # f32 reproduces scikit-learn exactly, so the closed-division check passes
    assert report.accuracy == pytest.approx(report.reference_accuracy, abs=1 / 450)
    assert report.passed is True


def test_named_workload_model_and_auto_device(digits):
    qsl = digits.qsl()
    sut = open_sut("openvino:digits@AUTO?precision=f32", qsl)
    assert digits.score(run_offline(sut, qsl)).accuracy >= 0.95
    assert sut.describe()["EXECUTION_DEVICES"] == "CPU"


def test_describe(digits):
    sut = open_sut("openvino:@CPU?precision=f32&hint=throughput&nireq=2", digits.qsl())
    info = sut.describe()
    assert info["device"] == "CPU"
    assert info["openvino_version"] == ov.get_version()
    assert info["INFERENCE_PRECISION_HINT"] == "f32"
    assert info["PERFORMANCE_HINT"] == "THROUGHPUT"
    assert info["nireq"] == "2"
    assert int(info["OPTIMAL_NUMBER_OF_INFER_REQUESTS"]) >= 1
    assert int(info["NUM_STREAMS"]) >= 1
    assert info["model"].endswith("model.xml")
    assert "samples [64], dynamic batch" in info["input"]
    assert all(isinstance(v, str) for v in info.values())


def test_default_request_count_covers_python_completion(digits):
    """Without nireq the async queue holds at least MIN_ASYNC_REQUESTS; sync uses one request."""
    from suts.ov_config import MIN_ASYNC_REQUESTS

    sut = open_sut("openvino:@CPU?precision=f32", digits.qsl())
    optimal = int(sut.describe()["OPTIMAL_NUMBER_OF_INFER_REQUESTS"])
    assert sut.nireq == max(optimal, MIN_ASYNC_REQUESTS)
    assert sut.describe()["nireq"] == str(sut.nireq)
    sync = open_sut("openvino:@CPU?precision=f32&api=sync&nireq=5", digits.qsl())
    assert sync.describe()["nireq"] == "1"


def test_singlestream_spec_runs_the_latency_configuration(digits):
    from suts import spec_for_scenario

    spec = spec_for_scenario("openvino:@CPU?precision=f32", "SingleStream")
    info = open_sut(spec, digits.qsl()).describe()
    assert (info["PERFORMANCE_HINT"], info["api"]) == ("LATENCY", "sync")
    assert int(info["NUM_STREAMS"]) == 1


@pytest.mark.parametrize("api", ["async", "sync"])
def test_single_sample_queries_from_many_threads(digits, api):
    """LoadGen may issue from several threads while callbacks complete from OpenVINO's."""
    qsl = digits.qsl()
    qsl.load_samples(range(qsl.total_sample_count))
    sut = open_sut(f"openvino:@CPU?precision=f32&nireq=4&api={api}", qsl)
    done = Collector(qsl.total_sample_count)

    def issue(start):
        for i in range(start, qsl.total_sample_count, 4):
            sut.issue_queries([QuerySample(i + 1, i)], done)

    threads = [threading.Thread(target=issue, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.wait()
    sut.flush_queries()
    assert done.duplicates == 0
    report = digits.score((i, done.payloads[i + 1]) for i in range(qsl.total_sample_count))
    assert report.accuracy >= 0.95


def test_static_batch_model_pads_partial_batches(tmp_path, digits):
    data = digits.data()
    rng = np.random.default_rng(0)
    w = rng.standard_normal((64, 10)).astype(np.float32)
    model = build_mlp([w], [np.zeros(10, np.float32)])
    model.reshape([4, 64])
    path = save_model_atomic(model, tmp_path / "m" / "model.xml")
    qsl = digits.qsl()
    sut = open_sut(f"openvino:{path}@CPU?precision=f32", qsl)
    assert sut.batch == 4
    results = dict(run_offline(sut, qsl, list(range(10))))  # 4 + 4 + 2 (padded)
    expected = (data.x_test[:10] @ w).argmax(axis=1)
    got = [int(np.frombuffer(results[i], "<i4")[0]) for i in range(10)]
    assert got == expected.tolist()
    single = dict(run_offline(sut, qsl, [3]))
    assert int(np.frombuffer(single[3], "<i4")[0]) == expected[3]


def test_random_inputs_for_a_plain_qsl(tmp_path):
    path = save_model_atomic(build_tiny_cnn(), tmp_path / "cnn" / "model.xml")
    qsl = SyntheticQsl(16)
    sut = open_sut(f"openvino:{path}@CPU", qsl)
    payloads = [p for _, p in run_offline(sut, qsl)]
    assert len(payloads) == 16 and all(len(p) == 4 for p in payloads)
    assert all(0 <= int(np.frombuffer(p, "<i4")[0]) < 10 for p in payloads)


def test_layout_adapted_for_nhwc_model(tmp_path, tiny_imagenet):
    model = save_colour_model(tmp_path / "nhwc" / "model.xml", layout="NHWC")
    workload = open_workload(f"imagenet:{tiny_imagenet}?reference=0.8")
    qsl = workload.qsl()  # NCHW samples
    sut = open_sut(f"openvino:{model}@CPU?precision=f32", qsl)
    assert "(CHW -> HWC)" in sut.describe()["input"]
    report = workload.score(run_offline(sut, qsl))
    assert (report.correct, report.sample_count) == (5, 6)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["GPU", "NPU", "AUTO:GPU,CPU", "HETERO:GPU,CPU", "MULTI:NPU"])
def test_unavailable_device_is_reported_before_anything_else(device):
    # the model does not exist either: the device check comes first, nothing is trained/compiled
    with pytest.raises(DeviceUnavailableError, match=r"available: \['CPU'\]"):
        open_sut(f"openvino:missing/model.xml@{device}", SyntheticQsl(4))


def test_missing_model(tmp_path):
    with pytest.raises(ModelError, match=r"nope\.xml does not exist"):
        open_sut(f"openvino:{tmp_path}/nope.xml@CPU", SyntheticQsl(4))


def test_missing_weights(tmp_path):
    (tmp_path / "m.xml").write_text("<net/>")
    with pytest.raises(ModelError, match=r"m\.bin"):
        open_sut(f"openvino:{tmp_path}/m.xml@CPU", SyntheticQsl(4))


@pytest.mark.parametrize("suffix", [".xml", ".onnx"])
def test_corrupt_model(tmp_path, suffix):
    path = tmp_path / f"corrupt{suffix}"
    path.write_bytes(b"\x00\x01 this is not a model \xff" * 10)
    path.with_suffix(".bin").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match=f"cannot read model .*corrupt\\{suffix}"):
        open_sut(f"openvino:{path}@CPU", SyntheticQsl(4))


def test_input_shape_mismatch(tmp_path, digits):
    model = build_mlp([np.zeros((65, 10), np.float32)], [np.zeros(10, np.float32)])
    path = save_model_atomic(model, tmp_path / "m65" / "model.xml")
    expected = r"input shape mismatch: model .*model\.xml input 'input' is \[\?,65\], but samples"
    with pytest.raises(ModelError, match=expected + r" of DigitsQSL have shape \[64\]"):
        open_sut(f"openvino:{path}@CPU", digits.qsl())


def test_no_model_and_no_workload():
    with pytest.raises(ModelError, match="names no model"):
        open_sut("openvino:@CPU", SyntheticQsl(4))


def test_unknown_workload_name():
    with pytest.raises(SutSpecError, match="unknown workload 'cifar'"):
        open_sut("openvino:cifar@CPU", SyntheticQsl(4))
