"""The session power logs: written as samples arrive, flushed at least every second, read back.

Two files per meter and phase, appended by :class:`PowerLogWriter` (a
:class:`~power_director.sampler.SampleSink`):

* ``spl.txt``: PTDaemon-compatible lines (format in :mod:`power_director.spl`).
* ``samples.jsonl``: the machine-readable log, one JSON object per line, keyed by ``type``:

  - ``header``: ``format`` (``"wattbench-power-log"``), ``version``, ``meter``, ``phase``,
    ``mark``, ``period_s``;
  - ``sample``: ``meter``, ``mark``, ``t_mono_ns``, ``t_wall_ns``, ``valid``, ``flags``,
    ``watts`` (sum), ``watts_uncertainty`` (sum), and ``channels``: a list of objects with the
    :class:`~power_director.samples.ChannelReading` field names (``volts``, ``amps``, ``watts``,
    ``power_factor``, ``energy_joules``, ``volts_range``, ``amps_range``,
    ``watts_uncertainty``, ``valid``, ``flags``); NaN is written as ``null``;
  - ``gap``: the :class:`~power_director.sampler.Gap` fields;
  - ``event``: ``name`` plus free fields (phase start/stop, ranges set).

Both files are flushed whenever the injected monotonic clock shows ``flush_interval_s`` (1 s)
since the last flush, so a crash loses at most the last second; :meth:`PowerLogWriter.tick`
flushes due data when no sample arrives. The reader (:func:`read_power_log`) skips a truncated
last line, as left by a crash.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from power_director.sampler import Gap
from power_director.samples import ChannelReading, Sample
from power_director.spl import format_spl_line

log = logging.getLogger(__name__)

LOG_FORMAT = "wattbench-power-log"
LOG_VERSION = 1
_FLOATS = ("volts", "amps", "watts", "power_factor", "watts_uncertainty")
_OPTIONAL_FLOATS = ("energy_joules", "volts_range", "amps_range")


def _json_float(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def channel_record(reading: ChannelReading) -> dict[str, Any]:
    """Return the JSON object of one channel reading."""
    record: dict[str, Any] = {name: _json_float(getattr(reading, name)) for name in _FLOATS}
    for name in _OPTIONAL_FLOATS:
        record[name] = _json_float(getattr(reading, name))
    record["valid"] = reading.valid
    record["flags"] = sorted(reading.flags)
    return record


def sample_record(sample: Sample, mark: str) -> dict[str, Any]:
    """Return the JSON object of one sample."""
    return {
        "type": "sample",
        "meter": sample.meter,
        "mark": mark,
        "t_mono_ns": sample.t_mono_ns,
        "t_wall_ns": sample.t_wall_ns,
        "valid": sample.valid,
        "flags": sorted(sample.flags),
        "watts": _json_float(sample.total_watts),
        "watts_uncertainty": _json_float(sample.total_watts_uncertainty),
        "channels": [channel_record(c) for c in sample.channels],
    }


def gap_record(gap: Gap) -> dict[str, Any]:
    """Return the JSON object of one gap."""
    return {
        "type": "gap",
        "meter": gap.meter,
        "t_mono_start_ns": gap.t_mono_start_ns,
        "t_mono_end_ns": gap.t_mono_end_ns,
        "t_wall_start_ns": gap.t_wall_start_ns,
        "missed_updates": gap.missed_updates,
        "reason": gap.reason,
        "duration_s": gap.duration_s,
    }


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def reading_from_record(record: Mapping[str, Any]) -> ChannelReading:
    """Rebuild a :class:`ChannelReading` from its JSON object."""
    return ChannelReading(
        volts=_float(record["volts"]),
        amps=_float(record["amps"]),
        watts=_float(record["watts"]),
        power_factor=_float(record["power_factor"]),
        energy_joules=_optional(record.get("energy_joules")),
        volts_range=_optional(record.get("volts_range")),
        amps_range=_optional(record.get("amps_range")),
        watts_uncertainty=_float(record.get("watts_uncertainty")),
        valid=bool(record["valid"]),
        flags=frozenset(record.get("flags", ())),
    )


@dataclass(frozen=True, slots=True)
class LoggedSample:
    """A sample read back from a power log, with the mark it was taken under."""

    sample: Sample
    mark: str


@dataclass(frozen=True)
class PowerLog:
    """Everything in one ``samples.jsonl`` file.

    Attributes:
        header: the header record (empty if the file had none).
        samples: the samples, in file order.
        gaps: the gap records, in file order.
        events: the event records.
    """

    header: Mapping[str, Any] = field(default_factory=dict)
    samples: tuple[LoggedSample, ...] = ()
    gaps: tuple[Gap, ...] = ()
    events: tuple[Mapping[str, Any], ...] = ()


def iter_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a ``samples.jsonl`` file; skip (and log) undecodable lines."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            record = decode_line(line, path, number)
            if record is not None:
                yield record


def decode_line(line: str, path: str | os.PathLike[str], number: int) -> dict[str, Any] | None:
    """Decode line ``number`` of ``path``; None for a blank line or one that is not JSON (logged).

    A crash can leave the last line truncated; everything before it is still good.
    """
    if not line.strip():
        return None
    try:
        record: dict[str, Any] = json.loads(line)
    except json.JSONDecodeError:
        log.warning("%s line %d is not JSON (truncated by a crash?): %r", path, number, line)
        return None
    return record


def record_to_sample(record: Mapping[str, Any]) -> LoggedSample:
    """Rebuild a :class:`LoggedSample` from a ``sample`` record."""
    channels = tuple(reading_from_record(c) for c in record["channels"])
    sample = Sample(int(record["t_wall_ns"]), int(record["t_mono_ns"]), record["meter"], channels)
    return LoggedSample(sample, str(record.get("mark", "")))


def record_to_gap(record: Mapping[str, Any]) -> Gap:
    """Rebuild a :class:`~power_director.sampler.Gap` from a ``gap`` record."""
    return Gap(
        record["meter"],
        int(record["t_mono_start_ns"]),
        int(record["t_mono_end_ns"]),
        int(record["t_wall_start_ns"]),
        int(record["missed_updates"]),
        record["reason"],
    )


def read_power_log(path: str | os.PathLike[str]) -> PowerLog:
    """Read a ``samples.jsonl`` file back."""
    header: Mapping[str, Any] = {}
    samples: list[LoggedSample] = []
    gaps: list[Gap] = []
    events: list[Mapping[str, Any]] = []
    for record in iter_records(path):
        kind = record.get("type")
        if kind == "sample":
            samples.append(record_to_sample(record))
        elif kind == "gap":
            gaps.append(record_to_gap(record))
        elif kind == "header":
            header = record
        elif kind == "event":
            events.append(record)
    return PowerLog(header, tuple(samples), tuple(gaps), tuple(events))


class PowerLogWriter:
    """Append samples to ``spl.txt`` and ``samples.jsonl``; a sampler sink.

    Args:
        spl_path: the ``spl.txt`` file (None writes none, e.g. when another writer merges).
        jsonl_path: the JSON-lines file.
        meter: meter name (header).
        phase: phase name (header).
        mark: written on every line (PTDaemon's ``Mark`` column).
        period_s: the sampling period (header).
        clock_ns: monotonic clock for the flush cadence, ns.
        flush_interval_s: flush when this much time passed since the last flush, s.
        fsync: also ``os.fsync`` on flush (survives power loss, not only a process crash).
    """

    def __init__(
        self,
        spl_path: Path | None,
        jsonl_path: Path,
        *,
        meter: str,
        phase: str,
        mark: str,
        period_s: float | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        flush_interval_s: float = 1.0,
        fsync: bool = False,
    ) -> None:
        self.spl_path = spl_path
        self.jsonl_path = jsonl_path
        self.mark = mark
        self._clock_ns = clock_ns
        self._flush_ns = round(flush_interval_s * 1e9)
        self._fsync = fsync
        self._files: list[IO[str]] = []
        self._spl: IO[str] | None = None
        if spl_path is not None:
            self._spl = open(spl_path, "a", encoding="ascii", newline="\n")  # noqa: SIM115
            self._files.append(self._spl)
        self._jsonl: IO[str] = open(jsonl_path, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._files.append(self._jsonl)
        self._last_flush_ns = clock_ns()
        self._dirty = False
        self.flushes = 0
        self._write_json(
            {
                "type": "header",
                "format": LOG_FORMAT,
                "version": LOG_VERSION,
                "meter": meter,
                "phase": phase,
                "mark": mark,
                "period_s": period_s,
            }
        )
        self.flush()

    def on_sample(self, sample: Sample) -> None:
        """Append ``sample`` to both files."""
        if self._spl is not None:
            self._spl.write(format_spl_line(sample.t_wall_ns, sample.channels, self.mark) + "\n")
        self._write_json(sample_record(sample, self.mark))
        self.tick()

    def on_gap(self, gap: Gap) -> None:
        """Append a gap record (JSON log only: ``spl.txt`` has no such line)."""
        self._write_json(gap_record(gap))
        self.tick()

    def write_event(self, name: str, **fields: Any) -> None:
        """Append an event record (phase boundaries, ranges set)."""
        self._write_json({"type": "event", "name": name, **fields})
        self.tick()

    def tick(self) -> None:
        """Flush if data is pending and the flush interval has passed."""
        if self._dirty and self._clock_ns() - self._last_flush_ns >= self._flush_ns:
            self.flush()

    def flush(self) -> None:
        """Flush both files now."""
        for handle in self._files:
            handle.flush()
            if self._fsync:
                os.fsync(handle.fileno())
        self._last_flush_ns = self._clock_ns()
        self._dirty = False
        self.flushes += 1

    def close(self) -> None:
        """Flush and close both files; further calls do nothing."""
        if not self._files:
            return
        self.flush()
        for handle in self._files:
            handle.close()
        self._files = []

    @property
    def paths(self) -> list[Path]:
        """Return the files this writer appends to."""
        return [p for p in (self.spl_path, self.jsonl_path) if p is not None]

    def _write_json(self, record: Mapping[str, Any]) -> None:
        self._jsonl.write(json.dumps(record, allow_nan=False, separators=(",", ":")) + "\n")
        self._dirty = True
