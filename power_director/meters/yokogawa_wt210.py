"""Yokogawa WT210 / WT230 digital power meters in "488.2" mode (single element read).

Manual: *WT210/WT230 Digital Power Meter User's Manual* (IM 760401-01E): chapter 11
"Communication Commands" (the ``:CONFigure``, ``:MEASure``, ``:SAMPle``, ``:INTEGrate``,
``:COMMunicate`` and ``:STATus`` groups), chapter 15 "Specifications" for ranges and accuracy. The
meter must first be switched to 488.2 mode from the front panel (LOCAL key menu, p. 11-5), or it
will not understand these commands. Command spellings cross-checked against Intel's yoko-tool
WT210 table (tested on a WT210 over serial); see ``/work/shared/reference/ecosystem.md`` §4.2.

Items: the WT210 has no numbered items; each function is switched on or off with
``:MEASure:ITEM:<function> ON|OFF`` and ``:MEASure:VALue?`` returns the enabled ones in the
meter's fixed order. The driver enables V, A, W, PF (and WH when integrating) and switches the
others off, saving and restoring all of them. Values >= 9.9E+37 mean over range / no data.

Unverified here (no hardware): the fixed reply order assumed in :data:`ITEM_ORDER`; the
``*IDN?`` model field (``760401`` model code or ``WT210``); the WT230's per-element items (only
element 1 is read); the 5 mA-200 mA current ranges of the 760401.
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

_MANUAL = "IM 760401-01E ch. 11"
_V_CF3 = (15.0, 30.0, 60.0, 150.0, 300.0, 600.0)
_V_CF6 = (7.5, 15.0, 30.0, 75.0, 150.0, 300.0)
_A_WT210 = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
_A_WT230 = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
_INTERVALS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)

#: Every measurement function, in the order ``:MEASure:VALue?`` returns enabled ones (assumed).
ITEM_ORDER = (
    "V", "A", "W", "VA", "VAR", "PF", "DEGRee", "VHZ", "AHZ", "WH", "WHP", "WHM",
    "AH", "AHP", "AHM", "MATH", "VPK", "APK", "TIME",
)  # fmt: skip
_QUANTITY = {"V": "volts", "A": "amps", "W": "watts", "PF": "power_factor", "WH": "energy_wh"}


def _model(key: str, idn: tuple[str, ...], amps: tuple[float, ...]) -> ModelSpec:
    return ModelSpec(
        key=key,
        idn_models=idn,
        elements=1,
        ranges=RangeTable(
            volts={3: _V_CF3, 6: _V_CF6}, amps={3: amps, 6: tuple(a / 2 for a in amps)}
        ),
        intervals_s=_INTERVALS,
        description=f"Yokogawa {key.upper()} digital power meter (488.2 mode, element 1)",
    )


@register_meter(
    "wt210",
    "wt230",
    interfaces=("serial", "visa"),
    tested="protocol tests",
    transport_defaults={"baud": "9600"},
)
class YokogawaWT210(YokogawaMeter):
    """Driver for the Yokogawa WT210/WT230 in 488.2 mode (IM 760401-01E ch. 11).

    Args:
        transport: an open transport; the constructor does no I/O.
        model: ``"wt210"`` or ``"wt230"``.
    """

    default_model = "wt210"
    MODELS: ClassVar[Mapping[str, ModelSpec]] = {
        "wt210": _model("wt210", ("WT210", "760401"), _A_WT210),
        "wt230": _model("wt230", ("WT230", "760502", "760503"), _A_WT230),
    }

    ITEM = Command(
        ":MEASure:ITEM:{name} {value}",
        ":MEASure:ITEM:{name}?",
        "Switch one measurement function on/off.",
        f"{_MANUAL} MEASure group",
    )
    VALUES = Command(
        None, ":MEASure:VALue?", "Read the enabled functions.", f"{_MANUAL} MEASure group"
    )
    RATE = Command(
        ":SAMPle:RATE {value}", ":SAMPle:RATE?", "Data update interval.", f"{_MANUAL} SAMPle group"
    )
    CREST_FACTOR = Command(
        ":CONFigure:CFACtor {value}",
        ":CONFigure:CFACtor?",
        "Crest factor 3 or 6.",
        f"{_MANUAL} CONFigure group",
    )
    VOLTS_RANGE = Command(
        ":CONFigure:VOLTage:RANGe {value}",
        ":CONFigure:VOLTage:RANGe?",
        "Voltage range (fixed).",
        f"{_MANUAL} CONFigure group",
    )
    VOLTS_AUTO = Command(
        ":CONFigure:VOLTage:AUTO {value}",
        ":CONFigure:VOLTage:AUTO?",
        "Voltage auto range.",
        f"{_MANUAL} CONFigure group",
    )
    AMPS_RANGE = Command(
        ":CONFigure:CURRent:RANGe {value}",
        ":CONFigure:CURRent:RANGe?",
        "Current range (fixed).",
        f"{_MANUAL} CONFigure group",
    )
    AMPS_AUTO = Command(
        ":CONFigure:CURRent:AUTO {value}",
        ":CONFigure:CURRent:AUTO?",
        "Current auto range.",
        f"{_MANUAL} CONFigure group",
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
        return [
            (self.CREST_FACTOR, {}),
            (self.RATE, {}),
            (self.VOLTS_RANGE, {}),
            (self.VOLTS_AUTO, {}),
            (self.AMPS_RANGE, {}),
            (self.AMPS_AUTO, {}),
            *[(self.ITEM, {"name": name}) for name in ITEM_ORDER],
        ]

    def _apply_items(self, channels: tuple[int, ...], integration: bool) -> None:
        wanted = {"V", "A", "W", "PF", *(["WH"] if integration else [])}
        layout: list[tuple[int, str]] = []
        for name in ITEM_ORDER:
            on = name in wanted
            self.send(self.ITEM, "ON" if on else "OFF", name=name)
            if on:
                layout.append((0, _QUANTITY[name]))
        self._layout = layout
