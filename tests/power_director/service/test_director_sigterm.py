"""SIGTERM (``systemctl stop``) stops the director cleanly: the meter's initial state is restored.

The director runs as a real process (``python -m power_director``) against a TCP-simulated
WT310E served by this test, so the restore commands can be observed on the simulator.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from director_helpers import wait_for

from power_director.auth import write_secret_file
from power_director.sim import ConstantLoad, SimulatorConfig, start_simulator

ROOT = Path(__file__).resolve().parents[3]


def test_sigterm_restores_the_meter_and_exits_zero(tmp_path: Path) -> None:
    config = SimulatorConfig(update_interval_s=0.05)
    sim = start_simulator("wt310e", "tcp", "127.0.0.1:0", load=ConstantLoad(80.0), config=config)
    engine = sim.instrument.engine
    sim.instrument.handle_line(":INPut:VOLTage:AUTO ON")  # the state found at start
    secret = write_secret_file(tmp_path / "secret")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "power_director",
            "--meter", f"wt310e@tcp:{sim.address}?timeout_s=0.5",
            "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "sessions"),
            "--secret-file", str(secret),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on 127.0.0.1:" in line, line
        # what a testing phase leaves behind: a fixed voltage range
        sim.instrument.handle_line(":INPut:VOLTage:AUTO OFF")
        assert engine.voltage.auto is False
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
        assert proc.returncode == 0, stderr
        assert stderr.rstrip().endswith("stopping"), stderr
        wait_for(lambda: engine.voltage.auto is True)  # restored on close
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        sim.close()
