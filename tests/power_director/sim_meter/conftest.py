from __future__ import annotations

from collections.abc import Iterator

import pytest
from sim_helpers import FakeClock, Port

from power_director.sim import ConstantLoad, SimulatorConfig, start_simulator
from power_director.sim.simulator import RunningSimulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pty_sim(clock: FakeClock) -> Iterator[RunningSimulator]:
    config = SimulatorConfig(update_interval_s=0.1, noise_w=0.2, noise_v=0.1)
    with start_simulator(
        "wt310e", "pty", load=ConstantLoad(100.0), seed=1, clock=clock, config=config
    ) as sim:
        yield sim


@pytest.fixture
def port(pty_sim: RunningSimulator) -> Iterator[Port]:
    client = Port(pty_sim.address)
    try:
        yield client
    finally:
        client.close()
