"""Registry entry point for the all-in-one ``sim`` meter spec.

The meter registry will resolve ``sim`` (and ``sim:wt210``) by starting a pty simulator and
opening the matching driver on its slave path; the driver wiring is the lead's. For now this
module only starts the simulator and hands back its :class:`RunningSimulator`, whose
``spec`` names the driver and port to open (``wt310e@serial:/dev/pts/N``) and whose
``close()`` must be called when the driver is closed.
"""

from __future__ import annotations

import time

from power_director.sim.config import SimulatorConfig
from power_director.sim.instrument import Clock
from power_director.sim.load import LoadModel
from power_director.sim.simulator import RunningSimulator, start_simulator

__all__ = ["SIM_SPEC", "open_simulated_meter_address"]

SIM_SPEC = "sim"


def open_simulated_meter_address(
    dialect: str = "wt310e",
    load: LoadModel | None = None,
    seed: int | None = 0,
    clock: Clock = time.monotonic,
    config: SimulatorConfig | None = None,
) -> RunningSimulator:
    """Start a pty simulator for the ``sim`` spec; the caller owns (and closes) it."""
    return start_simulator(
        dialect=dialect, transport="pty", load=load, seed=seed, clock=clock, config=config
    )
