"""NVML and AMD SMI: real 'unavailable' paths on this machine, available paths on fake libraries."""

from __future__ import annotations

import pytest

from power_director.errors import MeterSpecError, MeterUnavailableError
from power_director.meters.amd_smi import AmdSmiSource, load_amdsmi
from power_director.meters.nvml import NvmlSource
from power_director.meters.registry import open_meter
from power_director.samples import FLAG_NO_DATA


class FakeClock:
    def __init__(self):
        self.ns = 0

    def __call__(self):
        return self.ns


class NVMLError(Exception):
    pass


class FakeNvml:
    NVMLError = NVMLError

    def __init__(self, energy_supported=(True, False), count=2, init_error=None):
        self.energy_supported = energy_supported
        self.count = count
        self.init_error = init_error
        self.energy_mj = [1000, 0]
        self.power_mw = [0, 75_500]
        self.shutdown = False

    def nvmlInit(self):
        if self.init_error:
            raise self.init_error

    def nvmlShutdown(self):
        self.shutdown = True

    def nvmlDeviceGetCount(self):
        return self.count

    def nvmlDeviceGetHandleByIndex(self, index):
        return index

    def nvmlDeviceGetName(self, handle):
        return b"NVIDIA H100"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self.energy_supported[handle]:
            raise NVMLError("Not Supported")
        return self.energy_mj[handle]

    def nvmlDeviceGetPowerUsage(self, handle):
        return self.power_mw[handle]


def test_nvml_unavailable_on_this_machine():
    with pytest.raises(MeterUnavailableError, match="NVML unavailable"):
        open_meter("nvml")


def test_nvml_bad_spec_is_a_spec_error():
    with pytest.raises(MeterSpecError, match="expected GPU indices"):
        open_meter("nvml@first")


def test_nvml_init_failure_is_unavailable():
    fake = FakeNvml(init_error=NVMLError("NVML Shared Library Not Found"))
    with pytest.raises(MeterUnavailableError, match="Library Not Found"):
        NvmlSource(fake).open()


def test_nvml_no_gpu_is_unavailable_and_shuts_down():
    fake = FakeNvml(count=0)
    with pytest.raises(MeterUnavailableError, match="no NVIDIA GPU"):
        NvmlSource(fake).open()
    assert fake.shutdown


def test_nvml_energy_counter_and_power_fallback():
    fake, clock = FakeNvml(), FakeClock()
    source = NvmlSource(fake, clock=clock)
    identity = source.open()
    assert identity.firmware == "NVML energy,power"
    counter, gauge = source.read()
    assert counter.flags == {FLAG_NO_DATA}
    assert gauge.valid and gauge.watts == pytest.approx(75.5)
    assert gauge.watts_uncertainty == pytest.approx(5.0)
    clock.ns = 2_000_000_000
    fake.energy_mj[0] = 401_000
    counter, _ = source.read()
    assert counter.watts == pytest.approx(200.0)
    assert counter.energy_joules == pytest.approx(400.0)
    source.close()
    assert fake.shutdown


class AmdSmiException(Exception):
    pass


class FakeAmdSmi:
    AmdSmiException = AmdSmiException

    def __init__(self, energy=True):
        self.energy = energy
        self.accumulator = 0
        self.power = {"current_socket_power": "N/A", "average_socket_power": 120}
        self.shut = False

    def amdsmi_init(self):
        pass

    def amdsmi_shut_down(self):
        self.shut = True

    def amdsmi_get_processor_handles(self):
        return ["gpu0"]

    def amdsmi_get_gpu_asic_info(self, handle):
        return {"market_name": "AMD Instinct MI300X"}

    def amdsmi_get_energy_count(self, handle):
        if not self.energy:
            raise AmdSmiException("AMDSMI_STATUS_NOT_SUPPORTED")
        return {"energy_accumulator": self.accumulator, "counter_resolution": 15.3}

    def amdsmi_get_power_info(self, handle):
        return self.power


def test_amdsmi_unavailable_on_this_machine():
    with pytest.raises(MeterUnavailableError, match="AMD SMI unavailable: cannot import"):
        load_amdsmi()
    with pytest.raises(MeterUnavailableError):
        open_meter("amdsmi")


def test_amdsmi_import_keyerror_is_unavailable(monkeypatch, tmp_path):
    (tmp_path / "amdsmi.py").write_text("raise KeyError('libamd_smi.so')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MeterUnavailableError, match="KeyError"):
        load_amdsmi()


def test_amdsmi_energy_counter():
    fake, clock = FakeAmdSmi(), FakeClock()
    source = AmdSmiSource(fake, clock=clock)
    assert "MI300X" in source.open().model
    source.read()
    clock.ns = 1_000_000_000
    fake.accumulator = 10_000_000  # x 15.3 µJ = 153 J
    (reading,) = source.read()
    assert reading.watts == pytest.approx(153.0)
    assert reading.watts_uncertainty == pytest.approx(153.0 * 0.05)
    source.close()
    assert fake.shut


def test_amdsmi_power_fallback_skips_na():
    source = AmdSmiSource(FakeAmdSmi(energy=False))
    source.open()
    (reading,) = source.read()
    assert reading.watts == 120.0 and reading.energy_joules is None
