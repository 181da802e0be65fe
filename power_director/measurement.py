"""The measurement engine a director session drives: phases, samplers, logs, ranges.

One engine per session. Each phase (``ranging`` then ``testing``, PTDaemon's two passes) starts a
:class:`~power_director.sampler.Sampler` per meter whose samples go to a
:class:`~power_director.powerlog.PowerLogWriter` and a
:class:`~power_director.phase_stats.PhaseAccumulator`; stopping the phase joins the samplers and
returns a :class:`~power_director.phase_stats.PhaseSummary`.

Ranges: ``ranging`` normally runs on auto range; at its end fixed ranges are chosen per meter and
channel (:mod:`power_director.ranging`). ``testing`` with ``auto_range=False`` sets those ranges,
or the manual ones given for a meter. :meth:`MeasurementEngine.restore_initial_ranges` puts the
meters back.

Files (all under ``data_dir``; ``testing`` uses power-dev's ``run_1`` directory name)::

    ranging/spl.txt  ranging/samples.jsonl  ranging/summary.json
    run_1/spl.txt    run_1/samples.jsonl    run_1/summary.json

With several meters each has ``spl_<meter>.txt`` and ``samples_<meter>.jsonl``, and ``spl.txt``
is their merge by timestamp (:mod:`power_director.merge`), written when the phase stops.

Validity: a phase is invalid when a meter produced no sample, a gap exceeded ``max_late_gap_s``
(1 s: the 1 Hz ``spl.txt`` would lose a sample), there was a transport error, or a sampler failed;
shorter missed-update gaps are counted and reported, not fatal. ``testing`` is also invalid with
invalid or over-range samples or a W uncertainty above 1 % (no-data samples before the first
valid one, the meter settling after the range change, are tolerated). Range choice failures
make ``ranging`` invalid.

Errors: :class:`~power_director.errors.SessionStateError` (phase already running, none running,
testing without ranges), :class:`~power_director.errors.RangeError` (manual ranges that fit no
range), transport errors from setting ranges.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from power_director.errors import PowerDirectorError, RangeError, SessionStateError
from power_director.merge import merge_by_time
from power_director.meters.base import PowerMeter
from power_director.phase_stats import (
    UNCERTAINTY_LIMIT,
    MeterPhaseSummary,
    PhaseAccumulator,
    PhaseSummary,
)
from power_director.powerlog import PowerLogWriter, read_power_log
from power_director.ranging import RangeChoice, RangeSetting, RangingPeaks, choose_ranges
from power_director.sampler import Reconnect, Sampler, SampleSink
from power_director.spl import format_spl_line

log = logging.getLogger(__name__)

__all__ = ["PHASE_DIRS", "MeasurementEngine", "PhaseSummary", "RangeSetting"]

#: Directory per phase (power-dev's submission layout); other phases use their own name.
PHASE_DIRS: Mapping[str, str] = {"ranging": "ranging", "testing": "run_1"}
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class _Channel:
    """One meter's moving parts during a phase."""

    name: str
    meter: PowerMeter
    sampler: Sampler
    writer: PowerLogWriter
    stats: PhaseAccumulator


@dataclass
class _ActivePhase:
    phase: str
    mark: str
    directory: Path
    t_start_wall_ns: int
    t_start_mono_ns: int
    channels: list[_Channel]


class MeasurementEngine:
    """Run measurement phases over a session's meters and write their logs.

    Args:
        meters: ``(name, opened meter)`` pairs; names must be unique. The engine does not close
            the meters (their owner does) but restores their ranges.
        data_dir: the session directory; created if missing.
        clock_ns: monotonic clock, ns (the session timebase).
        wall_ns: UTC wall clock, ns since the epoch.
        sample_period_s: sampling period for every meter; default each meter's update interval.
        reconnect: ``(name, failed meter) -> meter`` used by the samplers after a transport
            error; default retries the same meter.
        flush_interval_s: log flush cadence, s.
        max_late_gap_s: a missed-update gap longer than this invalidates the phase, s (shorter
            ones, e.g. a scheduler stall, are counted and reported only).
        observers: extra sinks given every sample and gap of every phase, from the sampler
            threads (e.g. the Prometheus exporter); they must not block.
    """

    def __init__(
        self,
        meters: Sequence[tuple[str, PowerMeter]],
        data_dir: Path,
        *,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        wall_ns: Callable[[], int] = time.time_ns,
        sample_period_s: float | None = None,
        reconnect: Callable[[str, PowerMeter], PowerMeter] | None = None,
        flush_interval_s: float = 1.0,
        max_late_gap_s: float = 1.0,
        observers: Sequence[SampleSink] = (),
    ) -> None:
        names = [name for name, _ in meters]
        if not meters:
            raise ValueError("a measurement needs at least one meter")
        if len(set(names)) != len(names) or not all(_NAME.match(n) for n in names):
            raise ValueError(f"meter names must be unique and [A-Za-z0-9_.-]: {names}")
        self._meters = list(meters)
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._clock_ns = clock_ns
        self._wall_ns = wall_ns
        self._period_s = sample_period_s
        self._reconnect = reconnect
        self._flush_interval_s = flush_interval_s
        self._max_late_gap_s = max_late_gap_s
        self._observers = tuple(observers)
        self._active: _ActivePhase | None = None
        self._chosen: dict[str, RangeChoice] = {}
        self._peaks: dict[str, RangingPeaks] = {}
        self._files: list[Path] = []
        self._ranges_changed: set[str] = set()
        self._closed = False

    # Phases.

    def start_phase(
        self,
        phase: str,
        mark: str,
        *,
        auto_range: bool,
        manual_ranges: Mapping[str, RangeSetting] | None = None,
    ) -> None:
        """Set the ranges for ``phase`` and start sampling every meter.

        Raises:
            SessionStateError: a phase is running, the engine is closed, or ``testing`` has
                neither ranges from ranging nor manual ones.
            RangeError: manual ranges fit no range of the meter.
        """
        if self._closed:
            raise SessionStateError("the measurement engine is closed")
        if self._active is not None:
            raise SessionStateError(f"phase {self._active.phase!r} is still running")
        if not _NAME.match(phase) or "," in mark or "\n" in mark:
            raise ValueError(f"bad phase {phase!r} or mark {mark!r}")
        self._apply_ranges(phase, auto_range, manual_ranges or {})
        directory = self.data_dir / PHASE_DIRS.get(phase, phase)
        directory.mkdir(parents=True, exist_ok=True)
        single = len(self._meters) == 1
        channels = []
        for name, meter in self._meters:
            spl = directory / ("spl.txt" if single else f"spl_{name}.txt")
            jsonl = directory / ("samples.jsonl" if single else f"samples_{name}.jsonl")
            writer = PowerLogWriter(
                spl,
                jsonl,
                meter=name,
                phase=phase,
                mark=mark,
                period_s=self._period_s or meter.update_interval_s,
                clock_ns=self._clock_ns,
                flush_interval_s=self._flush_interval_s,
            )
            self._remember(*writer.paths)
            stats = PhaseAccumulator(name, meter.channel_count)
            sampler = Sampler(
                name,
                meter,
                [writer, stats, *self._observers],
                period_s=self._period_s,
                clock_ns=self._clock_ns,
                wall_ns=self._wall_ns,
                reconnect=self._reconnect_for(name),
            )
            writer.write_event("phase_start", phase=phase, auto_range=auto_range)
            channels.append(_Channel(name, meter, sampler, writer, stats))
        self._active = _ActivePhase(
            phase, mark, directory, self._wall_ns(), self._clock_ns(), channels
        )
        log.info("phase.start name=%s mark=%s meters=%d", phase, mark, len(channels))
        for channel in channels:
            channel.sampler.start()

    def stop_phase(self) -> PhaseSummary:
        """Stop sampling, close the logs, choose ranges after ranging; return the summary.

        Raises:
            SessionStateError: no phase is running.
        """
        active = self._active
        if active is None:
            raise SessionStateError("no phase is running")
        self._active = None
        for channel in active.channels:
            channel.sampler.stop()
        t_end_wall, t_end_mono = self._wall_ns(), self._clock_ns()
        for channel in active.channels:
            channel.writer.write_event("phase_stop", stats=str(channel.sampler.stats))
            channel.writer.close()
        reasons: list[str] = []
        chosen: list[RangeChoice] = []
        if active.phase == "ranging":
            chosen = self._choose_after_ranging(active, reasons)
        if len(active.channels) > 1:
            self._write_merged_spl(active)
        summary = self._summarize(active, t_end_wall, t_end_mono, chosen, reasons)
        path = active.directory / "summary.json"
        path.write_text(json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8")
        self._remember(path)
        log.info(
            "phase.stop name=%s samples=%d gaps=%d valid=%s reasons=%s",
            summary.phase,
            summary.samples,
            summary.gaps,
            summary.valid,
            list(summary.reasons),
        )
        return summary

    @property
    def active_phase(self) -> str | None:
        """Return the running phase's name, or None."""
        return self._active.phase if self._active else None

    @property
    def ranges_chosen(self) -> Mapping[str, RangeChoice]:
        """Return the ranges chosen at the end of the last ranging phase, per meter."""
        return dict(self._chosen)

    def files(self) -> list[Path]:
        """Return the files written for this session so far (all inside ``data_dir``)."""
        return [p for p in self._files if p.exists()]

    def restore_initial_ranges(self) -> None:
        """Put the meters' ranges back as found.

        A meter with a ``restore_ranges()`` method restores its saved ranges; others are put back
        on auto range (their full initial state is restored by their ``close()``).
        """
        for name, meter in self._meters:
            if name not in self._ranges_changed:
                continue
            try:
                restore = getattr(meter, "restore_ranges", None)
                if callable(restore):
                    restore()
                else:
                    meter.auto_range()
                self._ranges_changed.discard(name)
                log.info("ranges of %s restored", name)
            except PowerDirectorError as exc:
                log.error("could not restore the ranges of %s: %s", name, exc)

    def close(self) -> None:
        """Stop a running phase, restore the ranges; further calls do nothing."""
        if self._closed:
            return
        try:
            if self._active is not None:
                self.stop_phase()
        finally:
            self.restore_initial_ranges()
            self._closed = True

    # Internals.

    def _reconnect_for(self, name: str) -> Reconnect:
        outer = self._reconnect
        if outer is None:
            return lambda meter: meter
        return lambda meter: outer(name, meter)

    def _remember(self, *paths: Path) -> None:
        for path in paths:
            if path not in self._files:
                self._files.append(path)

    def _apply_ranges(
        self, phase: str, auto_range: bool, manual: Mapping[str, RangeSetting]
    ) -> None:
        unknown = set(manual) - {name for name, _ in self._meters}
        if unknown:
            raise RangeError(f"manual ranges for unknown meter(s): {sorted(unknown)}")
        for name, meter in self._meters:
            if not meter.range_table.crest_factors:
                continue  # software source: nothing to range
            if auto_range and name not in manual:
                meter.auto_range()
                self._ranges_changed.add(name)
                continue
            crest_factor = int(getattr(meter, "crest_factor", 3))
            if name in manual:
                choice = choose_ranges(
                    name,
                    meter.range_table,
                    self._peaks.get(name),
                    crest_factor=crest_factor,
                    manual=manual[name],
                    channel_count=meter.channel_count,
                )
            elif name in self._chosen:
                choice = self._chosen[name]
            elif phase == "testing":
                raise SessionStateError(
                    f"no ranges for meter {name}: run a ranging phase or give manual ranges"
                )
            else:
                continue
            for channel in choice.channels:
                target = channel.channel if meter.channel_count > 1 else None
                meter.set_ranges(channel.volts_range, channel.amps_range, channel=target)
            self._ranges_changed.add(name)

    def _choose_after_ranging(self, active: _ActivePhase, reasons: list[str]) -> list[RangeChoice]:
        chosen = []
        for channel in active.channels:
            meter = channel.meter
            self._peaks[channel.name] = channel.stats.peaks
            if not meter.range_table.crest_factors:
                continue
            try:
                choice = choose_ranges(
                    channel.name,
                    meter.range_table,
                    channel.stats.peaks,
                    crest_factor=int(getattr(meter, "crest_factor", 3)),
                )
            except RangeError as exc:
                reasons.append(str(exc))
                self._chosen.pop(channel.name, None)
                continue
            self._chosen[channel.name] = choice
            chosen.append(choice)
        return chosen

    def _write_merged_spl(self, active: _ActivePhase) -> None:
        streams = []
        for channel in active.channels:
            logged = read_power_log(channel.writer.jsonl_path).samples
            streams.append((channel.name, [entry.sample for entry in logged]))
        tolerance_ns = max(c.sampler.period_ns for c in active.channels)
        path = active.directory / "spl.txt"
        with open(path, "w", encoding="ascii", newline="\n") as handle:
            for row in merge_by_time(streams, tolerance_ns=tolerance_ns):
                handle.write(format_spl_line(row.t_wall_ns, row.readings, active.mark) + "\n")
        self._remember(path)

    def _summarize(
        self,
        active: _ActivePhase,
        t_end_wall: int,
        t_end_mono: int,
        chosen: list[RangeChoice],
        reasons: list[str],
    ) -> PhaseSummary:
        testing = active.phase == "testing"
        meters = []
        for channel in active.channels:
            st = channel.sampler.stats
            acc = channel.stats
            meters.append(
                MeterPhaseSummary(
                    channel.name,
                    st,
                    acc.avg_watts,
                    acc.energy_joules,
                    acc.max_uncertainty_ratio,
                    acc.over_range,
                    acc.settling,
                )
            )
            name = channel.name
            if st.samples == 0:
                reasons.append(f"{name}: no samples")
            if st.gaps and st.max_gap_s > self._max_late_gap_s:
                reasons.append(
                    f"{name}: {st.gaps} gap(s), {st.missed_updates} missed update(s), "
                    f"longest {st.max_gap_s:.3f} s"
                )
            if st.transport_errors:
                reasons.append(
                    f"{name}: meter lost {st.transport_errors} time(s) (transport error), "
                    f"reconnected {st.reconnects} time(s)"
                )
            if channel.sampler.error is not None:
                reasons.append(f"{name}: sampler failed: {channel.sampler.error}")
            if testing and st.invalid_samples - acc.settling > 0:
                reasons.append(
                    f"{name}: {st.invalid_samples - acc.settling} invalid sample(s), "
                    f"{acc.over_range} over range"
                )
        ratios = [
            m.max_uncertainty_ratio for m in meters if not math.isnan(m.max_uncertainty_ratio)
        ]
        worst = max(ratios, default=math.nan)
        uncertainty_ok = None if math.isnan(worst) else worst <= UNCERTAINTY_LIMIT
        if testing and uncertainty_ok is False:
            reasons.append(f"W uncertainty up to {worst:.2%}, above the 1 % limit")
        avgs = [m.avg_watts for m in meters]
        return PhaseSummary(
            phase=active.phase,
            mark=active.mark,
            samples=sum(m.sampler.samples for m in meters),
            invalid_samples=sum(m.sampler.invalid_samples for m in meters),
            gaps=sum(m.sampler.gaps for m in meters),
            max_gap_s=max((m.sampler.max_gap_s for m in meters), default=0.0),
            avg_watts=math.nan if any(math.isnan(a) for a in avgs) else math.fsum(avgs),
            energy_joules=math.fsum(m.energy_joules for m in meters),
            ranges_chosen=tuple(chosen),
            max_uncertainty_ratio=worst,
            uncertainty_ok=uncertainty_ok,
            over_range_count=sum(m.over_range_count for m in meters),
            t_start_wall_ns=active.t_start_wall_ns,
            t_start_mono_ns=active.t_start_mono_ns,
            t_end_wall_ns=t_end_wall,
            t_end_mono_ns=t_end_mono,
            valid=not reasons,
            reasons=tuple(reasons),
            meters=tuple(meters),
        )
