"""Full director sessions over VISA (pyvisa-py ``TCPIP::...::SOCKET``, pyvisa-sim ``@sim``) and
with the all-in-one ``sim`` meter spec.

Each test opens the meter the way ``wattbench director --meter SPEC`` does (``open_meters`` and
``engine_factory``), serves it with the real server, and runs a client session through the
protocol: info, new_session, ranging, testing, done, fetch ``run_1/spl.txt``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from director_helpers import SECRET, DirectorConnection

from power_director.cli import engine_factory, open_meters
from power_director.config import DirectorConfig
from power_director.protocol import (
    DirectorInfo,
    Done,
    InfoRequest,
    NewSession,
    PhaseStarted,
    PhaseStopped,
    SessionCreated,
    SessionSummary,
    StartPhase,
    StopPhase,
)
from power_director.server import serve
from power_director.sim import ConstantLoad, SimulatorConfig, start_simulator
from power_director.spl import SplRecord, read_spl

pytest.importorskip("pyvisa_py")
SIM_YAML = Path(__file__).parents[1] / "sim" / "wt310e.yaml"
PHASE_S = 1.0


@dataclass
class SessionResult:
    info: DirectorInfo
    ranging: dict[str, Any]
    testing: dict[str, Any]
    done: SessionSummary
    spl: list[SplRecord]


def _run_session(spec: str, tmp_path: Path, sample_period_s: float | None) -> SessionResult:
    opened = open_meters([spec])
    try:
        config = DirectorConfig(listen="127.0.0.1:0", data_dir=tmp_path / "sessions")
        with (
            serve(
                config,
                engine_factory(opened, sample_period_s),
                secret=SECRET,
                meters_info=[info for _, _, info in opened],
                meter_names=[name for name, _, _ in opened],
            ) as director,
            DirectorConnection(director.address) as conn,
        ):
            info = conn.request(InfoRequest(), DirectorInfo)
            conn.request(NewSession("visa"), SessionCreated)
            summaries = []
            for phase in ("ranging", "testing"):
                conn.request(StartPhase(phase, mark=f"visa_{phase}"), PhaseStarted)
                time.sleep(PHASE_S)
                summaries.append(conn.request(StopPhase(phase), PhaseStopped).summary)
            done = conn.request(Done(), SessionSummary)
            fetched = tmp_path / "fetched_spl.txt"
            fetched.write_bytes(conn.fetch("run_1/spl.txt"))
    finally:
        for _, meter, _ in opened:
            meter.close()
    return SessionResult(info, summaries[0], summaries[1], done, read_spl(fetched))


@pytest.fixture
def tcp_sim() -> Iterator[str]:
    config = SimulatorConfig(update_interval_s=0.05)
    with start_simulator("wt310e", "tcp", load=ConstantLoad(120.0), seed=4, config=config) as sim:
        yield sim.visa_resource


def test_session_over_pyvisa_py_tcpip_socket(tcp_sim: str, tmp_path: Path) -> None:
    assert tcp_sim.startswith("TCPIP0::127.0.0.1::") and tcp_sim.endswith("::SOCKET")
    result = _run_session(f"wt310e@visa:{tcp_sim}", tmp_path, None)

    (meter_info,) = result.info.meters
    assert meter_info["identity"] == "YOKOGAWA,WT310E,C2SIM0001,F1.02"
    assert meter_info["simulated"] is False  # a meter spec: the director cannot tell
    assert result.done.state == "done"
    assert result.ranging["valid"], result.ranging["reasons"]
    (choice,) = result.ranging["ranges_chosen"]
    # 230 V and ~0.55 A (120 W at PF 0.95): 300 V, and 1 A covers 1.1 x 0.55 A
    assert (choice["channels"][0]["volts_range"], choice["channels"][0]["amps_range"]) == (
        300.0,
        1.0,
    )
    testing = result.testing
    assert testing["valid"], testing["reasons"]
    assert testing["avg_watts"] == pytest.approx(120.0, rel=0.01)
    # one sample per 50 ms update for 1 s, less what a loaded machine may miss
    assert 10 <= testing["samples"] <= PHASE_S / 0.05 + 2
    assert len(result.spl) == testing["samples"]
    assert {row.mark for row in result.spl} == {"visa_testing"}
    # -1 (invalid) only while the meter settles on the new ranges, before the first value
    first = next(i for i, row in enumerate(result.spl) if row.watts != -1)
    valid = result.spl[first:]
    assert len(valid) >= 5 and first == testing["invalid_samples"]
    assert all(row.watts == pytest.approx(120.0, rel=0.02) for row in valid)
    assert all(row.volts == pytest.approx(230.0, rel=0.01) for row in valid)


def test_session_over_pyvisa_sim(tmp_path: Path) -> None:
    spec = f"wt310e@visa:USB0::0x0B21::0x0025::C2XX00000V::INSTR@{SIM_YAML}@sim"
    result = _run_session(spec, tmp_path, 0.05)

    (meter_info,) = result.info.meters
    assert meter_info["identity"] == "YOKOGAWA,WT310E,C2XX00000V,F1.02"
    assert result.done.state == "done"
    (choice,) = result.ranging["ranges_chosen"]
    # the YAML device always reads 230.12 V and 0.2175 A: 300 V, and 0.5 A covers 0.239 A
    assert (choice["channels"][0]["volts_range"], choice["channels"][0]["amps_range"]) == (
        300.0,
        0.5,
    )
    testing = result.testing
    assert testing["valid"], testing["reasons"]
    assert 10 <= testing["samples"] <= PHASE_S / 0.05 + 2
    assert len(result.spl) == testing["samples"]
    assert all(row.watts == pytest.approx(45.871) for row in result.spl)
    assert all(row.amps == pytest.approx(0.2175) for row in result.spl)


def test_session_with_the_sim_spec_tells_the_client_it_is_simulated(tmp_path: Path) -> None:
    result = _run_session("sim?load=constant&watts=120&rate=50ms&seed=5", tmp_path, None)

    (meter_info,) = result.info.meters
    assert (meter_info["name"], meter_info["simulated"]) == ("sim-wt310e", True)
    assert result.testing["valid"], result.testing["reasons"]
    assert result.testing["avg_watts"] == pytest.approx(120.0, rel=0.01)
    assert len(result.spl) == result.testing["samples"] >= 10
