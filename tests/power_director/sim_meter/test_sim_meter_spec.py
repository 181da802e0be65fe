"""The registry's ``sim`` spec: a simulator on a pty with the real driver opened on its slave."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from power_director import meter_cli
from power_director.cli import open_meters
from power_director.errors import MeterSpecError
from power_director.meters import open_meter
from power_director.meters.yokogawa_wt210 import YokogawaWT210
from power_director.meters.yokogawa_wt300 import YokogawaWT300
from power_director.samples import ChannelReading
from power_director.sim import ConstantLoad, CpuLoad, ProfileLoad, SimulatedMeter, start_simulator
from power_director.transport.serial import SerialTransport


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _valid_reading(meter: SimulatedMeter) -> ChannelReading:
    for _ in range(50):
        (reading,) = meter.read()
        if reading.valid:
            return reading
        time.sleep(meter.update_interval_s)
    raise AssertionError("no valid reading from the simulator")


def test_constant_load_over_a_real_pty_and_close_releases_everything() -> None:
    threads, fds = threading.active_count(), _open_fds()
    meter = open_meter("sim?load=constant&watts=120&rate=20ms&seed=3")
    assert isinstance(meter, SimulatedMeter)
    try:
        assert threading.active_count() == threads + 1  # the simulator's server thread
        assert meter.name == "sim-wt310e" and meter.simulated
        assert meter.identify().serial == "C2SIM0001"
        driver = meter.inner
        assert isinstance(driver, YokogawaWT300) and isinstance(driver.transport, SerialTransport)
        assert driver.transport.resource == meter.simulator.address
        assert meter.simulator.address.startswith("/dev/pts/")
        assert meter.update_interval_s == pytest.approx(0.02)
        reading = _valid_reading(meter)
        assert reading.watts == pytest.approx(120.0, rel=0.01)
        assert reading.volts == pytest.approx(230.0, rel=0.01)
    finally:
        meter.close()
    assert threading.active_count() == threads
    assert _open_fds() == fds


@pytest.mark.parametrize("spec", ["sim:wt210?load=constant&watts=75", "sim@wt210?load=constant"])
def test_wt210_dialect(spec: str) -> None:
    meter = open_meter(spec)
    try:
        assert isinstance(meter, SimulatedMeter) and isinstance(meter.inner, YokogawaWT210)
        assert meter.name == "sim-wt210" and meter.simulated
        assert meter.identify().model == "760401"
        expected = 75.0 if "watts" in spec else 100.0
        assert _valid_reading(meter).watts == pytest.approx(expected, rel=0.01)
    finally:
        meter.close()


def test_default_load_follows_cpu_use() -> None:
    meter = open_meter("sim?idle_w=80&max_w=80&rate=20ms")
    try:
        assert isinstance(meter, SimulatedMeter)
        assert isinstance(meter.simulator.instrument.load, CpuLoad)
        # idle and full load both 80 W: the CPU-following power is 80 W whatever the host does
        assert _valid_reading(meter).watts == pytest.approx(80.0, rel=0.01)
    finally:
        meter.close()


def test_profile_load(tmp_path: Path) -> None:
    profile = tmp_path / "profile.txt"
    profile.write_text("0, 55\n3600, 55\n")
    meter = open_meter(f"sim?profile={profile}&rate=20ms")
    try:
        assert isinstance(meter, SimulatedMeter)
        assert isinstance(meter.simulator.instrument.load, ProfileLoad)
        assert _valid_reading(meter).watts == pytest.approx(55.0, rel=0.01)
    finally:
        meter.close()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("sim?speed=3", r"unknown option\(s\) speed; known: load \(cpu .*rate \(update interval"),
        ("sim?load=wind", "option load='wind' must be one of cpu, constant, profile"),
        ("sim?load=cpu&watts=5", "option.* watts do not apply to load=cpu; it takes idle_w, max_w"),
        ("sim?load=constant&watts=lots", "option watts='lots' is not valid"),
        ("sim?rate=fast", "option rate='fast' is not valid .*expected update interval"),
        ("sim?rate=0.1ms", "update_interval_s 0.0001 is below 0.001"),
        ("sim?seed=1.5", "option seed='1.5' is not valid"),
        ("sim?load=profile", "load=profile needs profile=PATH"),
        ("sim?profile=/nonexistent/profile.txt", "/nonexistent/profile.txt:0: cannot read"),
        ("sim?load=cpu&idle_w=90&max_w=10", r"max_w \(10.0\) must be >= idle_w"),
        ("sim:wt999", "unknown simulated dialect 'wt999'; choose from wt210, wt310e"),
        ("sim?load", "bad options 'load'"),
    ],
)
def test_bad_options_name_the_option_and_start_nothing(spec: str, message: str) -> None:
    threads, fds = threading.active_count(), _open_fds()
    with pytest.raises(MeterSpecError, match=message):
        open_meter(spec)
    assert threading.active_count() == threads and _open_fds() == fds


def test_director_meter_info_marks_the_simulated_meter() -> None:
    with start_simulator(load=ConstantLoad(50.0)) as sim:
        opened = open_meters(["sim?load=constant", sim.spec])
        try:
            infos = [info for _, _, info in opened]
        finally:
            for _, meter, _ in opened:
                meter.close()
    assert [(i["name"], i["simulated"]) for i in infos] == [
        ("sim-wt310e_1", True),
        ("wt310e_2", False),
    ]
    assert infos[0]["identity"] == "YOKOGAWA,WT310E,C2SIM0001,F1.02"


def test_meter_list_shows_sim(capsys: pytest.CaptureFixture[str]) -> None:
    assert meter_cli.main(["meter", "list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    sim_row = next(row for row in rows if row[0] == "sim")
    assert sim_row[1] == "software" and "simulated" in sim_row
