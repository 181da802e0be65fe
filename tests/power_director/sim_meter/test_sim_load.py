"""Load models: constant, CPU utilisation from a fake /proc/stat, scripted profiles."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_helpers import FakeClock

from power_director.errors import SimulatorError
from power_director.sim import (
    ConstantLoad,
    CpuLoad,
    LoadModel,
    ProfileError,
    SimulatedInstrument,
    SimulatorConfig,
    load_profile,
    parse_profile,
)

STAT = "cpu  {user} 0 {system} {idle} {iowait} 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\nintr 1 2\n"


def write_stat(path: Path, user: int, system: int, idle: int, iowait: int = 0) -> None:
    path.write_text(STAT.format(user=user, system=system, idle=idle, iowait=iowait))


def test_models_satisfy_the_protocol(tmp_path: Path) -> None:
    write_stat(tmp_path / "stat", 1, 1, 1)
    for model in (ConstantLoad(1.0), CpuLoad(proc_stat=tmp_path / "stat"), parse_profile("0 1")):
        assert isinstance(model, LoadModel)


def test_cpu_load_follows_utilisation_deltas(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    write_stat(stat, user=1000, system=500, idle=8000, iowait=500)
    load = CpuLoad(idle_w=50.0, max_w=250.0, proc_stat=stat, period_s=0.5)
    assert load.watts_at(0.0) == 50.0  # no previous read yet
    write_stat(stat, user=1600, system=700, idle=8200, iowait=500)  # 800 busy of 1000
    assert load.watts_at(0.2) == 50.0  # within the read period: held
    assert load.watts_at(0.5) == pytest.approx(50.0 + 200.0 * 0.8)
    write_stat(stat, user=1600, system=700, idle=9200, iowait=500)  # idle only
    assert load.watts_at(1.0) == pytest.approx(50.0)
    write_stat(stat, user=1600, system=700, idle=9200, iowait=1500)  # iowait counts as idle
    assert load.watts_at(1.5) == pytest.approx(50.0)


def test_cpu_load_drives_the_meter(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    write_stat(stat, user=0, system=0, idle=1000)
    clock = FakeClock()
    config = SimulatorConfig(update_interval_s=0.25, noise_w=0.0, noise_v=0.0)
    load = CpuLoad(idle_w=40.0, max_w=140.0, proc_stat=stat, period_s=0.1)
    sim = SimulatedInstrument("wt310e", load, config, clock=clock)
    sim.handle_line(":COMM:HEAD OFF")
    clock.advance(0.25)
    assert float(sim.handle_line(":NUM:VAL? 3") or "nan") == pytest.approx(40.0)
    write_stat(stat, user=250, system=250, idle=1500)  # 50 % busy
    clock.advance(0.25)
    clock.advance(0.25)
    assert float(sim.handle_line(":NUM:VAL? 3") or "nan") == pytest.approx(90.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cannot read CPU times"),
        ("intr 1 2\n", ":1: expected an aggregate 'cpu' line"),
        ("cpu 1 2 x 4\n", ":1: bad CPU counter"),
    ],
)
def test_cpu_stat_errors_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    stat = tmp_path / "stat"
    if text:
        stat.write_text(text)
    with pytest.raises(SimulatorError, match=message) as info:
        CpuLoad(proc_stat=stat).watts_at(0.0)
    assert str(stat) in str(info.value)


def test_cpu_load_limits() -> None:
    with pytest.raises(SimulatorError, match="max_w"):
        CpuLoad(idle_w=100.0, max_w=50.0)


def test_real_proc_stat_is_readable() -> None:
    load = CpuLoad(idle_w=10.0, max_w=20.0, period_s=0.0)
    load.watts_at(0.0)
    assert 10.0 <= load.watts_at(1.0) <= 20.0


def test_profile_steps_ramps_and_repeat(tmp_path: Path) -> None:
    path = tmp_path / "load.csv"
    path.write_text(
        "# phases\nt_s, watts, shape\n0, 50\n10 200   # ranging\n20, 200\n30, 100, ramp\nrepeat\n"
    )
    profile = load_profile(path)
    assert profile.describe() == f"profile {path} (4 points, 30 s, repeating)"
    assert profile.watts_at(0.0) == 50.0
    assert profile.watts_at(9.999) == 50.0
    assert profile.watts_at(10.0) == 200.0
    assert profile.watts_at(25.0) == pytest.approx(150.0)
    assert profile.watts_at(30.0) == 50.0  # wrapped
    assert profile.watts_at(55.0) == pytest.approx(150.0)
    held = parse_profile("5, 10\n6, 20")
    assert held.watts_at(0.0) == 10.0 and held.watts_at(100.0) == 20.0


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("0, 50\n10\n", 2, "expected 't_s, watts"),
        ("0, 50\n1, fifty\n", 2, "not a number"),
        ("0, 50\n\n# c\n-1, 5\n", 4, "must be a finite number >= 0"),
        ("0, 50\n5, -2\n", 2, "watts -2"),
        ("0, 50\n5, 60\n5, 70\n", 3, "not after the previous"),
        ("0, 50\n5, 60, jump\n", 2, "shape must be"),
        ("0, 50\nrepeat\n5, 1\n", 3, "points after 'repeat'"),
        ("0, 50\nrepeat\n", 0, "'repeat' needs"),
        ("# nothing\n", 0, "no points"),
        ("0, nan\n", 1, "watts nan"),
    ],
)
def test_profile_errors_name_file_and_line(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = tmp_path / "bad.profile"
    path.write_text(text)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert reason in str(info.value)


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="cannot read profile") as info:
        load_profile(tmp_path / "absent.csv")
    assert str(tmp_path / "absent.csv") in str(info.value)
