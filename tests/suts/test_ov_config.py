from pathlib import Path

import pytest

from suts.errors import SutSpecError
from suts.ov_config import is_model_path, parse_openvino_target, pin_precision
from suts.registry import spec_for_scenario
from suts.spec import parse_sut_spec, with_defaults


def cfg(text: str):
    return parse_openvino_target(parse_sut_spec(text))


def test_full_spec():
    c = cfg(
        "openvino:path/model.onnx@GPU?hint=throughput&nireq=4&precision=f32&streams=2"
        "&cache_dir=/tmp/c&batch=16&threads=2&api=sync&response=raw"
    )
    assert c.model == Path("path/model.onnx") and c.workload is None
    assert c.device == "GPU"
    assert (c.hint, c.nireq, c.precision, c.streams, c.threads) == ("throughput", 4, "f32", 2, 2)
    assert (c.batch, c.api, c.response, c.cache_dir) == (16, "sync", "raw", Path("/tmp/c"))
    assert c.compile_properties() == {
        "PERFORMANCE_HINT": "THROUGHPUT",
        "PERFORMANCE_HINT_NUM_REQUESTS": "4",
        "NUM_STREAMS": "2",
        "INFERENCE_NUM_THREADS": "2",
        "INFERENCE_PRECISION_HINT": "f32",
        "CACHE_DIR": "/tmp/c",
    }


@pytest.mark.parametrize(
    ("text", "model", "workload", "device"),
    [
        ("openvino:models/m.xml@CPU", Path("models/m.xml"), None, "CPU"),
        ("openvino:m.xml", Path("m.xml"), None, "CPU"),
        ("openvino:digits@CPU", None, "digits", "CPU"),
        ("openvino:@CPU", None, None, "CPU"),
        ("openvino:", None, None, "CPU"),
        ("openvino", None, None, "CPU"),
        ("openvino:m.onnx@AUTO:GPU,CPU", Path("m.onnx"), None, "AUTO:GPU,CPU"),
        ("openvino:a@b/m.xml@NPU", Path("a@b/m.xml"), None, "NPU"),
        (
            "openvino:resnet50-synthetic@HETERO:GPU,CPU",
            None,
            "resnet50-synthetic",
            "HETERO:GPU,CPU",
        ),
    ],
)
def test_targets(text, model, workload, device):
    c = cfg(text)
    assert (c.model, c.workload, c.device) == (model, workload, device)


def test_defaults():
    c = cfg("openvino:@CPU")
    assert c.hint == "throughput" and c.api == "async" and c.response == "argmax"
    assert c.compile_properties() == {"PERFORMANCE_HINT": "THROUGHPUT"}
    assert cfg("openvino:@CPU?hint=none").compile_properties() == {}
    assert cfg("openvino:@CPU?streams=auto").compile_properties()["NUM_STREAMS"] == "AUTO"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("openvino:m.xml@CPU?hint=fast", "hint='fast'"),
        ("openvino:m.xml@CPU?nireq=0", "nireq=0"),
        ("openvino:m.xml@CPU?nireq=x", "nireq='x'"),
        ("openvino:m.xml@CPU?precision=int4", "precision='int4'"),
        ("openvino:m.xml@CPU?colour=red", "unknown option(s) colour"),
        ("openvino:m.xml@", "empty device"),
        ("openvino:m.xml@CPU?cache_dir=", "cache_dir is empty"),
        ("openvino:m.xml@CPU?api=turbo", "api='turbo'"),
    ],
)
def test_bad_options_name_the_field(text, fragment):
    with pytest.raises(SutSpecError, match="SUT spec") as err:
        cfg(text)
    assert fragment in str(err.value)


def test_is_model_path():
    assert is_model_path("m.xml") and is_model_path("x/y") and is_model_path("M.ONNX")
    assert not is_model_path("digits") and not is_model_path("resnet50-synthetic")


def test_pin_precision():
    assert pin_precision("openvino:@CPU") == "openvino:@CPU?precision=f32"
    assert pin_precision("openvino:@CPU?nireq=2") == "openvino:@CPU?nireq=2&precision=f32"
    assert pin_precision("openvino:@CPU?precision=bf16") == "openvino:@CPU?precision=bf16"
    assert cfg(pin_precision("openvino:m.xml@CPU?hint=latency")).precision == "f32"


@pytest.mark.parametrize(
    ("spec", "scenario", "expected"),
    [
        ("openvino:@CPU", "SingleStream", "openvino:@CPU?hint=latency&api=sync&threads=auto"),
        (
            "openvino:m.xml@CPU?hint=throughput&threads=2",
            "SingleStream",
            "openvino:m.xml@CPU?hint=throughput&threads=2&api=sync",
        ),
        (
            "openvino:@CPU?api=async&hint=none&threads=auto",
            "SingleStream",
            "openvino:@CPU?api=async&hint=none&threads=auto",
        ),
        ("openvino:@CPU", "Offline", "openvino:@CPU"),
        ("openvino:@CPU?nireq=4", "Server", "openvino:@CPU?nireq=4"),
        ("null", "SingleStream", "null"),
        ("null-threaded?workers=2", "SingleStream", "null-threaded?workers=2"),
    ],
)
def test_spec_for_scenario_fills_only_missing_options(spec, scenario, expected):
    assert spec_for_scenario(spec, scenario) == expected
    if spec.startswith("openvino"):
        parse_openvino_target(parse_sut_spec(spec_for_scenario(spec, scenario)))  # still valid


def test_threads_auto():
    assert cfg("openvino:m.xml@CPU?threads=auto").threads == "auto"
    props = cfg("openvino:m.xml@CPU?threads=auto").compile_properties()
    assert "INFERENCE_NUM_THREADS" not in props
    assert cfg("openvino:m.xml@CPU?threads=3").compile_properties()["INFERENCE_NUM_THREADS"] == "3"
    with pytest.raises(SutSpecError, match="threads='many'"):
        cfg("openvino:m.xml@CPU?threads=many")


def test_with_defaults():
    assert with_defaults("null", {}) == "null"
    assert with_defaults("s:t?a=1", {"a": "2", "b": "3"}) == "s:t?a=1&b=3"
    assert with_defaults("s:t?", {"b": "3"}) == "s:t?b=3"
