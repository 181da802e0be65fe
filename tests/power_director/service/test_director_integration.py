"""Director <-> real MeasurementEngine <-> simulated WT310E over a pty, through the protocol."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from director_helpers import SECRET, DirectorConnection

from power_director.config import DirectorConfig
from power_director.meters.registry import open_meter
from power_director.protocol import (
    Done,
    NewSession,
    PhaseStarted,
    PhaseStopped,
    SessionCreated,
    SessionSummary,
    StartPhase,
    StopPhase,
)
from power_director.server import serve

measurement = pytest.importorskip("power_director.measurement")


def test_session_with_simulated_meter(tmp_path: Path) -> None:
    from power_director.sim.load import ConstantLoad
    from power_director.sim.simulator import start_simulator

    with start_simulator("wt310e", transport="pty", load=ConstantLoad(120.0)) as sim:
        meter = open_meter(sim.spec)
        try:
            meters = [("wt310e", meter)]

            def factory(folder: Path):
                return measurement.MeasurementEngine(meters, folder, sample_period_s=0.05)

            config = DirectorConfig(listen="127.0.0.1:0", data_dir=tmp_path)
            with (
                serve(config, factory, secret=SECRET, meter_names=["wt310e"]) as director,
                DirectorConnection(director.address) as conn,
            ):
                conn.request(NewSession("sim run"), SessionCreated)
                for phase in ("ranging", "testing"):
                    conn.request(StartPhase(phase), PhaseStarted)
                    time.sleep(0.6)
                    stopped = conn.request(StopPhase(phase), PhaseStopped)
                    assert stopped.summary["samples"] > 0, stopped.summary
                    assert stopped.summary["avg_watts"] == pytest.approx(120.0, rel=0.05)
                done = conn.request(Done(), SessionSummary)
                assert done.state == "done"
                ranging = done.phases[0]["summary"]
                assert ranging["ranges_chosen"], ranging
                paths = {f["path"] for f in done.files}
                assert {"ranging/spl.txt", "run_1/spl.txt", "summary.json"} <= paths
                spl = conn.fetch("run_1/spl.txt").decode()
                assert spl.startswith("Time,") and "Mark," in spl
        finally:
            meter.close()
