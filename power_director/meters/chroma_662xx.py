"""Chroma ATE 66202 and 66205 single-phase digital power meters.

Manual: *Chroma 66200 Series Digital Power Meter User's Manual*, chapter "Remote operation"
(SYSTem and SOURce subsystems, MEASure/FETCh queries); command set recorded in
``/work/shared/reference/ecosystem.md`` §4.4 from a Red Hat measurement tool and the 66204
drivers of python-equipment-drivers. Interfaces: USBTMC, GP-IB, RS-232.

Verified against those sources: ``*IDN?`` (``Chroma ATE,66202,<serial>,<fw>``); the set-up
``SYST:HEAD OFF``, ``SYST:TRAN:SEP 1``, ``SYST:TRAN:TERM 0``, ``SOUR:MEAS:MODE WINDOW``,
``SOUR:MEAS:WIND <s>`` (0-10 s measurement window, used as the update interval),
``SOUR:TRIG:MODE NONE``; ranges ``SOUR:VOLT:RANG AUTO|V150|V300|V500``,
``SOUR:CURR:RANG AUTO|A001|A01|A04|A2L|A02|A2H|A8|A20``, ``SOUR:CURR:SHUN AUTO|LOW|HIGH``;
``MEAS? V,I,W,PF``. Special values: -1 = integration in progress, -2 = range-change error,
-3 = over range. They are applied to the voltage and current fields only (which are never
negative), so a legitimate PF of -1 is not mistaken for a marker; -1 and -2 become ``no_data``.

Assumptions (not verified here): the query forms of the set-up and range commands; the amperes
of the current range codes (``A001`` 10 mA, ``A01`` 100 mA, ``A02`` 200 mA, ``A04`` 400 mA,
``A2H`` 2 A, ``A8`` 8 A, ``A20`` 20 A; ``A001``/``A01``/``A04`` on the LOW shunt, the rest on
HIGH; ``A2L`` unused); the window lower bound 0.1 s; crest factor fixed at 3; the 66205 using the
66202 tables; both accuracy specs. Integration (``SOUR:POW:INT``) is not used by this driver.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any, ClassVar

from power_director.meters.analyzer import AnalyzerMeter, AnalyzerModel
from power_director.meters.base import MeterIdentity, RangeTable
from power_director.meters.commands import Command
from power_director.meters.registry import register_meter
from power_director.meters.uncertainty import AccuracyBand, AccuracySpec
from power_director.meters.values import Field
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE

log = logging.getLogger(__name__)

_MANUAL = "Chroma 66200 User's Manual, Remote operation"
#: Current range code -> (amperes, shunt).
AMPS_CODES: Mapping[str, tuple[float, str]] = {
    "A001": (0.01, "LOW"),
    "A01": (0.1, "LOW"),
    "A02": (0.2, "HIGH"),
    "A04": (0.4, "LOW"),
    "A2H": (2.0, "HIGH"),
    "A8": (8.0, "HIGH"),
    "A20": (20.0, "HIGH"),
}
#: Special values of the voltage and current fields.
SPECIAL: Mapping[float, str] = {-1.0: FLAG_NO_DATA, -2.0: FLAG_NO_DATA, -3.0: FLAG_OVER_RANGE}
ITEMS: tuple[tuple[str, str], ...] = (
    ("volts", "V"),
    ("amps", "I"),
    ("watts", "W"),
    ("power_factor", "PF"),
)
_TABLE = RangeTable(
    volts={3: (150.0, 300.0, 500.0)}, amps={3: tuple(sorted(a for a, _ in AMPS_CODES.values()))}
)


def _model(key: str, reading_pct: float, range_pct: float) -> AnalyzerModel:
    number = key.removeprefix("chroma")
    return AnalyzerModel(
        key=key,
        idn_models=(number,),
        channels=1,
        ranges=_TABLE,
        intervals_s=(),
        description=f"Chroma {number} single-phase digital power meter",
        accuracy=AccuracySpec(
            number,
            (AccuracyBand(45.0, 66.0, reading_pct, range_pct),),
            "Chroma 66200 data sheet (assumed figures, not checked)",
            verified=False,
        ),
        interval_limits_s=(0.1, 10.0),
    )


@register_meter("chroma66202", "chroma66205", tested="protocol tests")
class Chroma662xx(AnalyzerMeter):
    """Driver for the Chroma 66202/66205 (66200 User's Manual, Remote operation).

    Args:
        transport: an open transport; the constructor does no I/O.
        model: registry key, ``chroma66202`` or ``chroma66205``.
    """

    default_model = "chroma66202"
    MODELS: ClassVar[Mapping[str, AnalyzerModel]] = {
        m.key: m for m in (_model("chroma66202", 0.1, 0.1), _model("chroma66205", 0.05, 0.05))
    }
    AUTO_ON: ClassVar[str] = "AUTO"
    SUPPORTS_INTEGRATION: ClassVar[bool] = False

    HEADER = Command("SYST:HEAD {value}", None, "Reply headers.", f"{_MANUAL}, SYSTem:HEADer")
    SEPARATOR_MODE = Command(
        "SYST:TRAN:SEP {value}", None, "Reply separator.", f"{_MANUAL}, SYSTem:TRANsfer"
    )
    TERMINATOR_MODE = Command(
        "SYST:TRAN:TERM {value}", None, "Reply terminator.", f"{_MANUAL}, SYSTem:TRANsfer"
    )
    TRIGGER_MODE = Command(
        "SOUR:TRIG:MODE {value}", "SOUR:TRIG:MODE?", "Trigger mode.", f"{_MANUAL}, SOURce:TRIG"
    )
    MEASURE_MODE = Command(
        "SOUR:MEAS:MODE {value}", "SOUR:MEAS:MODE?", "Measurement mode.", f"{_MANUAL}, SOURce:MEAS"
    )
    RATE = Command(
        "SOUR:MEAS:WIND {value}",
        "SOUR:MEAS:WIND?",
        "Measurement window, s.",
        f"{_MANUAL}, SOURce:MEASure:WINDow",
    )
    SHUNT = Command(
        "SOUR:CURR:SHUN {value}", "SOUR:CURR:SHUN?", "Current shunt.", f"{_MANUAL}, SOURce:CURR"
    )
    VOLTS_RANGE = Command(
        "SOUR:VOLT:RANG {value}",
        "SOUR:VOLT:RANG?",
        "Voltage range or AUTO.",
        f"{_MANUAL}, SOURce:VOLTage:RANGe",
    )
    AMPS_RANGE = Command(
        "SOUR:CURR:RANG {value}",
        "SOUR:CURR:RANG?",
        "Current range or AUTO.",
        f"{_MANUAL}, SOURce:CURRent:RANGe",
    )
    MEASURE = Command(None, "MEAS? {items}", "Read the listed items.", f"{_MANUAL}, MEASure?")

    def __init__(self, transport: Any, *, model: str | None = None) -> None:
        super().__init__(transport, model=model)
        self._items = ""

    def _setup_communication(self) -> None:
        self.send(self.HEADER, "OFF")
        self.send(self.SEPARATOR_MODE, 1)
        self.send(self.TERMINATOR_MODE, 0)

    def _state_commands(self) -> list[tuple[Command, dict[str, Any]]]:
        commands = (self.TRIGGER_MODE, self.MEASURE_MODE, self.RATE, self.VOLTS_RANGE,
                    self.SHUNT, self.AMPS_RANGE)  # fmt: skip
        return [(command, {}) for command in commands]

    def open(self) -> MeterIdentity:
        """Identify, save the initial state, then select windowed, untriggered measurement."""
        identity = super().open()
        self.send(self.TRIGGER_MODE, "NONE")
        self.send(self.MEASURE_MODE, "WINDOW")
        for command, _, reply in self._saved or []:
            if command is self.RATE:
                self._interval_s = _float_or_nan(reply)
        return identity

    def _range_commands(self) -> list[Command]:
        # The shunt goes with the current range (restored in the order saved: shunt first).
        return [self.VOLTS_RANGE, self.SHUNT, self.AMPS_RANGE]

    def _format_range(self, value: float, unit: str) -> str:
        if unit == "V":
            return f"V{value:g}"
        return next(code for code, (amps, _) in AMPS_CODES.items() if amps == value)

    def _parse_range(self, reply: str, unit: str) -> float | None:
        text = reply.strip().upper()
        if unit == "A":
            return AMPS_CODES[text][0] if text in AMPS_CODES else None
        return _float_or_none(text.removeprefix("V"))

    def _send_range(self, unit: str, value: float | None) -> None:
        if unit == "A":
            shunt = "AUTO" if value is None else AMPS_CODES[self._format_range(value, "A")][1]
            self.send(self.SHUNT, shunt)
        super()._send_range(unit, value)

    def _apply_items(self, channels: tuple[int, ...], integration: bool) -> None:
        self._items = ",".join(item for _, item in ITEMS)
        self._layout = [(0, quantity) for quantity, _ in ITEMS]

    def _query_values(self) -> str:
        return self.ask(self.MEASURE, items=self._items)

    def _parse_values(self, reply: str) -> list[Field]:
        fields = super()._parse_values(reply.replace(";", ","))
        for index, (quantity, _) in enumerate(ITEMS[:2]):
            value = fields[index][0]
            if value in SPECIAL:
                log.debug("%s: %s special value %g", self.name, quantity, value)
                fields[index] = (math.nan, SPECIAL[value])
        return fields


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _float_or_nan(text: str) -> float:
    value = _float_or_none(text.strip())
    return math.nan if value is None else value
