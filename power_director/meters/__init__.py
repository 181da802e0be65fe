"""Meter drivers and the meter registry.

Modules:
    base             -- PowerMeter Protocol, MeterIdentity, MeterConfig, RangeTable, ScpiMeter.
    commands         -- Command declarations and the control() property helper.
    values           -- numeric reply parsing; over-range / no-data markers.
    uncertainty      -- per-model accuracy specs and watts_uncertainty().
    registry         -- register_meter / register_source, open_meter(spec), list_meters().
    yokogawa         -- shared sequences of the Yokogawa drivers.
    yokogawa_wt300   -- WT310/WT310E/WT310EH/WT332(E)/WT333(E).
    yokogawa_wt210   -- WT210/WT230 (488.2 mode).
    yokogawa_wt5000  -- WT500/WT1800/WT5000 (:NUMeric dialect, per-element ranges).

Importing this package imports no driver, pyserial or pyvisa.
"""

from __future__ import annotations

from power_director.meters.base import (
    MeterConfig,
    MeterIdentity,
    PowerMeter,
    RangeTable,
    ScpiMeter,
)
from power_director.meters.commands import Command, control
from power_director.meters.registry import (
    list_meters,
    meter_info,
    open_meter,
    parse_meter_spec,
    register_meter,
    register_source,
)

__all__ = [
    "Command",
    "MeterConfig",
    "MeterIdentity",
    "PowerMeter",
    "RangeTable",
    "ScpiMeter",
    "control",
    "list_meters",
    "meter_info",
    "open_meter",
    "parse_meter_spec",
    "register_meter",
    "register_source",
]
