"""ZES ZIMMER LMG precision power analyzers (LMG95, LMG450, LMG500, LMG6xx), short commands.

Manuals: the *LMG450 / LMG500 User Manual*, chapter "Interfaces, short command syntax";
command set recorded in ``/work/shared/reference/ecosystem.md`` §4.4 from cuveland/lmgtools.
Interfaces: RS-232 (e.g. 115200 8N1 RTS/CTS), LAN (LMG670: TCP). The driver reads the first
measuring channel only.

Verified against that source: ``*IDN?``; ``syst:lang short`` (switch from SCPI to short
commands); ``uam manual``, ``urng 250``, ``iam manual``, ``irng 10`` (fixed ranges); ``cycl 0.5``
(cycle time, s); ``actn;utrms?;itrms?;p?;pf?`` (one action, then the listed values, replied as one
``;``-separated line of plain floats); ``*OPC?`` after each setting; 9.91E+37 and ±9.9E+37 mark
invalid values (no data, over range).

Assumptions (not verified here): ``uam auto`` / ``iam auto`` for auto range; the query forms
``urng?``, ``uam?``, ``irng?``, ``iam?``, ``cycl?`` (replies restored verbatim); the ``OVERFLOW``
text marker (over range) next to ``----`` (no data); the cycle-time limits 0.05-60 s; crest factor
fixed at 3 (not settable here); the LMG500 range table for every model; the accuracy figures.
Energy integration is not implemented (its short commands could not be checked).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from power_director.meters.analyzer import AnalyzerMeter, AnalyzerModel
from power_director.meters.base import MeterIdentity, RangeTable
from power_director.meters.commands import Command
from power_director.meters.registry import register_meter
from power_director.meters.uncertainty import AccuracyBand, AccuracySpec
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE

log = logging.getLogger(__name__)

_MANUAL = "ZES LMG450/LMG500 User Manual, short command syntax"
_SOURCE = "ZES LMG data sheet, 45-65 Hz (assumed figures, not checked)"


def _accuracy(model: str, reading_pct: float, range_pct: float) -> AccuracySpec:
    return AccuracySpec(model, (AccuracyBand(45.0, 65.0, reading_pct, range_pct),), _SOURCE, False)


#: Accuracy per ``*IDN?`` model prefix; the first entry is used for unknown models.
ACCURACY_BY_MODEL: Mapping[str, AccuracySpec] = {
    "LMG450": _accuracy("LMG450", 0.07, 0.04),
    "LMG95": _accuracy("LMG95", 0.015, 0.01),
    "LMG500": _accuracy("LMG500", 0.015, 0.01),
    "LMG6": _accuracy("LMG6xx", 0.015, 0.01),
}
ITEMS: tuple[tuple[str, str], ...] = (
    ("volts", "utrms?"),
    ("amps", "itrms?"),
    ("watts", "p?"),
    ("power_factor", "pf?"),
)
LMG = AnalyzerModel(
    key="lmg",
    idn_models=("LMG",),
    channels=1,
    ranges=RangeTable(
        volts={3: (3.0, 6.0, 12.5, 25.0, 60.0, 130.0, 250.0, 400.0, 600.0, 1000.0)},
        amps={3: (0.02, 0.04, 0.08, 0.15, 0.3, 0.6, 1.2, 2.5, 5.0, 10.0, 20.0, 32.0)},
    ),
    intervals_s=(),
    description="ZES ZIMMER LMG power analyzer (short commands, first channel)",
    accuracy=ACCURACY_BY_MODEL["LMG450"],
    interval_limits_s=(0.05, 60.0),
)


@register_meter("lmg", tested="protocol tests", transport_defaults={"baud": "115200"})
class ZesLMG(AnalyzerMeter):
    """Driver for ZES ZIMMER LMG analyzers, short commands (LMG500 user manual).

    Args:
        transport: an open transport; the constructor does no I/O.
        model: registry key, ``lmg``.
    """

    default_model = "lmg"
    MODELS: ClassVar[Mapping[str, AnalyzerModel]] = {"lmg": LMG}
    SEPARATOR: ClassVar[str] = ";"
    AUTO_ON: ClassVar[str] = "auto"
    SUPPORTS_INTEGRATION: ClassVar[bool] = False
    TEXT_FLAGS: ClassVar[Mapping[str, str]] = {
        "OVERFLOW": FLAG_OVER_RANGE,
        "----": FLAG_NO_DATA,
    }

    OPC = Command(None, "*OPC?", "Wait for the previous setting.", "IEEE 488.2 *OPC?")
    LANGUAGE = Command(
        "syst:lang {value}", None, "Command dialect.", f"{_MANUAL}, SCPI SYSTem:LANGuage"
    )
    RATE = Command("cycl {value}", "cycl?", "Cycle time, s.", f"{_MANUAL}, CYCL")
    VOLTS_RANGE = Command("urng {value}", "urng?", "Voltage range, V.", f"{_MANUAL}, URNG")
    VOLTS_AUTO = Command("uam {value}", "uam?", "Voltage range mode.", f"{_MANUAL}, UAM")
    AMPS_RANGE = Command("irng {value}", "irng?", "Current range, A.", f"{_MANUAL}, IRNG")
    AMPS_AUTO = Command("iam {value}", "iam?", "Current range mode.", f"{_MANUAL}, IAM")
    VALUES = Command(
        None, "actn;{items}", "Act once, then read the listed values.", f"{_MANUAL}, ACTN"
    )

    def __init__(self, transport: Any, *, model: str | None = None) -> None:
        super().__init__(transport, model=model)
        self._items = ""

    def send(self, command: Command, value: Any = None, **fields: Any) -> None:
        """Write ``command``'s set form, then wait for it with ``*OPC?``.

        Raises:
            MeterProtocolError: ``*OPC?`` did not answer 1.
        """
        super().send(command, value, **fields)
        reply = self.ask(self.OPC)
        if reply != "1":
            raise self.protocol_error(command.format_set(value, **fields), reply, "*OPC? not 1")

    def open(self) -> MeterIdentity:
        """Identify, switch to short commands, save the initial state; pick the accuracy."""
        identity = super().open()
        model = identity.model.upper()
        self.accuracy = next(
            (spec for prefix, spec in ACCURACY_BY_MODEL.items() if model.startswith(prefix)),
            LMG.accuracy,
        )
        for command, _, reply in self._saved or []:
            if command is self.RATE:
                self._interval_s = float(reply) if _is_number(reply) else self._interval_s
        return identity

    def _setup_communication(self) -> None:
        self.send(self.LANGUAGE, "short")

    def _state_commands(self) -> list[tuple[Command, dict[str, Any]]]:
        commands = (self.RATE, self.VOLTS_RANGE, self.VOLTS_AUTO, self.AMPS_RANGE, self.AMPS_AUTO)
        return [(command, {}) for command in commands]

    def _send_range(self, unit: str, value: float | None) -> None:
        if value is None:
            super()._send_range(unit, None)
            return
        self.send(self.VOLTS_AUTO if unit == "V" else self.AMPS_AUTO, "manual")
        super()._send_range(unit, value)

    def _apply_items(self, channels: tuple[int, ...], integration: bool) -> None:
        self._items = ";".join(item for _, item in ITEMS)
        self._layout = [(0, quantity) for quantity, _ in ITEMS]

    def _query_values(self) -> str:
        return self.ask(self.VALUES, items=self._items)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
