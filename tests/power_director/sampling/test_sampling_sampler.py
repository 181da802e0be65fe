from __future__ import annotations

import logging
import time

import pytest

from power_director.errors import TransportError
from power_director.sampler import Gap, Sampler
from power_director.samples import FLAG_GARBLED, FLAG_OVER_RANGE, ChannelReading, Sample

MS = 1_000_000


class Collect:
    def __init__(self) -> None:
        self.items: list[Sample | Gap] = []

    def on_sample(self, sample: Sample) -> None:
        self.items.append(sample)

    def on_gap(self, gap: Gap) -> None:
        self.items.append(gap)

    @property
    def samples(self) -> list[Sample]:
        return [i for i in self.items if isinstance(i, Sample)]

    @property
    def gaps(self) -> list[Gap]:
        return [i for i in self.items if isinstance(i, Gap)]


def make(meter, clock, sink, **kw) -> Sampler:
    return Sampler(
        "m",
        meter,
        [sink],
        clock_ns=clock.now_ns,
        wall_ns=clock.wall_ns,
        sleep_until_ns=clock.sleep_until_ns,
        **kw,
    )


def test_timestamps_come_from_the_injected_clocks(fakes, clock):
    meter = fakes.FakeMeter(interval_s=0.1, on_read=lambda: clock.advance(2 * MS))
    sink = Collect()
    sampler = make(meter, clock, sink)
    first = sampler.step()
    second = sampler.step()
    assert first is not None and second is not None
    # Stamped at the middle of the 2 ms read; wall = the same instant on the wall clock.
    assert first.t_mono_ns == 1_001_000_000
    assert first.t_wall_ns == 1_700_000_000_001_000_000
    assert second.t_mono_ns == 1_101_000_000  # next deadline 1.1 s, not 1.102 s: no drift
    assert second.t_wall_ns - second.t_mono_ns == 1_700_000_000_000_000_000 - 1_000_000_000
    assert sink.samples == [first, second] and sink.gaps == []
    assert sampler.stats.samples == 2


def test_missed_updates_are_recorded_as_gaps(fakes, clock):
    sink = Collect()
    sampler = make(fakes.FakeMeter(interval_s=0.1), clock, sink)
    sampler.step()  # t = 1.0 s
    sampler.step()  # t = 1.1 s
    clock.advance(300 * MS)  # descheduled: now 1.4 s, deadlines 1.2 and 1.3 are past
    sampler.step()
    sampler.step()
    times = [s.t_mono_ns for s in sink.samples]
    assert times == [1_000 * MS, 1_100 * MS, 1_400 * MS, 1_500 * MS]  # skipped, no burst
    (gap,) = sink.gaps
    assert (gap.t_mono_start_ns, gap.t_mono_end_ns) == (1_100 * MS, 1_400 * MS)
    assert gap.missed_updates == 2 and gap.reason == "late"
    assert sink.items.index(gap) == 2  # the gap precedes the sample that ends it
    stats = sampler.stats
    assert (stats.gaps, stats.missed_updates, stats.max_gap_s) == (1, 2, pytest.approx(0.3))


def test_invalid_and_garbled_samples_are_counted_and_logged(fakes, clock, caplog):
    script = [
        fakes.reading(),
        ChannelReading.invalid(FLAG_OVER_RANGE),
        fakes.garbled(),
        ChannelReading.invalid(FLAG_GARBLED),
        fakes.reading(),
    ]
    sink = Collect()
    sampler = make(fakes.FakeMeter(script), clock, sink)
    with caplog.at_level(logging.WARNING, logger="power_director.sampler"):
        for _ in script:
            sampler.step()
    stats = sampler.stats
    assert (stats.samples, stats.invalid_samples, stats.garbled_samples) == (5, 3, 2)
    assert [s.valid for s in sink.samples] == [True, False, False, False, True]
    assert sink.samples[2].flags == {FLAG_GARBLED}
    assert "23\\x000.1,,x" in caplog.text  # the raw bytes of the garbled reply


def test_transport_error_reconnects_with_backoff_and_records_a_gap(fakes, clock):
    script = [fakes.reading(), fakes.unplugged(), fakes.unplugged(), fakes.reading(watts=50.0)]
    meter = fakes.FakeMeter(script, interval_s=0.1)
    reopened: list[object] = []

    def reconnect(old):
        reopened.append(old)
        return old

    sink = Collect()
    sampler = make(meter, clock, sink, reconnect=reconnect, backoff_s=(0.05, 0.1))
    assert sampler.step() is not None  # 1.0 s
    assert sampler.step() is None  # 1.1 s: unplugged; retries at 1.15 (fails) and 1.25 (ok)
    assert len(reopened) == 2
    samples = sink.samples
    assert [s.t_mono_ns for s in samples] == [1_000 * MS, 1_250 * MS]
    assert samples[1].total_watts == 50.0  # the samples read before the outage are kept
    (gap,) = sink.gaps
    assert gap.reason == "transport" and gap.duration_s == pytest.approx(0.25)
    stats = sampler.stats
    assert (stats.transport_errors, stats.reconnects, stats.gaps) == (1, 1, 1)
    sampler.step()
    assert sink.samples[-1].t_mono_ns == 1_350 * MS  # schedule restarts after recovery


class AlwaysUnplugged:
    """A meter that is gone for good."""

    name = "gone"
    channel_count = 1
    update_interval_s = 0.01

    def read(self):
        raise TransportError("/dev/ttyUSB0", "No such device")


def test_unrecovered_outage_is_recorded_at_stop_and_the_thread_joins(fakes):
    sink = Collect()
    sampler = Sampler("m", AlwaysUnplugged(), [sink], backoff_s=(0.01,))  # type: ignore[arg-type]
    sampler.start()
    time.sleep(0.1)
    stats = sampler.stop()
    assert not sampler.running and sampler.error is None
    assert (stats.samples, stats.transport_errors, stats.reconnects, stats.gaps) == (0, 1, 0, 1)
    assert sink.gaps[0].reason == "transport"


def test_thread_samples_at_the_period_and_stops_cleanly(fakes):
    sink = Collect()
    sampler = Sampler("m", fakes.FakeMeter(interval_s=0.005), [sink])
    sampler.start()
    time.sleep(0.25)
    stats = sampler.stop()
    assert not sampler.running
    assert 25 <= stats.samples <= 55
    assert stats.gaps == 0 or stats.max_gap_s < 0.05
    with pytest.raises(RuntimeError):
        sampler.start()


def test_a_failing_sink_stops_the_sampler_with_the_error_kept(fakes):
    class Broken:
        def on_sample(self, sample):
            raise OSError("disk full")

        def on_gap(self, gap):
            pass

    sampler = Sampler("m", fakes.FakeMeter(interval_s=0.01), [Broken()])
    sampler.start()
    sampler._thread.join(2)  # stops by itself
    assert isinstance(sampler.stop().samples, int)
    assert isinstance(sampler.error, OSError)


def test_bad_period_is_refused(fakes):
    with pytest.raises(ValueError, match="period"):
        Sampler("m", fakes.FakeMeter(interval_s=float("nan")))
