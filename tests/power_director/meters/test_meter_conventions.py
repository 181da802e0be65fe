"""Conventions every registered instrument driver must follow (enforced, not reviewed)."""

from __future__ import annotations

import re

import pytest

from power_director.meters import PowerMeter, list_meters
from power_director.meters.base import ScpiMeter
from power_director.meters.uncertainty import ACCURACY
from power_director.testing import expected_protocol

DRIVERS = [info for info in list_meters() if info.driver is not None]
MANUAL = re.compile(r"\bIM [\w -]+\d|\b[Mm]anual\b")


def test_there_are_drivers():
    assert {"wt310e", "wt210", "wt5000"} <= {info.name for info in DRIVERS}


@pytest.mark.parametrize("info", DRIVERS, ids=lambda info: info.name)
def test_constructible_without_io(info):
    with expected_protocol(info.driver, [], model=info.name) as meter:
        assert isinstance(meter, PowerMeter)
        assert meter.name == info.name
        assert meter.channel_count >= 1
        assert meter.range_table.volts_ranges(3)
        assert meter.range_table.amps_ranges(3)


@pytest.mark.parametrize("info", DRIVERS, ids=lambda info: info.name)
def test_documented_with_manual_and_commands(info):
    assert info.driver.__doc__ and MANUAL.search(info.driver.__doc__), "class must cite a manual"
    module_doc = __import__(info.driver.__module__, fromlist=["x"]).__doc__
    assert module_doc and MANUAL.search(module_doc)
    for command in info.driver.commands():
        assert command.doc, f"{command} has no description"
        assert command.manual, f"{command} cites no manual section"
    assert info.commands
    assert info.description


@pytest.mark.parametrize("info", DRIVERS, ids=lambda info: info.name)
def test_has_accuracy_attribute_and_ranges_ascending(info):
    with expected_protocol(info.driver, [], model=info.name) as meter:
        # None only where no accuracy figure is known for the model.
        assert hasattr(meter, "accuracy")
        if info.name in ACCURACY:
            assert meter.accuracy is ACCURACY[info.name]
        for cf in meter.range_table.crest_factors:
            for ranges in (meter.range_table.volts_ranges(cf), meter.range_table.amps_ranges(cf)):
                assert list(ranges) == sorted(ranges)


def test_scpi_base_commands_are_declared_once():
    headers = [c.get_cmd or c.set_cmd for c in ScpiMeter.commands()]
    assert len(headers) == len(set(headers))
