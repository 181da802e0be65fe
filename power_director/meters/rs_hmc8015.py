"""Rohde & Schwarz HMC8015 single-phase power analyzer.

Manual: *R&S HMC8015 SCPI Programmers Manual* (command groups SYSTem, CHANnel:MEASure,
CHANnel:ACQuire, INTegrator); command set recorded in ``/work/shared/reference/ecosystem.md``
§4.4 from the visus "power overwhelming" driver. Interfaces: USB (VCP/TMC), LAN, GP-IB option.

Verified against that source: ``SYST:REM`` / ``SYST:LOC``; ``CHAN1:MEAS:FUNC <f>,<f>,...`` (up
to 10 functions, including ``URMS``, ``URAN``, ``IRMS``, ``IRAN``, ``P``) and
``CHAN1:MEAS:DATA?`` (comma list in that order); ``CHAN1:ACQ:VOLT:RANG:AUTO ON``;
``CHAN1:ACQ:CURR:RANG <A>``; ``INT:STAT ON``, ``INT:RES``, ``INT:STAR``, ``INT:STOP``.
Invalid values are the SCPI sentinels (9.91E+37 no data, 9.9E+37 over range; the latter is the
R&S HMC overflow value documented for the HMC8012).

Assumptions (not verified here): the power-factor function name ``LAMB`` and the energy function
``WH`` (Wh); the query forms of the function and range commands; ``CHAN1:ACQ:VOLT:RANG <V>`` and
``CHAN1:ACQ:CURR:RANG:AUTO`` (by symmetry with the verified pair); a fixed 100 ms update
interval and crest factor 3 (not set by this driver); the range table; the accuracy figures.
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

log = logging.getLogger(__name__)

_MANUAL = "R&S HMC8015 SCPI Programmers Manual"

#: Functions per quantity, in reply order.
FUNCTIONS: tuple[tuple[str, str], ...] = (
    ("volts", "URMS"),
    ("amps", "IRMS"),
    ("watts", "P"),
    ("power_factor", "LAMB"),
    ("volts_range", "URAN"),
    ("amps_range", "IRAN"),
)

HMC8015 = AnalyzerModel(
    key="hmc8015",
    idn_models=("HMC8015",),
    channels=1,
    ranges=RangeTable(
        volts={3: (5.0, 15.0, 30.0, 60.0, 150.0, 300.0, 600.0)},
        amps={3: (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)},
    ),
    intervals_s=(0.1,),
    description="Rohde & Schwarz HMC8015 single-phase power analyzer",
    accuracy=AccuracySpec(
        "HMC8015",
        (AccuracyBand(0.0, 0.0, 0.1, 0.1), AccuracyBand(45.0, 66.0, 0.1, 0.1)),
        "R&S HMC8015 data sheet (assumed figures, not checked)",
        verified=False,
    ),
)


@register_meter("hmc8015", tested="protocol tests")
class RsHMC8015(AnalyzerMeter):
    """Driver for the R&S HMC8015 (SCPI Programmers Manual).

    Args:
        transport: an open transport; the constructor does no I/O.
        model: registry key, ``hmc8015``.
    """

    default_model = "hmc8015"
    MODELS: ClassVar[Mapping[str, AnalyzerModel]] = {"hmc8015": HMC8015}

    REMOTE = Command("SYST:REM", None, "Remote mode.", f"{_MANUAL}, SYSTem:REMote")
    LOCAL = Command("SYST:LOC", None, "Local mode.", f"{_MANUAL}, SYSTem:LOCal")
    FUNCTION = Command(
        "CHAN1:MEAS:FUNC {value}",
        "CHAN1:MEAS:FUNC?",
        "Functions returned by DATA?.",
        f"{_MANUAL}, CHANnel:MEASure:FUNCtions",
    )
    DATA = Command(
        None, "CHAN1:MEAS:DATA?", "Read the functions.", f"{_MANUAL}, CHANnel:MEASure:DATA?"
    )
    VOLTS_RANGE = Command(
        "CHAN1:ACQ:VOLT:RANG {value}",
        "CHAN1:ACQ:VOLT:RANG?",
        "Voltage range (fixed).",
        f"{_MANUAL}, CHANnel:ACQuire:VOLTage:RANGe (assumed)",
    )
    VOLTS_AUTO = Command(
        "CHAN1:ACQ:VOLT:RANG:AUTO {value}",
        "CHAN1:ACQ:VOLT:RANG:AUTO?",
        "Voltage auto range.",
        f"{_MANUAL}, CHANnel:ACQuire:VOLTage:RANGe:AUTO",
    )
    AMPS_RANGE = Command(
        "CHAN1:ACQ:CURR:RANG {value}",
        "CHAN1:ACQ:CURR:RANG?",
        "Current range (fixed).",
        f"{_MANUAL}, CHANnel:ACQuire:CURRent:RANGe",
    )
    AMPS_AUTO = Command(
        "CHAN1:ACQ:CURR:RANG:AUTO {value}",
        "CHAN1:ACQ:CURR:RANG:AUTO?",
        "Current auto range.",
        f"{_MANUAL}, CHANnel:ACQuire:CURRent:RANGe:AUTO (assumed)",
    )
    INTEGRATOR = Command("INT:STAT {value}", None, "Integrator on/off.", f"{_MANUAL}, INTegrator")
    INTEGRATE_RESET = Command("INT:RES", None, "Reset the integrator.", f"{_MANUAL}, INTegrator")
    INTEGRATE_START = Command("INT:STAR", None, "Start the integrator.", f"{_MANUAL}, INTegrator")
    INTEGRATE_STOP = Command("INT:STOP", None, "Stop the integrator.", f"{_MANUAL}, INTegrator")

    def _setup_communication(self) -> None:
        self.send(self.REMOTE)

    def _state_commands(self) -> list[tuple[Command, dict[str, Any]]]:
        return [(self.VOLTS_RANGE, {}), (self.VOLTS_AUTO, {}), (self.AMPS_RANGE, {}),
                (self.AMPS_AUTO, {}), (self.FUNCTION, {})]  # fmt: skip

    def _apply_items(self, channels: tuple[int, ...], integration: bool) -> None:
        functions = [*FUNCTIONS, ("energy_wh", "WH")] if integration else list(FUNCTIONS)
        self.send(self.FUNCTION, ",".join(name for _, name in functions))
        self._layout = [(0, quantity) for quantity, _ in functions]

    def _query_values(self) -> str:
        return self.ask(self.DATA)

    def _start_integration(self) -> None:
        self.send(self.INTEGRATOR, "ON")
        self.send(self.INTEGRATE_RESET)
        self.send(self.INTEGRATE_START)

    def _stop_integration(self) -> None:
        self.send(self.INTEGRATE_STOP)
        self.send(self.INTEGRATE_RESET)
        self.send(self.INTEGRATOR, "OFF")

    def _return_to_local(self) -> None:
        self.send(self.LOCAL)
