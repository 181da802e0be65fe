import pytest

from suts.errors import DeviceUnavailableError, SutSpecError
from suts.ov_devices import check_device, parse_device

CPU_ONLY = ["CPU"]


@pytest.mark.parametrize(
    "device",
    ["GPU", "NPU", "GPU.1", "AUTO:GPU,CPU", "HETERO:GPU,CPU", "MULTI:CPU,NPU", "BATCH:GPU(4)"],
)
def test_unavailable_device_lists_available(device):
    with pytest.raises(DeviceUnavailableError) as err:
        check_device(device, CPU_ONLY)
    assert "available: ['CPU']" in str(err.value)
    assert "GPU" in str(err.value) or "NPU" in str(err.value)


def test_auto_list_names_the_missing_entry():
    with pytest.raises(DeviceUnavailableError, match=r"GPU \(inside AUTO:GPU,CPU\)"):
        check_device("AUTO:GPU,CPU", CPU_ONLY)


@pytest.mark.parametrize("device", ["CPU", "cpu", "AUTO", "AUTO:CPU", "AUTO:-GPU", "MULTI:CPU"])
def test_available_on_cpu_only(device):
    check_device(device, CPU_ONLY)


@pytest.mark.parametrize(
    ("device", "available"),
    [
        ("GPU", ["CPU", "GPU.0", "GPU.1"]),  # family name matches indexed devices
        ("GPU.1", ["CPU", "GPU.0", "GPU.1"]),
        ("AUTO:GPU,CPU", ["CPU", "GPU"]),
        ("HETERO:NPU,GPU.0,CPU", ["CPU", "GPU.0", "NPU"]),
        ("BATCH:GPU(4)", ["GPU"]),
    ],
)
def test_accelerator_paths_when_present(device, available):
    check_device(device, available)


def test_index_must_match_exactly():
    with pytest.raises(DeviceUnavailableError, match=r"GPU\.2"):
        check_device("GPU.2", ["CPU", "GPU.0", "GPU.1"])


def test_auto_excluding_everything():
    with pytest.raises(DeviceUnavailableError, match="no device left"):
        check_device("AUTO:-CPU", CPU_ONLY)


@pytest.mark.parametrize(
    "device", ["", "HETERO", "MULTI:", "AUTO:GPU,,CPU", "FOO:BAR", "gpu-1", "AUTO:AUTO"]
)
def test_malformed_device(device):
    with pytest.raises(SutSpecError):
        parse_device(device)


def test_parse():
    r = parse_device("auto:gpu,-npu,cpu")
    assert (r.virtual, r.required, r.excluded) == ("AUTO", ("GPU", "CPU"), ("NPU",))
