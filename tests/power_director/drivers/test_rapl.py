"""RAPL over a fake powercap sysfs tree: deltas, wraparound, missing and unreadable counters."""

from __future__ import annotations

import math
import os

import pytest

from power_director.errors import MeterUnavailableError, RangeError
from power_director.meters.base import MeterConfig
from power_director.meters.rapl import RaplSource, open_rapl, rapl_delta_uj
from power_director.samples import FLAG_NO_DATA


class FakeClock:
    def __init__(self):
        self.ns = 0

    def __call__(self):
        return self.ns


def zone(root, name, index, energy_uj, max_uj=1_000_000):
    path = root / f"intel-rapl:{index}"
    path.mkdir(parents=True)
    (path / "name").write_text(f"{name}\n")
    (path / "energy_uj").write_text(f"{energy_uj}\n")
    (path / "max_energy_range_uj").write_text(f"{max_uj}\n")
    return path


def test_delta_handles_wrap():
    assert rapl_delta_uj(100, 300, 1000) == 200
    assert rapl_delta_uj(900, 100, 1000) == 200


def test_watts_from_energy_deltas_with_wraparound(tmp_path):
    pkg = zone(tmp_path, "package-0", 0, 900_000)
    zone(tmp_path, "dram", "0:0", 5)
    clock = FakeClock()
    source = RaplSource(tmp_path, clock=clock)
    identity = source.open()
    assert identity.model == "RAPL" and source.channel_names == ["package-0"]
    (first,) = source.read()
    assert not first.valid and first.flags == {FLAG_NO_DATA}
    clock.ns = 500_000_000
    (pkg / "energy_uj").write_text("950000\n")
    (second,) = source.read()
    assert second.watts == pytest.approx(0.1)  # 50 000 µJ over 0.5 s
    clock.ns = 1_000_000_000
    (pkg / "energy_uj").write_text("50000\n")  # wrapped at 1 000 000
    (third,) = source.read()
    assert third.valid and third.watts == pytest.approx(0.2)
    assert third.energy_joules == pytest.approx(0.15)
    assert third.watts_uncertainty == pytest.approx(0.2 * 0.05)
    assert math.isnan(third.volts)
    source.close()


def test_zone_selection_by_name(tmp_path):
    zone(tmp_path, "package-0", 0, 1)
    zone(tmp_path, "dram", "0:0", 2)
    source = open_rapl(f"{tmp_path}?zones=package-0,dram")
    assert source.channel_count == 2


def test_missing_tree_is_unavailable(tmp_path):
    with pytest.raises(MeterUnavailableError, match="no powercap tree"):
        RaplSource(tmp_path / "absent").open()


def test_this_machine_default_root_is_unavailable_or_opens():
    if os.path.isdir("/sys/class/powercap"):
        pytest.skip("this machine has powercap")
    with pytest.raises(MeterUnavailableError, match="RAPL unavailable"):
        open_rapl("")


def test_missing_zone_is_unavailable(tmp_path):
    zone(tmp_path, "psys", 1, 1)
    with pytest.raises(MeterUnavailableError, match=r"not found.*found: psys"):
        RaplSource(tmp_path).open()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-0400 files")
def test_permission_denied_is_unavailable_with_reason(tmp_path):
    pkg = zone(tmp_path, "package-0", 0, 1)
    (pkg / "energy_uj").chmod(0o000)
    with pytest.raises(MeterUnavailableError, match="root-only since CVE-2020-8694"):
        RaplSource(tmp_path).open()


def test_counter_vanishing_mid_run_gives_invalid_reading(tmp_path, caplog):
    pkg = zone(tmp_path, "package-0", 0, 1)
    clock = FakeClock()
    source = RaplSource(tmp_path, clock=clock)
    source.open()
    (pkg / "energy_uj").unlink()
    clock.ns = 10
    with caplog.at_level("WARNING"):
        (reading,) = source.read()
    assert not reading.valid and "unreadable" in caplog.text


def test_configure_refuses_ranges_and_sets_interval(tmp_path):
    zone(tmp_path, "package-0", 0, 1)
    source = RaplSource(tmp_path)
    source.open()
    source.configure(MeterConfig(update_interval_s=0.001))
    assert source.update_interval_s == 0.001
    with pytest.raises(RangeError, match="no ranges"):
        source.configure(MeterConfig(volts_range=230.0))
    with pytest.raises(RangeError, match=r"channels 1\.\.1"):
        source.configure(MeterConfig(channels=(3,)))


def test_unreadable_counter_is_unavailable(tmp_path):
    pkg = zone(tmp_path, "package-0", 0, 1)
    (pkg / "energy_uj").unlink()
    (pkg / "energy_uj").mkdir()  # unreadable even for root
    with pytest.raises(MeterUnavailableError, match=r"RAPL unavailable: .*energy_uj"):
        RaplSource(tmp_path).open()
