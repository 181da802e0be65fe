"""Hioki PW3335 (1 channel), PW3336 (2 channels) and PW3337 (3 channels) power meters.

Manuals: *PW3335 Power Meter Communication Command Instruction Manual* and the PW3336/PW3337
equivalent (chapter "Message reference"); excerpts in ``/work/shared/reference/ecosystem.md``
§4.4. Interfaces: USB, RS-232, GP-IB, LAN (TCP port 3300 on PW3336/PW3337).

Verified against the excerpts: ``*IDN?``; ``:HEADer OFF``; ``:MEASure? <item>,<item>,...``
with items ``U``, ``I``, ``P``, ``PF`` (and integration ``WP``); replies NR3; error codes
``±999.99E+9`` = over range, ``±888.88E+9`` = scaling error, ``±777.77E+9`` = no data (all three
become invalid readings, never numbers; a scaling error is reported as ``no_data``).

Assumptions (not verified here, no hardware or full manual):

* per-channel item names ``U1``, ``I1``, ``P1``, ``PF1``, ``WP1`` on PW3336/PW3337;
* the range commands ``:VOLTage:RANGe``, ``:VOLTage:AUTO``, ``:CURRent:RANGe``, ``:CURRent:AUTO``
  (common to all channels) and their query forms;
* the integration commands ``:INTEGrate:STARt|STOP|RESet``; ``WP`` in Wh;
* a fixed 200 ms data update interval and crest factor 3 (neither is settable here);
* the reply separator is ``,`` (``;`` is accepted as well); the brief's ``+9999.9E+99`` and
  ``------`` markers were not found in the sources and are not handled specially;
* the range tables and the PW3335/PW3337 accuracy (taken equal to PW3336's).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from power_director.meters.analyzer import AnalyzerMeter, AnalyzerModel
from power_director.meters.base import RangeTable
from power_director.meters.commands import Command
from power_director.meters.registry import register_meter
from power_director.meters.uncertainty import AccuracyBand, AccuracySpec
from power_director.meters.values import Field
from power_director.samples import FLAG_NO_DATA, FLAG_OVER_RANGE

log = logging.getLogger(__name__)

_MANUAL = "Hioki PW3335/PW3336 Communication Command Instruction Manual"
_VOLTS = (15.0, 30.0, 60.0, 150.0, 300.0, 600.0, 1000.0)
_AMPS_PW3335 = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
_AMPS_PW3336 = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 65.0)
_SOURCE = "Hioki PW3336 spec: active power 45-66 Hz, input < 50 % f.s. (ecosystem.md §4.4)"


def _accuracy(model: str) -> AccuracySpec:
    band = (AccuracyBand(45.0, 66.0, 0.1, 0.05),)
    verified = model == "PW3336"
    return AccuracySpec(model, band, _SOURCE if verified else _SOURCE + " (assumed)", verified)


def _model(key: str, channels: int, amps: tuple[float, ...]) -> AnalyzerModel:
    model = key.upper()
    kind = "single-channel" if channels == 1 else f"{channels}-channel"
    return AnalyzerModel(
        key=key,
        idn_models=(model,),
        channels=channels,
        ranges=RangeTable(volts={3: _VOLTS}, amps={3: amps}),
        intervals_s=(0.2,),
        description=f"Hioki {model} {kind} power meter",
        accuracy=_accuracy(model),
    )


#: Item names per quantity, in reply order within a channel.
ITEMS: tuple[tuple[str, str], ...] = (
    ("volts", "U"),
    ("amps", "I"),
    ("watts", "P"),
    ("power_factor", "PF"),
)


@register_meter("pw3335", "pw3336", "pw3337", tested="protocol tests")
class HiokiPW3335(AnalyzerMeter):
    """Driver for the Hioki PW3335/PW3336/PW3337 (communication command manual).

    Args:
        transport: an open transport; the constructor does no I/O.
        model: registry key, one of ``pw3335 pw3336 pw3337``.
    """

    default_model = "pw3335"
    MODELS: ClassVar[Mapping[str, AnalyzerModel]] = {
        m.key: m
        for m in (
            _model("pw3335", 1, _AMPS_PW3335),
            _model("pw3336", 2, _AMPS_PW3336),
            _model("pw3337", 3, _AMPS_PW3336),
        )
    }
    SENTINELS: ClassVar[Mapping[float, str]] = {
        999.99e9: FLAG_OVER_RANGE,
        888.88e9: FLAG_NO_DATA,
        777.77e9: FLAG_NO_DATA,
    }

    HEADER = Command(":HEADer {value}", ":HEADer?", "Reply headers.", f"{_MANUAL}, :HEADer")
    MEASURE = Command(None, ":MEASure? {items}", "Read the listed items.", f"{_MANUAL}, :MEASure?")
    VOLTS_RANGE = Command(
        ":VOLTage:RANGe {value}",
        ":VOLTage:RANGe?",
        "Voltage range (fixed).",
        f"{_MANUAL}, :VOLTage:RANGe (assumed)",
    )
    VOLTS_AUTO = Command(
        ":VOLTage:AUTO {value}",
        ":VOLTage:AUTO?",
        "Voltage auto range.",
        f"{_MANUAL}, :VOLTage:AUTO (assumed)",
    )
    AMPS_RANGE = Command(
        ":CURRent:RANGe {value}",
        ":CURRent:RANGe?",
        "Current range (fixed).",
        f"{_MANUAL}, :CURRent:RANGe (assumed)",
    )
    AMPS_AUTO = Command(
        ":CURRent:AUTO {value}",
        ":CURRent:AUTO?",
        "Current auto range.",
        f"{_MANUAL}, :CURRent:AUTO (assumed)",
    )
    INTEGRATE_START = Command(
        ":INTEGrate:STARt", None, "Start integration.", f"{_MANUAL}, :INTEGrate (assumed)"
    )
    INTEGRATE_STOP = Command(
        ":INTEGrate:STOP", None, "Stop integration.", f"{_MANUAL}, :INTEGrate (assumed)"
    )
    INTEGRATE_RESET = Command(
        ":INTEGrate:RESet", None, "Reset integration.", f"{_MANUAL}, :INTEGrate (assumed)"
    )

    def __init__(self, transport: Any, *, model: str | None = None) -> None:
        super().__init__(transport, model=model)
        self._items = ""

    def _setup_communication(self) -> None:
        self.send(self.HEADER, "OFF")

    def _state_commands(self) -> list[tuple[Command, dict[str, Any]]]:
        return [(self.VOLTS_RANGE, {}), (self.VOLTS_AUTO, {}), (self.AMPS_RANGE, {}),
                (self.AMPS_AUTO, {})]  # fmt: skip

    def _apply_items(self, channels: tuple[int, ...], integration: bool) -> None:
        functions = [*ITEMS, ("energy_wh", "WP")] if integration else list(ITEMS)
        suffix = len(self._channels_all()) > 1
        names: list[str] = []
        self._layout = []
        for position, channel in enumerate(channels):
            for quantity, item in functions:
                names.append(f"{item}{channel}" if suffix else item)
                self._layout.append((position, quantity))
        self._items = ",".join(names)

    def _channels_all(self) -> tuple[int, ...]:
        return tuple(range(1, self.spec.channels + 1))

    def _query_values(self) -> str:
        return self.ask(self.MEASURE, items=self._items)

    def _parse_values(self, reply: str) -> list[Field]:
        return super()._parse_values(reply.replace(";", ","))

    def _start_integration(self) -> None:
        self.send(self.INTEGRATE_RESET)
        self.send(self.INTEGRATE_START)

    def _stop_integration(self) -> None:
        self.send(self.INTEGRATE_STOP)
        self.send(self.INTEGRATE_RESET)
