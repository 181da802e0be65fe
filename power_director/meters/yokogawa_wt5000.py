"""Yokogawa WT500 / WT1800 / WT5000 precision power analyzers (``:NUMeric`` dialect, elements).

Manuals: *WT5000 Communication Interface User's Manual* (IM WT5000-17EN), *WT1801/WT1802/WT1803/
WT1804/WT1805/WT1806 Communication Interface User's Manual* (IM WT1801-17EN) and *WT500
Communication Interface User's Manual* (IM 760201-17E), chapter "Commands": ``COMMunicate``,
``INPut`` (per-element ``RANGe:ELEMent<x>`` / ``AUTO:ELEMent<x>``), ``NUMeric``, ``RATE``,
``INTEGrate`` and ``STATus`` groups.

Each element is a channel with its own ranges. Items per element ``e``: ``URMS,e``, ``IRMS,e``,
``P,e``, ``LAMBda,e`` (and ``WP,e``, watt-hours, when integrating). Replies: ASCII NR3;
``NAN`` = no data, ``INF`` = over range. The range in effect is tracked from what the driver
set, so on auto range readings carry no range and no uncertainty.

**Not verified against the manuals or hardware here**: every range table and update interval
below, the ``*IDN?`` model fields, the ``URMS``/``IRMS``/``WP`` item names on the WT500, and
the installed element count (the default is the model's maximum; read fewer with
``MeterConfig.channels``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from power_director.meters.base import RangeTable
from power_director.meters.commands import Command
from power_director.meters.registry import register_meter
from power_director.meters.yokogawa import ModelSpec, YokogawaMeter

log = logging.getLogger(__name__)

_MANUAL = "IM WT5000-17EN"
_V_WIDE = (1.5, 3.0, 6.0, 10.0, 15.0, 30.0, 60.0, 100.0, 150.0, 300.0, 600.0, 1000.0)
_V_WT500 = (15.0, 30.0, 60.0, 100.0, 150.0, 300.0, 600.0, 1000.0)

#: Item functions per quantity, in reply order within an element.
ITEMS: tuple[tuple[str, str], ...] = (
    ("volts", "URMS"),
    ("amps", "IRMS"),
    ("watts", "P"),
    ("power_factor", "LAMBda"),
)


def _model(
    key: str,
    idn: tuple[str, ...],
    elements: int,
    volts: tuple[float, ...],
    amps: tuple[float, ...],
    intervals: tuple[float, ...],
) -> ModelSpec:
    return ModelSpec(
        key=key,
        idn_models=idn,
        elements=elements,
        ranges=RangeTable(
            volts={3: volts, 6: tuple(v / 2 for v in volts)},
            amps={3: amps, 6: tuple(a / 2 for a in amps)},
        ),
        intervals_s=intervals,
        description=f"Yokogawa {key.upper()} power analyzer, up to {elements} elements",
    )


@register_meter(
    "wt5000",
    "wt1800",
    "wt500",
    interfaces=("visa", "tcp"),
    tested="protocol tests (command strings unverified on hardware)",
)
class YokogawaWT5000(YokogawaMeter):
    """Driver for the Yokogawa WT500/WT1800/WT5000 (IM WT5000-17EN, IM WT1801-17EN, IM 760201-17E).

    Args:
        transport: an open transport; the constructor does no I/O.
        model: ``"wt5000"``, ``"wt1800"`` or ``"wt500"``.
    """

    default_model = "wt5000"
    MODELS: ClassVar[Mapping[str, ModelSpec]] = {
        "wt5000": _model("wt5000", ("WT5000",), 4, _V_WIDE,
                         (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0),
                         (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)),
        "wt1800": _model("wt1800", ("WT18",), 6, _V_WIDE,
                         (1.0, 2.0, 5.0, 10.0, 20.0, 50.0),
                         (0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)),
        "wt500": _model("wt500", ("WT500", "7602"), 3, _V_WT500,
                        (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 40.0),
                        (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)),
    }  # fmt: skip

    NUMERIC_FORMAT = Command(
        ":NUMeric:FORMat {value}", None, "ASCII or float replies.", f"{_MANUAL} NUMeric group"
    )
    ITEM_COUNT = Command(
        ":NUMeric:NORMal:NUMber {value}",
        ":NUMeric:NORMal:NUMber?",
        "Number of numeric items sent.",
        f"{_MANUAL} NUMeric group",
    )
    ITEM = Command(
        ":NUMeric:NORMal:ITEM{n} {value}",
        ":NUMeric:NORMal:ITEM{n}?",
        "Function and element of item n.",
        f"{_MANUAL} NUMeric group",
    )
    VALUES = Command(
        None, ":NUMeric:NORMal:VALue?", "Read all numeric items.", f"{_MANUAL} NUMeric group"
    )
    RATE = Command(":RATE {value}", ":RATE?", "Data update interval.", f"{_MANUAL} RATE group")
    CREST_FACTOR = Command(
        ":INPut:CFACtor {value}",
        ":INPut:CFACtor?",
        "Crest factor 3 or 6.",
        f"{_MANUAL} INPut group",
    )
    VOLTS_RANGE = Command(
        ":INPut:VOLTage:RANGe:ELEMent{element} {value}",
        ":INPut:VOLTage:RANGe:ELEMent{element}?",
        "Voltage range of one element.",
        f"{_MANUAL} INPut group",
    )
    VOLTS_AUTO = Command(
        ":INPut:VOLTage:AUTO:ELEMent{element} {value}",
        ":INPut:VOLTage:AUTO:ELEMent{element}?",
        "Voltage auto range of one element.",
        f"{_MANUAL} INPut group",
    )
    AMPS_RANGE = Command(
        ":INPut:CURRent:RANGe:ELEMent{element} {value}",
        ":INPut:CURRent:RANGe:ELEMent{element}?",
        "Current range of one element.",
        f"{_MANUAL} INPut group",
    )
    AMPS_AUTO = Command(
        ":INPut:CURRent:AUTO:ELEMent{element} {value}",
        ":INPut:CURRent:AUTO:ELEMent{element}?",
        "Current auto range of one element.",
        f"{_MANUAL} INPut group",
    )
    INTEGRATE_START = Command(
        ":INTEGrate:STARt", None, "Start integration.", f"{_MANUAL} INTEGrate group"
    )
    INTEGRATE_STOP = Command(
        ":INTEGrate:STOP", None, "Stop integration.", f"{_MANUAL} INTEGrate group"
    )
    INTEGRATE_RESET = Command(
        ":INTEGrate:RESet", None, "Reset integration.", f"{_MANUAL} INTEGrate group"
    )

    def _state_commands(self) -> list[tuple[Command, dict[str, Any]]]:
        per_element: list[tuple[Command, dict[str, Any]]] = []
        for element in range(1, self.spec.elements + 1):
            for command in (self.VOLTS_RANGE, self.VOLTS_AUTO, self.AMPS_RANGE, self.AMPS_AUTO):
                per_element.append((command, {"element": element}))
        items = (len(ITEMS) + 1) * self.spec.elements
        return [
            (self.CREST_FACTOR, {}),
            (self.RATE, {}),
            *per_element,
            *[(self.ITEM, {"n": n}) for n in range(1, items + 1)],
            (self.ITEM_COUNT, {}),
        ]

    def _range_targets(self, channel: int | None) -> list[dict[str, Any]]:
        elements = [channel] if channel is not None else list(self._channels)
        return [{"element": element} for element in elements]

    def _setup_communication(self) -> None:
        self.send(self.NUMERIC_FORMAT, "ASCii")

    def _apply_items(self, channels: tuple[int, ...], integration: bool) -> None:
        functions = [*ITEMS, ("energy_wh", "WP")] if integration else list(ITEMS)
        layout: list[tuple[int, str]] = []
        n = 0
        for position, element in enumerate(channels):
            for quantity, function in functions:
                n += 1
                self.send(self.ITEM, f"{function},{element}", n=n)
                layout.append((position, quantity))
        self.send(self.ITEM_COUNT, n)
        self._layout = layout
