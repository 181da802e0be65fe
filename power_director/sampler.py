"""The sampler: one thread per meter reading at the meter's update rate and feeding sinks.

Each cycle waits for the next deadline (``t0 + k * period``), calls ``meter.read()``, stamps the
result with the injected monotonic clock (midpoint of the read) and UTC wall clock, and hands the
:class:`~power_director.samples.Sample` to every sink. Rules:

* **Missed updates.** When two consecutive samples lie ``n`` periods apart (rounded) with
  ``n >= 2``, ``n - 1`` updates were missed: a :class:`Gap` is recorded (``reason="late"``). A
  sampler that falls behind skips the deadlines already past instead of bursting.
* **Invalid samples** (over range, no data, garbled) are counted and still handed on. A
  :class:`~power_director.errors.MeterProtocolError` raised by ``read()`` becomes an invalid
  ``garbled`` sample and is logged with the raw bytes received.
* **Transport errors** (meter unplugged, silent): reconnect attempts with backoff until a read
  succeeds again or the sampler is stopped; the outage is recorded as a gap with
  ``reason="transport"`` and counted in :attr:`SamplerStats.transport_errors`, which makes the
  phase invalid. Samples already read are kept.

Example::

    sampler = Sampler("wt310e", meter, [log_writer], period_s=0.001)
    sampler.start()
    ...
    stats = sampler.stop()

Errors: :meth:`Sampler.stop` returns the stats; an unexpected exception in the thread (e.g. a
sink failing) stops sampling and is kept in :attr:`Sampler.error`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from power_director.errors import MeterProtocolError, TransportError
from power_director.meters.base import PowerMeter
from power_director.samples import FLAG_GARBLED, ChannelReading, Sample

log = logging.getLogger(__name__)

#: Delays between reconnect attempts, s; the last one repeats.
RECONNECT_BACKOFF_S: tuple[float, ...] = (0.05, 0.1, 0.2, 0.5, 1.0)


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch without samples: missed updates or a transport outage.

    Attributes:
        meter: meter name.
        t_mono_start_ns: monotonic time of the last sample before the gap, ns.
        t_mono_end_ns: monotonic time of the first sample after it (or of the stop), ns.
        t_wall_start_ns: UTC wall-clock time matching ``t_mono_start_ns``, ns.
        missed_updates: meter updates not read.
        reason: ``"late"`` (the sampler fell behind) or ``"transport"`` (the meter was lost).
    """

    meter: str
    t_mono_start_ns: int
    t_mono_end_ns: int
    t_wall_start_ns: int
    missed_updates: int
    reason: Literal["late", "transport"]

    @property
    def duration_s(self) -> float:
        """Return the gap's length, s."""
        return (self.t_mono_end_ns - self.t_mono_start_ns) / 1e9


@dataclass(frozen=True, slots=True)
class SamplerStats:
    """What one sampler run did.

    Attributes:
        samples: samples handed to the sinks (valid or not).
        invalid_samples: samples with at least one invalid channel.
        garbled_samples: samples whose reply could not be parsed (a subset of invalid).
        gaps: gaps recorded.
        missed_updates: meter updates not read, over all gaps.
        max_gap_s: the longest gap, s (0 when none).
        transport_errors: transport failures seen (each starts a reconnect sequence).
        reconnects: successful recoveries after a transport failure.
    """

    samples: int = 0
    invalid_samples: int = 0
    garbled_samples: int = 0
    gaps: int = 0
    missed_updates: int = 0
    max_gap_s: float = 0.0
    transport_errors: int = 0
    reconnects: int = 0


class SampleSink(Protocol):
    """Receives samples and gaps from a sampler thread, in order."""

    def on_sample(self, sample: Sample) -> None:
        """Take one sample."""

    def on_gap(self, gap: Gap) -> None:
        """Take one gap record."""


Reconnect = Callable[[PowerMeter], PowerMeter]


def _keep_meter(meter: PowerMeter) -> PowerMeter:
    return meter


class Sampler:
    """Read one meter periodically in a background thread.

    Args:
        name: meter name stamped into samples.
        meter: an opened, configured meter.
        sinks: receive every sample and gap (called from the sampler thread).
        period_s: read period, s; default the meter's ``update_interval_s``.
        clock_ns: monotonic clock, ns.
        wall_ns: UTC wall clock, ns since the epoch.
        sleep_until_ns: blocks until ``clock_ns() >= deadline``; default waits on the stop
            event (real time), so :meth:`stop` interrupts it. Tests pass a fake clock's.
        reconnect: called with the failed meter after a transport error; returns the meter to
            read from next (reopened or the same). Default: retry the same meter.
        backoff_s: delays between reconnect attempts, s; the last repeats.
    """

    def __init__(
        self,
        name: str,
        meter: PowerMeter,
        sinks: Sequence[SampleSink] = (),
        *,
        period_s: float | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        wall_ns: Callable[[], int] = time.time_ns,
        sleep_until_ns: Callable[[int], None] | None = None,
        reconnect: Reconnect = _keep_meter,
        backoff_s: Sequence[float] = RECONNECT_BACKOFF_S,
    ) -> None:
        period = meter.update_interval_s if period_s is None else period_s
        if not (math.isfinite(period) and period > 0):
            raise ValueError(f"{name}: sample period {period!r} s must be a positive number")
        self.name = name
        self.meter = meter
        self.period_ns = round(period * 1e9)
        self._sinks = list(sinks)
        self._clock_ns = clock_ns
        self._wall_ns = wall_ns
        self._sleep_until_ns = sleep_until_ns
        self._reconnect = reconnect
        self._backoff_s = tuple(backoff_s) or (1.0,)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._deadline_ns: int | None = None
        self._last: Sample | None = None
        self._stats = SamplerStats()
        self._lock = threading.Lock()
        self.error: BaseException | None = None

    @property
    def stats(self) -> SamplerStats:
        """Return the counters so far (safe from any thread)."""
        with self._lock:
            return self._stats

    @property
    def running(self) -> bool:
        """Return True while the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the sampling thread."""
        if self._thread is not None:
            raise RuntimeError(f"sampler {self.name} already started")
        self._thread = threading.Thread(target=self._run, name=f"sampler-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> SamplerStats:
        """Ask the thread to stop, join it and return the stats."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.error("sampler %s did not stop within %g s", self.name, timeout_s)
        return self.stats

    def _run(self) -> None:
        log.info("sampler.start meter=%s period_s=%g", self.name, self.period_ns / 1e9)
        try:
            while not self._stop.is_set():
                self.step()
        except Exception as exc:  # a sink or driver bug must not vanish with the thread
            log.exception("sampler %s stopped by an unexpected error", self.name)
            self.error = exc
        log.info("sampler.stop meter=%s stats=%s", self.name, self.stats)

    # One cycle, callable directly (tests drive it with a fake clock, no thread).

    def step(self) -> Sample | None:
        """Wait for the next deadline, read once and dispatch; return the sample (None if none)."""
        now = self._clock_ns()
        if self._deadline_ns is None:
            self._deadline_ns = now
        elif now > self._deadline_ns + self.period_ns:
            # Behind schedule: skip the deadlines already past rather than burst.
            behind = (now - self._deadline_ns) // self.period_ns
            self._deadline_ns += behind * self.period_ns
        if not self._wait_until(self._deadline_ns):
            return None
        self._deadline_ns += self.period_ns
        try:
            sample = self._read()
        except TransportError as exc:
            self._recover(exc)
            return None
        self._dispatch(sample)
        return sample

    def _read(self) -> Sample:
        before = self._clock_ns()
        try:
            readings = self.meter.read()
        except MeterProtocolError as exc:
            log.warning(
                "%s garbled reply %r: %s; sample marked invalid", self.name, exc.received, exc
            )
            readings = [ChannelReading.invalid(FLAG_GARBLED)] * self.meter.channel_count
        after = self._clock_ns()
        wall = self._wall_ns() - (after - before) // 2
        return Sample(wall, (before + after) // 2, self.name, tuple(readings))

    def _dispatch(self, sample: Sample, *, after_outage: bool = False) -> None:
        last = self._last
        gap: Gap | None = None
        if last is not None:
            periods = round((sample.t_mono_ns - last.t_mono_ns) / self.period_ns)
            if periods >= 2 or after_outage:
                gap = Gap(
                    self.name,
                    last.t_mono_ns,
                    sample.t_mono_ns,
                    last.t_wall_ns,
                    max(periods - 1, 0),
                    "transport" if after_outage else "late",
                )
        self._count(sample, gap)
        if gap is not None:
            log.warning(
                "%s gap of %.3f s (%d missed updates, %s)",
                self.name,
                gap.duration_s,
                gap.missed_updates,
                gap.reason,
            )
            for sink in self._sinks:
                sink.on_gap(gap)
        for sink in self._sinks:
            sink.on_sample(sample)
        self._last = sample

    def _count(self, sample: Sample, gap: Gap | None) -> None:
        s = self._stats
        invalid = not sample.valid
        garbled = FLAG_GARBLED in sample.flags
        with self._lock:
            self._stats = SamplerStats(
                samples=s.samples + 1,
                invalid_samples=s.invalid_samples + invalid,
                garbled_samples=s.garbled_samples + garbled,
                gaps=s.gaps + (gap is not None),
                missed_updates=s.missed_updates + (gap.missed_updates if gap else 0),
                max_gap_s=max(s.max_gap_s, gap.duration_s if gap else 0.0),
                transport_errors=s.transport_errors,
                reconnects=s.reconnects,
            )

    def _bump(self, **deltas: int) -> None:
        with self._lock:
            s = self._stats
            self._stats = replace(s, **{k: getattr(s, k) + v for k, v in deltas.items()})

    def _recover(self, first: TransportError) -> None:
        """Retry with backoff until a read succeeds (then record the gap) or we are stopped."""
        self._bump(transport_errors=1)
        log.error("%s transport error: %s; reconnecting", self.name, first)
        outage_start = self._clock_ns()
        attempt = 0
        while True:
            delay_s = self._backoff_s[min(attempt, len(self._backoff_s) - 1)]
            attempt += 1
            if not self._wait_until(self._clock_ns() + round(delay_s * 1e9)):
                self._record_unrecovered_outage(outage_start)
                return
            try:
                self.meter = self._reconnect(self.meter)
                sample = self._read()
            except TransportError as exc:
                log.warning("%s reconnect attempt %d failed: %s", self.name, attempt, exc)
                continue
            log.warning("%s reconnected after %d attempt(s)", self.name, attempt)
            self._bump(reconnects=1)
            self._deadline_ns = self._clock_ns() + self.period_ns
            self._dispatch(sample, after_outage=True)
            return

    def _record_unrecovered_outage(self, outage_start_ns: int) -> None:
        last = self._last
        start_mono = last.t_mono_ns if last else outage_start_ns
        end_mono = self._clock_ns()
        gap = Gap(
            self.name,
            start_mono,
            end_mono,
            last.t_wall_ns if last else self._wall_ns(),
            max(round((end_mono - start_mono) / self.period_ns) - 1, 0),
            "transport",
        )
        with self._lock:
            s = self._stats
            self._stats = replace(
                s,
                gaps=s.gaps + 1,
                missed_updates=s.missed_updates + gap.missed_updates,
                max_gap_s=max(s.max_gap_s, gap.duration_s),
            )
        log.error("%s lost until stop: gap of %.3f s", self.name, gap.duration_s)
        for sink in self._sinks:
            sink.on_gap(gap)

    def _wait_until(self, deadline_ns: int) -> bool:
        """Block until ``deadline_ns``; return False if a stop was requested."""
        if self._sleep_until_ns is not None:
            self._sleep_until_ns(deadline_ns)
            return not self._stop.is_set()
        remaining_ns = deadline_ns - self._clock_ns()
        if remaining_ns > 0:
            return not self._stop.wait(remaining_ns / 1e9)
        return not self._stop.is_set()
