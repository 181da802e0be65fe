"""Simulated wattmeters: real peers on a pty or TCP port, speaking Yokogawa dialects.

Modules:

* ``simulator``: :func:`start_simulator` / :class:`RunningSimulator` (pty or TCP).
* ``meter``: entry point for the registry's all-in-one ``sim`` spec.
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
from power_director.sim.meter import open_simulated_meter_address
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
    "SimulatorConfig",
    "load_profile",
    "open_simulated_meter_address",
    "parse_profile",
    "start_simulator",
]
