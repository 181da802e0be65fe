"""Yokogawa WT300/WT300E family: WT310, WT310E, WT310EH, WT332/E, WT333/E (elements as channels).

Manuals: *WT310E/WT310EH/WT332E/WT333E Digital Power Meter Communication Interface User's Manual*
(IM WT310E-17EN) and *WT310/WT310HC/WT330 Communication Interface User's Manual* (IM WT310-17EN),
chapter "Commands"; each :class:`~power_director.meters.commands.Command` below names its command
group. Ranges from the specifications (IM WT310E-02EN). Cross-checked against Intel's yoko-tool
command table (tested on WT310E/WT333E) and MLPerf power-dev's WT333E notes; see
``/work/shared/reference/ecosystem.md`` §4.1.

Items programmed per element ``e``: ``U,e``, ``I,e``, ``P,e``, ``LAMBda,e``, ``URANge,e``,
``IRANge,e`` (so the range in effect is known even on auto range), plus ``WH,e`` when integration
is on. Replies: ASCII NR3, comma-separated; ``NAN`` = no data, ``INF`` = over range.

Unverified here (no hardware): ranges are set with the element-less ``:INPut:*:RANGe`` form, which
on WT332E/WT333E sets all elements; the WT310EH and WT332E/WT333E current tables; ``URANge`` /
``IRANge`` item names (from yoko-tool's item list).
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

_MANUAL = "IM WT310E-17EN"
_V_CF3 = (15.0, 30.0, 60.0, 150.0, 300.0, 600.0)
_V_CF6 = (7.5, 15.0, 30.0, 75.0, 150.0, 300.0)
_A_WT310 = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
_A_WT310EH = (1.0, 2.0, 5.0, 10.0, 20.0, 40.0)
_A_WT330 = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
_INTERVALS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)
_INTERVALS_E = (*_INTERVALS, 10.0, 20.0)


def _table(amps_cf3: tuple[float, ...]) -> RangeTable:
    return RangeTable(
        volts={3: _V_CF3, 6: _V_CF6},
        amps={3: amps_cf3, 6: tuple(a / 2 for a in amps_cf3)},
    )


def _model(key: str, elements: int, amps: tuple[float, ...], e_series: bool) -> ModelSpec:
    model = key.upper()
    kind = "single-phase" if elements == 1 else f"{elements}-element"
    return ModelSpec(
        key=key,
        idn_models=(model,),
        elements=elements,
        ranges=_table(amps),
        intervals_s=_INTERVALS_E if e_series else _INTERVALS,
        description=f"Yokogawa {model} {kind} digital power meter",
    )


#: Item functions per quantity, in reply order within an element.
ITEMS: tuple[tuple[str, str], ...] = (
    ("volts", "U"),
    ("amps", "I"),
    ("watts", "P"),
    ("power_factor", "LAMBda"),
    ("volts_range", "URANge"),
    ("amps_range", "IRANge"),
)


@register_meter(
    "wt310e",
    "wt310eh",
    "wt332e",
    "wt333e",
    "wt310",
    "wt332",
    "wt333",
    tested="protocol tests; pty, TCP, pyvisa-py SOCKET and pyvisa-sim loopbacks",
    transport_defaults={"baud": "9600"},
)
class YokogawaWT300(YokogawaMeter):
    """Driver for the Yokogawa WT300/WT300E family (IM WT310E-17EN, IM WT310-17EN).

    Args:
        transport: an open transport; the constructor does no I/O.
        model: registry key, one of ``wt310e wt310eh wt332e wt333e wt310 wt332 wt333``.
    """

    default_model = "wt310e"
    MODELS: ClassVar[Mapping[str, ModelSpec]] = {
        m.key: m
        for m in (
            _model("wt310e", 1, _A_WT310, True),
            _model("wt310eh", 1, _A_WT310EH, True),
            _model("wt332e", 2, _A_WT330, True),
            _model("wt333e", 3, _A_WT330, True),
            _model("wt310", 1, _A_WT310, False),
            _model("wt332", 2, _A_WT330, False),
            _model("wt333", 3, _A_WT330, False),
        )
    }

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
        ":INPut:VOLTage:RANGe {value}",
        ":INPut:VOLTage:RANGe?",
        "Voltage range (fixed).",
        f"{_MANUAL} INPut group",
    )
    VOLTS_AUTO = Command(
        ":INPut:VOLTage:AUTO {value}",
        ":INPut:VOLTage:AUTO?",
        "Voltage auto range.",
        f"{_MANUAL} INPut group",
    )
    AMPS_RANGE = Command(
        ":INPut:CURRent:RANGe {value}",
        ":INPut:CURRent:RANGe?",
        "Current range (fixed).",
        f"{_MANUAL} INPut group",
    )
    AMPS_AUTO = Command(
        ":INPut:CURRent:AUTO {value}",
        ":INPut:CURRent:AUTO?",
        "Current auto range.",
        f"{_MANUAL} INPut group",
    )
    INTEGRATE_MODE = Command(
        ":INTEGrate:MODE {value}", None, "Integration mode.", f"{_MANUAL} INTEGrate group"
    )
    INTEGRATE_TIMER = Command(
        ":INTEGrate:TIMer {value}", None, "Integration timer h,m,s.", f"{_MANUAL} INTEGrate group"
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

    def _items_per_element(self) -> int:
        return len(ITEMS) + 1  # room for WH when integrating

    def _state_commands(self) -> list[tuple[Command, dict[str, Any]]]:
        items = self._items_per_element() * self.spec.elements
        return [
            (self.CREST_FACTOR, {}),
            (self.RATE, {}),
            (self.VOLTS_RANGE, {}),
            (self.VOLTS_AUTO, {}),
            (self.AMPS_RANGE, {}),
            (self.AMPS_AUTO, {}),
            *[(self.ITEM, {"n": n}) for n in range(1, items + 1)],
            (self.ITEM_COUNT, {}),
        ]

    def _setup_communication(self) -> None:
        self.send(self.NUMERIC_FORMAT, "ASCii")

    def _apply_items(self, channels: tuple[int, ...], integration: bool) -> None:
        functions = [*ITEMS, ("energy_wh", "WH")] if integration else list(ITEMS)
        layout: list[tuple[int, str]] = []
        n = 0
        for position, element in enumerate(channels):
            for quantity, function in functions:
                n += 1
                self.send(self.ITEM, f"{function},{element}", n=n)
                layout.append((position, quantity))
        self.send(self.ITEM_COUNT, n)
        self._layout = layout

    def _prepare_integration(self) -> None:
        # Normal mode with a zero timer integrates until told to stop.
        self.send(self.INTEGRATE_MODE, "NORMal")
        self.send(self.INTEGRATE_TIMER, "0,0,0")
