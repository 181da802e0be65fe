"""Conventions every driver of this folder keeps: registered, documented, constructible."""

from __future__ import annotations

import importlib

import pytest

from power_director.meters.base import PowerMeter
from power_director.meters.registry import list_meters, meter_info
from power_director.testing import expected_protocol

DRIVERS = {
    "power_director.meters.hioki_pw3335": ("pw3335", "pw3336", "pw3337"),
    "power_director.meters.rs_hmc8015": ("hmc8015",),
    "power_director.meters.chroma_662xx": ("chroma66202", "chroma66205"),
    "power_director.meters.zes_lmg": ("lmg",),
}
SOURCES = {
    "power_director.meters.rapl": "rapl",
    "power_director.meters.nvml": "nvml",
    "power_director.meters.amd_smi": "amdsmi",
}
CASES = [(module, name) for module, names in DRIVERS.items() for name in names]


@pytest.mark.parametrize(("module", "name"), CASES)
def test_driver_is_registered_documented_and_constructible(module, name):
    importlib.import_module(module)
    info = meter_info(name)
    assert info.driver is not None and info.commands
    assert "Manual" in (importlib.import_module(module).__doc__ or "")
    for command in info.driver.commands():
        assert command.manual, command
    with expected_protocol(info.driver, [], model=name) as meter:
        assert isinstance(meter, PowerMeter)
        assert meter.range_table.volts_ranges(3)


@pytest.mark.parametrize(("module", "name"), SOURCES.items())
def test_software_source_is_registered(module, name):
    importlib.import_module(module)
    assert meter_info(name).interfaces == ("software",)


def test_list_meters_includes_every_model():
    for module in [*DRIVERS, *SOURCES]:
        importlib.import_module(module)
    names = {info.name for info in list_meters()}
    assert {name for _, name in CASES} | set(SOURCES.values()) <= names
