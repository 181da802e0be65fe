"""The all-in-one ``sim`` meter spec: a simulator on a pty with the real driver on its slave path.

Specs (options after ``?``, joined with ``&``)::

    sim                                  # WT310E dialect; power follows this host's CPU use
    sim:wt210   sim@wt210                # WT210 dialect (488.2 mode)
    sim?load=cpu&idle_w=60&max_w=200     # the default load, with its two powers in W
    sim?load=constant&watts=120
    sim?profile=/path/profile.txt        # scripted profile (load=profile implied)
    sim?rate=10ms&seed=1&baud=9600       # update interval, noise seed, serial byte time

``rate`` is the update interval in the ``:RATE`` spelling (``10MS``, ``0.25``, ``1S``); the
simulator allows 1 ms to 20 s, so a 1 kHz sampler can be tested (real meters: >= 100 ms).

:func:`open_sim_meter` starts :func:`~power_director.sim.simulator.start_simulator` on a new
pty pair, opens the registry's driver for the dialect on the slave path with pyserial (e.g.
``wt310e@serial:/dev/pts/5``), exactly as for a USB-serial meter, and returns a
:class:`SimulatedMeter`: that driver, named ``sim-<dialect>``, with ``simulated = True``, whose
``close()`` closes the driver and then the simulator.

Errors: :class:`~power_director.errors.MeterSpecError` for an unknown dialect or option, or a
bad option value (the message names the option and the valid ones).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qsl

from power_director.errors import MeterSpecError, SimulatorError
from power_director.meters.base import PowerMeter
from power_director.meters.proxy import MeterProxy
from power_director.meters.registry import open_meter, register_source
from power_director.sim.config import SimulatorConfig
from power_director.sim.instrument import DIALECTS
from power_director.sim.load import ConstantLoad, CpuLoad, LoadModel
from power_director.sim.profile import load_profile
from power_director.sim.scpi import ScpiError, parse_quantity
from power_director.sim.simulator import RunningSimulator, start_simulator

__all__ = ["SIM_OPTIONS", "SimulatedMeter", "open_sim_meter"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Options of the ``sim`` spec and what each means.
SIM_OPTIONS: Mapping[str, str] = {
    "load": "cpu (default), constant or profile",
    "watts": "power of load=constant, W (default 100)",
    "idle_w": "power of load=cpu at 0 % utilisation, W (default 60)",
    "max_w": "power of load=cpu at 100 % utilisation, W (default 200)",
    "profile": "profile file path (implies load=profile)",
    "rate": "update interval, e.g. 10ms or 0.25 (default 250ms)",
    "seed": "noise seed, integer (default random)",
    "baud": "emulated serial line speed for the byte time (default none)",
}
_LOAD_OPTIONS: Mapping[str, frozenset[str]] = {
    "cpu": frozenset({"idle_w", "max_w"}),
    "constant": frozenset({"watts"}),
    "profile": frozenset({"profile"}),
}


class SimulatedMeter(MeterProxy):
    """A driver talking to a simulator it owns; :meth:`close` stops both.

    Args:
        driver: the opened driver (on the simulator's pty).
        simulator: the running simulator.
    """

    def __init__(self, driver: PowerMeter, simulator: RunningSimulator) -> None:
        super().__init__(driver, name=f"sim-{simulator.dialect}")
        self.simulator = simulator

    @property
    def simulated(self) -> bool:
        """Return True: the readings come from the simulator."""
        return True

    def close(self) -> None:
        """Close the driver (restoring the simulator's initial state), then the simulator."""
        try:
            self.inner.close()
        finally:
            self.simulator.close()


def open_sim_meter(rest: str) -> SimulatedMeter:
    """Open the ``sim`` meter from the spec text after ``sim`` (``""``, ``wt210``, ``?load=...``).

    Raises:
        MeterSpecError: unknown dialect or option, or a bad option value.
    """
    dialect, _, query = rest.partition("?")
    dialect = dialect.strip().lower() or "wt310e"
    spec = f"sim@{rest}" if rest else "sim"
    if dialect not in DIALECTS:
        raise MeterSpecError(
            f"meter spec {spec!r}: unknown simulated dialect {dialect!r}; "
            f"choose from {', '.join(sorted(DIALECTS))}"
        )
    options = _parse_options(query, spec)
    load = _load(options, spec)
    try:
        config = SimulatorConfig(
            update_interval_s=_option(options, "rate", _interval, spec, 0.25),
            baud=_option(options, "baud", int, spec, None),
        )
    except SimulatorError as exc:
        raise MeterSpecError(f"meter spec {spec!r}: {exc}") from None
    seed = _option(options, "seed", int, spec, None)
    simulator = start_simulator(dialect, "pty", load=load, seed=seed, config=config)
    try:
        driver = open_meter(simulator.spec)
    except BaseException:
        simulator.close()
        raise
    log.info("sim meter %s on %s (%s)", dialect, simulator.address, _describe(load))
    return SimulatedMeter(driver, simulator)


def _parse_options(query: str, spec: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise MeterSpecError(f"meter spec {spec!r}: bad options {query!r}") from None
    options = dict(pairs)
    unknown = sorted(set(options) - set(SIM_OPTIONS))
    if unknown:
        raise MeterSpecError(
            f"meter spec {spec!r}: unknown option(s) {', '.join(unknown)}; known: "
            + "; ".join(f"{key} ({meaning})" for key, meaning in SIM_OPTIONS.items())
        )
    return options


def _load(options: Mapping[str, str], spec: str) -> LoadModel:
    kind = options.get("load", "profile" if "profile" in options else "cpu").lower()
    if kind not in _LOAD_OPTIONS:
        raise MeterSpecError(
            f"meter spec {spec!r}: option load={kind!r} must be one of {', '.join(_LOAD_OPTIONS)}"
        )
    foreign = sorted(
        key for key in set().union(*_LOAD_OPTIONS.values()) - _LOAD_OPTIONS[kind] if key in options
    )
    if foreign:
        raise MeterSpecError(
            f"meter spec {spec!r}: option(s) {', '.join(foreign)} do not apply to load={kind}; "
            f"it takes {', '.join(sorted(_LOAD_OPTIONS[kind]))}"
        )
    try:
        if kind == "constant":
            return ConstantLoad(_option(options, "watts", float, spec, 100.0))
        if kind == "profile":
            if not options.get("profile"):
                raise MeterSpecError(f"meter spec {spec!r}: load=profile needs profile=PATH")
            return load_profile(Path(options["profile"]))
        return CpuLoad(
            idle_w=_option(options, "idle_w", float, spec, 60.0),
            max_w=_option(options, "max_w", float, spec, 200.0),
        )
    except SimulatorError as exc:
        raise MeterSpecError(f"meter spec {spec!r}: {exc}") from None


def _option(
    options: Mapping[str, str], key: str, cast: Callable[[str], T], spec: str, default: T
) -> T:
    if key not in options:
        return default
    try:
        return cast(options[key])
    except ValueError as exc:
        raise MeterSpecError(
            f"meter spec {spec!r}: option {key}={options[key]!r} is not valid "
            f"(expected {SIM_OPTIONS[key]}): {exc}"
        ) from None


def _interval(text: str) -> float:
    try:
        return parse_quantity(text, "S")
    except ScpiError as exc:
        raise ValueError(str(exc)) from None


def _describe(load: LoadModel) -> str:
    describe = getattr(load, "describe", None)
    return str(describe()) if callable(describe) else type(load).__name__


register_source(
    "sim",
    open_sim_meter,
    description="simulated meter: WT310E (or sim:wt210) simulator on a pty + the real driver",
    tested="pty integration tests (real driver, pyserial, simulator)",
)
