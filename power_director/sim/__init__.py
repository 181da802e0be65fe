"""Simulated wattmeters: real peers on a pty or TCP port, speaking Yokogawa dialects.

Modules:

* ``simulator``: :func:`start_simulator` / :class:`RunningSimulator` (pty or TCP).
* ``meter``: the registry's all-in-one ``sim`` spec (simulator + real driver on a pty).
* ``cli``: ``wattbench meter simulate`` options and runner.
* ``instrument``: dialect + engine + error queue, line in, reply out (no I/O).
* ``server``: the background selector loop and serial byte timing.
* ``engine``: update-quantised readings, noise, over-range, auto range.
* ``reading``: one update's values and the no-data / over-range rules.
* ``ranges``: range tables and the auto-range state of one input.
* ``integrator``: ``:INTEGrate`` energy integration.
* ``load`` / ``profile``: load models (constant, CPU utilisation, scripted profile).
* ``wt310e`` / ``wt210``: the two command sets; ``common`` / ``input_commands``: shared parts.
* ``commands`` / ``scpi`` / ``error_queue``: command tables, SCPI syntax, error queue.
* ``config``: simulator-only settings.
"""

from __future__ import annotations

from power_director.sim.config import SimulatorConfig
from power_director.sim.instrument import DIALECTS, SimulatedInstrument
from power_director.sim.load import ConstantLoad, CpuLoad, LoadModel
from power_director.sim.meter import SimulatedMeter, open_sim_meter
from power_director.sim.profile import ProfileError, ProfileLoad, load_profile, parse_profile
from power_director.sim.simulator import RunningSimulator, start_simulator

__all__ = [
    "DIALECTS",
    "ConstantLoad",
    "CpuLoad",
    "LoadModel",
    "ProfileError",
    "ProfileLoad",
    "RunningSimulator",
    "SimulatedInstrument",
    "SimulatedMeter",
    "SimulatorConfig",
    "load_profile",
    "open_sim_meter",
    "parse_profile",
    "start_simulator",
]
