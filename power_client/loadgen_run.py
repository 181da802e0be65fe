"""One LoadGen run as read from its logs, and the run that belongs to a measurement phase.

:func:`read_loadgen_run` turns an ``mlperf_log_detail.txt`` (ours or the official
``mlperf_loadgen``'s) and the summary log next to it into a :class:`LoadgenRunInfo`.
:func:`find_detail_log` searches folders for the detail log whose performance window
(``power_begin``/``power_end``, UTC) lies inside a phase's time bounds::

    info = find_detail_log([out_dir, cwd], phase_begin_ns, phase_end_ns, phase="testing")
    print(info.scenario, info.metric, info.power_end_ns - info.power_begin_ns)

The performance metric follows the MLPerf submission checker (``RESULT_FIELD_NEW``):
SingleStream ``early_stopping_latency_ss``, MultiStream ``early_stopping_latency_ms``, Server
``result_completed_samples_per_sec``, Offline ``result_samples_per_second``.

Errors: :class:`~power_client.errors.LoadgenLogError` naming every file looked at, its window
and the phase bounds as UTC times.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadgen.errors import LogFormatError
from loadgen.log_reader import DetailLogReader
from power_client.errors import LoadgenLogError

log = logging.getLogger(__name__)

OURS_MARK = "wattbench-loadgen"
"""Part of ``loadgen_version`` in logs written by our LoadGen (``6.0.17 @ wattbench-loadgen``)."""

_NS_PER_MS = 1_000_000
_NS_PER_S = 1_000_000_000
# detail-log key -> unit; the first one present is the scenario's MLPerf metric
_METRIC_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "SingleStream": (("early_stopping_latency_ss", "ns"), ("early_stopping_latency_ms", "ns")),
    "MultiStream": (("early_stopping_latency_ms", "ns"),),
    "Server": (
        ("result_completed_samples_per_sec", "samples/s"),
        ("result_scheduled_samples_per_sec", "samples/s"),
    ),
    "Offline": (("result_samples_per_second", "samples/s"),),
}
_THROUGHPUT_KEYS = {
    "Server": "result_completed_samples_per_sec",
    "Offline": "result_samples_per_second",
}


@dataclass(frozen=True)
class PerformanceMetric:
    """One performance figure: its detail-log key, value and unit (``ns`` or ``samples/s``)."""

    name: str
    value: float
    unit: str


@dataclass(frozen=True)
class LoadgenRunInfo:
    """What the power client needs from one LoadGen run.

    ``power_begin_ns``/``power_end_ns`` are the performance pass's window (the last
    ``power_begin``/``power_end`` pair of the log) in ns since the epoch, UTC, at the logs'
    ms resolution. ``metrics`` starts with the scenario's MLPerf metric. ``samples_processed``
    is ``result_query_count`` x ``samples_per_query`` (None without a result, e.g. accuracy
    mode). ``throughput_samples_per_s`` is LoadGen's figure for Offline and Server and
    ``samples_processed`` over the window for SingleStream and MultiStream.
    """

    detail_log: Path
    summary_log: Path | None
    scenario: str
    mode: str
    result_validity: str  # "VALID", "INVALID", or "" when the log has no result
    early_stopping_met: bool | None
    invalid_reason: str
    power_begin_ns: int
    power_end_ns: int
    result_query_count: int | None
    samples_per_query: int
    samples_processed: int | None
    metrics: tuple[PerformanceMetric, ...]
    throughput_samples_per_s: float | None
    loadgen_version: str
    official: bool

    @property
    def valid(self) -> bool:
        """Return True when LoadGen judged the run VALID."""
        return self.result_validity == "VALID"

    @property
    def metric(self) -> PerformanceMetric | None:
        """Return the scenario's MLPerf performance metric, or None when the log has none."""
        return self.metrics[0] if self.metrics else None

    @property
    def duration_ns(self) -> int:
        """Return the length of the performance window. Units: ns."""
        return self.power_end_ns - self.power_begin_ns

    def to_json(self, relative_to: Path | None = None) -> dict[str, Any]:
        """Return a JSON-ready dict (for ``result.json``); paths relative to ``relative_to``."""

        def where(path: Path | None) -> str | None:
            if path is None:
                return None
            if relative_to is not None and path.is_relative_to(relative_to):
                return path.relative_to(relative_to).as_posix()
            return str(path)

        metric = self.metric
        return {
            "detail_log": where(self.detail_log),
            "summary_log": where(self.summary_log),
            "scenario": self.scenario,
            "mode": self.mode,
            "result_validity": self.result_validity,
            "early_stopping_met": self.early_stopping_met,
            "invalid_reason": self.invalid_reason,
            "power_begin": format_utc_ns(self.power_begin_ns),
            "power_end": format_utc_ns(self.power_end_ns),
            "power_begin_ns": self.power_begin_ns,
            "power_end_ns": self.power_end_ns,
            "query_count": self.result_query_count,
            "samples_per_query": self.samples_per_query,
            "samples_processed": self.samples_processed,
            "performance": None if metric is None else dataclasses.asdict(metric),
            "metrics": [dataclasses.asdict(m) for m in self.metrics],
            "throughput_samples_per_s": self.throughput_samples_per_s,
            "loadgen_version": self.loadgen_version,
            "official_loadgen": self.official,
        }


def format_utc_ns(ns: int) -> str:
    """Return ``ns`` since the epoch as ISO 8601 UTC to the µs (``2026-11-22T12:28:57.554000Z``)."""
    t = dt.datetime.fromtimestamp(ns // _NS_PER_S, tz=dt.timezone.utc)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{(ns % _NS_PER_S) // 1000:06d}Z"


def summary_log_path(detail_log: Path) -> Path:
    """Return the summary log that belongs to ``detail_log`` (same prefix and suffix)."""
    head, sep, tail = detail_log.name.rpartition("detail")
    return detail_log.with_name(f"{head}summary{tail}" if sep else "mlperf_log_summary.txt")


def read_loadgen_run(detail_log: str | Path) -> LoadgenRunInfo:
    """Read ``detail_log`` (and the summary log next to it, if there is one).

    Raises:
        LoadgenLogError: the file is missing, not a detail log, or has no
            ``power_begin``/``power_end`` pair; the message names the file.
    """
    path = Path(detail_log)
    try:
        reader = DetailLogReader(path)
        window = reader.performance_window()
    except (LogFormatError, OSError) as e:
        raise LoadgenLogError(f"cannot use LoadGen detail log {path}: {e}") from e
    scenario = str(reader.get("effective_scenario", reader.get("requested_scenario", "")))
    summary = summary_log_path(path)
    summary_path = summary if summary.is_file() else None
    validity = str(reader.get("result_validity", "")) or _summary_validity(summary_path)
    query_count = _optional_int(reader.get("result_query_count"))
    spq_values = reader.all("generated_samples_per_query")
    samples_per_query = int(
        spq_values[-1] if spq_values else reader.get("effective_samples_per_query", 1)
    )
    processed = None if query_count is None else query_count * samples_per_query
    version = str(reader.get("loadgen_version", ""))
    early = reader.get("early_stopping_met")
    return LoadgenRunInfo(
        detail_log=path,
        summary_log=summary_path,
        scenario=scenario,
        mode=str(reader.get("effective_test_mode", reader.get("requested_test_mode", ""))),
        result_validity=validity,
        early_stopping_met=None if early is None else bool(early),
        invalid_reason=str(reader.get("result_invalid_reason", "")).strip(),
        power_begin_ns=window.begin_ns,
        power_end_ns=window.end_ns,
        result_query_count=query_count,
        samples_per_query=samples_per_query,
        samples_processed=processed,
        metrics=_metrics(reader, scenario),
        throughput_samples_per_s=_throughput(
            reader, scenario, processed, window.end_ns - window.begin_ns
        ),
        loadgen_version=version,
        official=OURS_MARK not in version,
    )


def find_detail_log(
    candidates: Iterable[str | Path],
    phase_begin_ns: int,
    phase_end_ns: int,
    *,
    phase: str = "",
    tolerance_ns: int = 0,
) -> LoadgenRunInfo:
    """Return the newest detail log whose performance window lies inside the phase.

    Args:
        candidates: detail-log files, or folders searched recursively for ``*detail*.txt``
            (hidden folders skipped); newest (by modification time) first.
        phase_begin_ns: phase start, ns since the epoch (UTC). LoadGen truncates its
            timestamps to ms, so a window may begin in the phase's first ms.
        phase_end_ns: phase end, ns since the epoch (UTC).
        phase: the phase's name, for messages.
        tolerance_ns: widen the phase by this much on both sides (clock differences).

    Raises:
        LoadgenLogError: no detail log, none with a ``power_begin``/``power_end`` pair, or
            none whose window is inside the phase; the message lists every file looked at
            with its window and the phase bounds as UTC times.
    """
    roots = [Path(c) for c in candidates]
    bounds = f"[{format_utc_ns(phase_begin_ns)}, {format_utc_ns(phase_end_ns)}]"
    what = f"the {phase} phase {bounds}" if phase else f"the phase {bounds}"
    files = _detail_logs(roots)
    if not files:
        where = ", ".join(str(r) + ("" if r.exists() else " (missing)") for r in roots)
        raise LoadgenLogError(
            f"no LoadGen detail log (*detail*.txt) for {what} under {where or '(nothing)'}; "
            f"did the workload write its logs to $WATTBENCH_OUTPUT_DIR or its working folder?"
        )
    lo = phase_begin_ns - phase_begin_ns % _NS_PER_MS - tolerance_ns
    hi = phase_end_ns + tolerance_ns
    notes: list[str] = []
    for path in files:
        try:
            info = read_loadgen_run(path)
        except LoadgenLogError as e:
            cause = e.__cause__
            # a LogFormatError names the file (and line) itself
            notes.append(str(cause) if isinstance(cause, LogFormatError) else f"{path}: {e}")
            continue
        begin, end = info.power_begin_ns, info.power_end_ns
        window = f"window {format_utc_ns(begin)} to {format_utc_ns(end)}"
        if begin < lo:
            s = (phase_begin_ns - begin) / _NS_PER_S
            notes.append(f"{path}: {window} begins {s:.3f} s before the phase")
        elif end > hi:
            s = (end - phase_end_ns) / _NS_PER_S
            notes.append(f"{path}: {window} ends {s:.3f} s after the phase")
        else:
            log.info("%s: LoadGen %s inside %s", path, window, what)
            return info
    listing = "\n  ".join(notes)
    raise LoadgenLogError(
        f"no LoadGen detail log whose performance window lies inside {what}; "
        f"looked at:\n  {listing}"
    )


def _detail_logs(roots: list[Path]) -> list[Path]:
    mtime_ns: dict[Path, int] = {}
    for root in roots:
        found = [root] if root.is_file() else _walk_detail_logs(root) if root.is_dir() else []
        for path in found:
            key = path.resolve()
            if key not in mtime_ns:
                mtime_ns[key] = path.stat().st_mtime_ns
    return sorted(mtime_ns, key=lambda p: mtime_ns[p], reverse=True)


def _walk_detail_logs(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [Path(folder, n) for n in names if "detail" in n and n.endswith(".txt")]
    return found


def _metrics(reader: DetailLogReader, scenario: str) -> tuple[PerformanceMetric, ...]:
    return tuple(
        PerformanceMetric(key, float(reader[key]), unit)
        for key, unit in _METRIC_KEYS.get(scenario, ())
        if isinstance(reader.get(key), int | float)
    )


def _throughput(
    reader: DetailLogReader, scenario: str, processed: int | None, window_ns: int
) -> float | None:
    key = _THROUGHPUT_KEYS.get(scenario)
    if key is not None:
        value = reader.get(key)
        return float(value) if isinstance(value, int | float) else None
    if processed is None or window_ns <= 0:
        return None
    return processed * _NS_PER_S / window_ns


def _optional_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _summary_validity(summary: Path | None) -> str:
    if summary is None:
        return ""
    for line in summary.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "Result is":
            return value.strip()
    return ""
