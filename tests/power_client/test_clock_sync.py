"""Clock offset estimate and tolerance check: against the real director, and on given samples."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from power_client.clock_sync import (
    ClockOffset,
    TimeSample,
    check_offset,
    drift_s,
    estimate_offset,
)
from power_client.connection import DirectorClient
from power_client.errors import ClockSyncError
from power_director.config import DirectorConfig
from power_director.server import serve
from tests.power_director.service.director_helpers import SECRET, FakeEngineFactory

SKEW_NS = 250_000_000


def _skewed(skew_ns: int) -> Callable[[], int]:
    return lambda: time.time_ns() + skew_ns


@pytest.fixture
def director_at(tmp_path: Path) -> Iterator[Callable[..., tuple[str, int]]]:
    """Start a real director whose wall clock is ``wall_ns``; return its address."""
    started: list[Any] = []

    def start(wall_ns: Callable[[], int] = time.time_ns) -> tuple[str, int]:
        config = DirectorConfig(listen="127.0.0.1:0", data_dir=tmp_path / "data")
        director = serve(config, FakeEngineFactory(), secret=SECRET, wall_ns=wall_ns)
        started.append(director)
        return director.address

    yield start
    for director in started:
        director.close()


def _within_uncertainty(offset: ClockOffset, true_offset_ns: int) -> bool:
    # +1 ns: the midpoint is rounded down to whole nanoseconds.
    return abs(offset.offset_ns - true_offset_ns) <= offset.uncertainty_ns + 1


# --- against the real director ------------------------------------------------------------------


def test_client_clock_ahead_gives_a_negative_offset(director_at) -> None:
    address = director_at()
    with DirectorClient.connect(address, SECRET, clock_ns=_skewed(SKEW_NS)) as client:
        offset = estimate_offset(client)
    assert offset.exchanges == 16
    assert offset.rtt_ns >= 0 and offset.uncertainty_ns == offset.rtt_ns // 2
    assert _within_uncertainty(offset, -SKEW_NS), offset
    time_exchanges = [e for e in client.transcript if e.request_type == "time"]
    assert len(time_exchanges) == 16


def test_director_clock_ahead_gives_a_positive_offset_and_fails_the_check(director_at) -> None:
    address = director_at(wall_ns=_skewed(SKEW_NS))
    with DirectorClient.connect(address, SECRET) as client:
        offset = estimate_offset(client, exchanges=8)
    assert _within_uncertainty(offset, SKEW_NS), offset
    with pytest.raises(ClockSyncError) as info:
        check_offset(offset, tolerance_s=0.1)
    message = str(info.value)
    assert f"{offset.offset_s:+.6f} s" in message
    assert f"± {offset.uncertainty_s:.6f} s" in message
    assert "tolerance of 0.1 s" in message and "ahead of" in message
    assert "chronyc" in message and "timedatectl" in message and "ntpdate" in message


def test_estimate_can_compare_another_local_clock(director_at) -> None:
    address = director_at()
    with DirectorClient.connect(address, SECRET) as client:
        offset = estimate_offset(client, exchanges=4, clock_ns=_skewed(-SKEW_NS))
    assert _within_uncertainty(offset, SKEW_NS), offset


def test_time_sample_brackets_the_director_stamp(director_at) -> None:
    address = director_at()
    with DirectorClient.connect(address, SECRET) as client:
        sample = client.time()
    assert sample.sent_wall_ns <= sample.director_wall_ns <= sample.received_wall_ns
    assert sample.director_mono_ns > 0


# --- the estimate on given samples -----------------------------------------------------------


class ReplayPeer:
    def __init__(self, samples: list[TimeSample]) -> None:
        self.samples = list(samples)
        self.clocks: list[Callable[[], int] | None] = []

    def time(self, *, clock_ns: Callable[[], int] | None = None) -> TimeSample:
        self.clocks.append(clock_ns)
        return self.samples.pop(0)


def test_estimate_keeps_the_smallest_round_trip() -> None:
    peer = ReplayPeer(
        [
            TimeSample(1_000, 9_000, 1, 1_100),  # rtt 100, offset 7_950
            TimeSample(2_000, 2_510, 2, 2_020),  # rtt 20, offset 500
            TimeSample(3_000, 3_900, 3, 3_060),  # rtt 60, offset 870
        ]
    )
    offset = estimate_offset(peer, exchanges=3)
    assert (offset.offset_ns, offset.rtt_ns, offset.uncertainty_ns) == (500, 20, 10)
    assert offset.measured_at_wall_ns == 3_060
    assert offset.exchanges == 3


def test_estimate_passes_the_clock_to_the_peer() -> None:
    clock = time.time_ns
    peer = ReplayPeer([TimeSample(0, 5, 0, 10)])
    estimate_offset(peer, exchanges=1, clock_ns=clock)
    assert peer.clocks == [clock]


def test_estimate_ignores_exchanges_whose_clock_stepped_back() -> None:
    peer = ReplayPeer([TimeSample(1_000, 5_000, 1, 900), TimeSample(2_000, 2_040, 2, 2_050)])
    offset = estimate_offset(peer, exchanges=2)
    assert (offset.offset_ns, offset.rtt_ns) == (15, 50)


def test_estimate_without_a_usable_exchange_raises() -> None:
    peer = ReplayPeer([TimeSample(1_000, 5_000, 1, 900)])
    with pytest.raises(ClockSyncError, match="no usable time exchange out of 1"):
        estimate_offset(peer, exchanges=1)


def test_estimate_needs_one_exchange() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        estimate_offset(ReplayPeer([]), exchanges=0)


# --- the check, drift and units ----------------------------------------------------------------


def _offset(offset_ns: int, rtt_ns: int) -> ClockOffset:
    return ClockOffset(offset_ns, rtt_ns, rtt_ns // 2, 16, 1_700_000_000_000_000_000)


def test_check_accepts_offset_plus_half_rtt_at_the_tolerance() -> None:
    check_offset(_offset(90_000_000, 20_000_000), tolerance_s=0.1)
    check_offset(_offset(-90_000_000, 20_000_000), tolerance_s=0.1)


def test_check_counts_half_the_round_trip_against_the_tolerance() -> None:
    with pytest.raises(ClockSyncError) as info:
        check_offset(_offset(-95_000_000, 20_000_000), tolerance_s=0.1)
    message = str(info.value)
    assert "-0.095000 s" in message and "± 0.010000 s" in message
    assert "0.105000 s exceeds the tolerance of 0.1 s" in message
    assert "behind this machine's" in message and "same NTP server" in message


def test_check_refuses_a_non_positive_tolerance() -> None:
    with pytest.raises(ValueError, match="positive"):
        check_offset(_offset(0, 0), tolerance_s=0.0)


def test_drift_is_the_change_of_offset_in_seconds() -> None:
    assert drift_s(_offset(1_000_000, 0), _offset(4_000_000, 0)) == pytest.approx(0.003)
    assert drift_s(_offset(4_000_000, 0), _offset(1_000_000, 0)) == pytest.approx(-0.003)


def test_offset_in_seconds_and_as_json() -> None:
    offset = _offset(-250_000_000, 2_000_000)
    assert offset.offset_s == pytest.approx(-0.25)
    assert offset.rtt_s == pytest.approx(0.002)
    assert offset.uncertainty_s == pytest.approx(0.001)
    assert offset.worst_case_s == pytest.approx(0.251)
    assert offset.to_json() == {
        "offset_ns": -250_000_000,
        "rtt_ns": 2_000_000,
        "uncertainty_ns": 1_000_000,
        "exchanges": 16,
        "measured_at_wall_ns": 1_700_000_000_000_000_000,
    }
